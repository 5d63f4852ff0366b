"""Remove extraction noise that does not change meaning: breaks, bullets, blank runs."""

from __future__ import annotations

import re

# Bullet glyphs as OCR renders them at the start of a line: "e ", "o ", "¢ ", "* ", "» ",
# "P> ", "} ", "• ". A letter counts as a bullet only before a capital (or the OCR'd "|").
_BULLET = re.compile(r"^\s*(?:[*•·¢»>}▪■◦‣–-]+|P>|P(?=\s+[A-ZÉÈÀÂ])|[eo](?=\s+[A-ZÉÈÀÂ|]))\s+")
_HYPHENATED = re.compile(r"(\w+)-\n\s*(\w+)")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
_BLANK_RUN = re.compile(r"\n\s*\n(\s*\n)+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "\u00ad": ""})
_WORD = re.compile(r"\w+")


BULLET = "• "


def strip_bullet(line: str) -> str:
    """A line without its leading bullet glyph."""
    return _BULLET.sub("", line, count=1)


def normalize_bullet(line: str) -> str:
    """A line whose OCR'd bullet glyph ("e", "¢", "»"…) becomes one real bullet "• "."""
    stripped = strip_bullet(line)
    return BULLET + stripped.lstrip() if stripped != line else line


def _join_hyphenation(text: str) -> str:
    """Join words split by an end-of-line hyphen.

    "élabo-\\nrer" becomes "élaborer" when "élaborer" occurs elsewhere in the text;
    otherwise the hyphen is a real one ("communes-\\nmembres") and only the break goes.
    """
    vocabulary = {w.lower() for w in _WORD.findall(text)}

    def join(match: re.Match) -> str:
        left, right = match.group(1), match.group(2)
        joined = left + right
        return joined if joined.lower() in vocabulary else f"{left}-{right}"

    return _HYPHENATED.sub(join, text)


def clean_text(text: str) -> str:
    """Normalise spaces and apostrophes, drop bullets and blank runs, join hyphenation."""
    text = text.translate(_APOSTROPHES).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"'{2,}", "'", text)
    text = _join_hyphenation(text)
    # A number cut by the layout ("moins de 3\n500 habitants") is one number.
    text = re.sub(r"(\b\d{1,3})[ \t]*\n[ \t]*(\d{3}\b)", r"\1 \2", text)
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", normalize_bullet(line)).strip()
        # Lone glyphs left by logos and slide decorations ("r", ">", "&") carry nothing.
        if len(strip_bullet(line)) <= 2 and not any(c.isdigit() for c in line):
            line = ""
        lines.append(line)
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def display_text(text: str) -> str:
    """Text as shown to a reader: one paragraph per blank-line block, lines joined."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n".join(p for p in paragraphs if p)
