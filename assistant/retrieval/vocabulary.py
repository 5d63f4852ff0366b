"""What a corpus teaches about its own words: acronyms it defines, and OCR misreadings.

Both are read from the indexed texts, for any corpus, with no list of words:
- `acronym_pairs`: "Délégué à la protection des données (DPO)" defines DPO (Schwartz &
  Hearst 2003: the shortest run of words before the parentheses in which the short form's
  letters appear in order, the first one starting a word; or "DPO (Délégué …)"; or
  "… des données personnelles ou RGPD"; or "RGAA - Référentiel Général …");
- `ocr_corrections`: a token that is rare in the corpus, one edit away from a frequent one,
  and whose spellings are not French words ("infercommunalités" beside a hundred
  "intercommunalités") is read as the frequent one;
- `ocr_readings`: the same misreadings as words a reader sees ("infercommunalités" →
  "intercommunalités"), and the words whose accents the OCR lost or doubled beside the
  corpus's own accented spelling ("numerique" → "numérique"), for the answers' quotes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable

from rapidfuzz.distance import Levenshtein

_PARENTHESES = re.compile(r"([^()\n]{3,200}?)\s*\(\s*([^()\n]{2,120}?)\s*\)")
# « … des données personnelles ou RGPD », « … du numérique ou « REEN » »: a long form named
# by its acronym after « ou ».
_OR_SHORT = re.compile(r"([^()\n]{3,200}?)\s+ou\s+[«\"]?\s*([^\W\d_][\w&.-]{1,9})(?![\w&-])")
# « RGAA - Référentiel Général d'Accessibilité pour les Administrations » (up to the end
# of the clause, across a line break).
_SHORT_DASH = re.compile(
    r"(?<![\w&.-])([^\W\d_][\w&.-]{1,9})\s+[-–]\s+([^()\n,;.]{3,120}(?:\n[^()\n,;.]{1,120})?)"
)
_SHORT_FORM = re.compile(r"^[^\W\d_][\w&.-]{1,9}$")
_ELIDED = re.compile(r"^(?:l|d)['’]", re.IGNORECASE)

# OCR corrections: how rare the misreading, how frequent the word it stands for (and how
# many times as frequent: a misreading repeated on a few pages is still rare beside it).
RARE, FREQUENT, RATIO, MIN_LENGTH = 5, 8, 5, 6
# Letters French elides before a vowel: « daccompagnement » lost the apostrophe of
# « d'accompagnement ».
_ELIDABLE = "cdjlmnst"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _is_short_form(word: str) -> bool:
    return bool(_SHORT_FORM.match(word)) and sum(c.isupper() for c in word) >= 2


def long_form(short: str, words: str) -> str | None:
    """The shortest end of `words` spelling `short` (Schwartz & Hearst), or None."""
    s, text = _fold(short), _fold(words)
    si, ti = len(s) - 1, len(text) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while ti >= 0 and (text[ti] != c or (si == 0 and ti > 0 and text[ti - 1].isalnum())):
            ti -= 1
        if ti < 0:
            return None
        si, ti = si - 1, ti - 1
    start = text.rfind(" ", 0, ti + 1) + 1
    found = _ELIDED.sub("", words[start:].strip())
    size = len(found.split())
    return found if 2 <= size <= min(len(short) + 5, 2 * len(short)) else None


def acronym_pairs(texts: Iterable[str]) -> list[tuple[str, str]]:
    """(short form, long form) pairs the texts define, each once, in order of first sight."""
    pairs: dict[tuple[str, str], None] = {}
    for text in texts:
        for match in _PARENTHESES.finditer(text):
            before, inside = match.group(1), match.group(2).strip()
            words = before.split()
            if _is_short_form(inside):  # "Délégué à la protection des données (DPO)"
                window = " ".join(words[-min(len(inside) + 5, 2 * len(inside)) :])
                found = long_form(inside, window)
                if found:
                    pairs[(inside, found)] = None
            elif words and _is_short_form(words[-1]):  # "DPO (Délégué à la protection …)"
                found = long_form(words[-1], inside)
                if found and found == _ELIDED.sub("", inside):
                    pairs[(words[-1], found)] = None
        for match in _OR_SHORT.finditer(text):
            short = match.group(2).rstrip(".")  # the sentence's full stop
            if _is_short_form(short):
                window = " ".join(match.group(1).split()[-min(len(short) + 5, 2 * len(short)) :])
                found = long_form(short, window)
                if found:
                    pairs[(short, found)] = None
        for match in _SHORT_DASH.finditer(text):
            short, after = match.group(1), " ".join(match.group(2).split())
            found = _is_short_form(short) and long_form(short, after)
            if found and found == _ELIDED.sub("", after):
                pairs[(short, found)] = None
    return list(pairs)


def ocr_corrections(surface_counts: Counter[tuple[str, str]], is_word: callable) -> dict[str, str]:
    """Rare token → frequent token, from (surface word, token) counts over the corpus.

    `is_word` says whether a surface word is a word of the language: a rare token with any
    such spelling is left alone.
    """
    counts: Counter[str] = Counter()
    spellings: dict[str, set[str]] = {}
    for (surface, token), n in surface_counts.items():
        counts[token] += n
        spellings.setdefault(token, set()).add(surface)
    frequent = sorted((t for t, n in counts.items() if n >= FREQUENT and not t.isdigit()))
    by_length: dict[int, list[str]] = {}
    for token in frequent:
        by_length.setdefault(len(token), []).append(token)
    corrections = {}
    for token, n in counts.items():
        if n > RARE or len(token) < MIN_LENGTH or any(c.isdigit() for c in token):
            continue
        if any(is_word(s) for s in spellings[token]):
            continue
        near = [
            f
            for size in (len(token) - 1, len(token), len(token) + 1)
            for f in by_length.get(size, ())
            if counts[f] >= RATIO * n and Levenshtein.distance(token, f, score_cutoff=1) <= 1
        ]
        if len(near) == 1:  # two candidates: nothing says which one was meant
            corrections[token] = near[0]
    return corrections


def ocr_readings(
    surface_counts: Counter[tuple[str, str]],
    corrections: dict[str, str],
    is_word: Callable[[str], bool],
) -> dict[str, str]:
    """Misread word → the word a reader should see, both lower case as written.

    From the (surface word, token) counts over the corpus, a spelling that is no word of the
    language is read, in this order, as
    1. the spelling one edit away of the token `corrections` reads its token as;
    2. the corpus's most frequent word spelled the same but for its accents ("numerique");
    3. the one frequent word one edit away, when it is rare (as `ocr_corrections` reads
       tokens, here for words, so "humérique" is "numérique" whatever its stem), unless
       they differ by an ending only (a plural, a feminine).
    """
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for (surface, token), n in surface_counts.items():
        counts[surface] += n
        spellings.setdefault(token, Counter())[surface] += n
    unaccented: dict[str, list[str]] = {}
    for surface in counts:
        unaccented.setdefault(_fold(surface), []).append(surface)
    words = {w for w in counts if is_word(w)}
    frequent: dict[int, list[str]] = {}
    for word in words:
        if counts[word] >= FREQUENT:
            frequent.setdefault(len(_fold(word)), []).append(word)

    def one_edit(surface: str, candidates: Iterable[str]) -> list[str]:
        return [
            word
            for word in candidates
            if Levenshtein.distance(_fold(surface), _fold(word), score_cutoff=1) <= 1
        ]

    readings = {}
    for surface, token in surface_counts:
        if surface in readings or surface in words:
            continue
        n, folded = counts[surface], _fold(surface)
        if token in corrections:
            near = one_edit(surface, (w for w, _ in spellings[corrections[token]].most_common()))
            if near:
                readings[surface] = near[0]
                continue
        same = [w for w in unaccented[folded] if w != surface and w in words and counts[w] > n]
        if same:
            readings[surface] = max(same, key=counts.__getitem__)
            continue
        if n <= RARE and len(surface) >= MIN_LENGTH:
            sizes = (len(folded) - 1, len(folded), len(folded) + 1)
            near = [
                word
                for word in one_edit(surface, (w for size in sizes for w in frequent.get(size, ())))
                if counts[word] >= RATIO * n and folded.rstrip("sxe") != _fold(word).rstrip("sxe")
            ]
            if len(near) == 1:  # two candidates: nothing says which one was meant
                readings[surface] = near[0]
    return {surface: _elided(surface, word) for surface, word in readings.items()}


def _elided(surface: str, word: str) -> str:
    """The reading with the elided article the OCR glued to it: « daccompagnement » reads
    « d'accompagnement », not « accompagnement »."""
    if surface[0] in _ELIDABLE and _fold(surface[1:]) == _fold(word) and word[0] in "aeéèêiouyh":
        return f"{surface[0]}'{word}"
    return word
