"""Tolerant text matching shared by the gold-set checks and the metrics.

OCR noise, accents, apostrophes and French number formats ("50 000", "50000",
"50.000", "50 000") must not decide whether a fact or a quote is found.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
# A digit group separator between two digit groups: space, no-break spaces, dot, comma
# followed by exactly three digits ("50 000", "50.000", "1,000,000").
_THOUSANDS = re.compile(r"(?<=\d)[\s\u00a0\u202f.,](?=\d{3}(?!\d))")
_HYPHEN_BREAK = re.compile(r"(\w)-\s*\n\s*(\w)")


def fold(text: str) -> str:
    """Lower-case, strip accents and unify ligatures (œ → oe)."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalize(text: str) -> str:
    """Reduce text to its words and numbers, single-spaced, for substring matching.

    Thousands separators inside numbers are removed so every French spelling of a
    number compares equal; a word split by an end-of-line hyphen is joined.
    """
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = _THOUSANDS.sub("", text)
    return " ".join(_WORD.findall(fold(text)))


def contains(haystack: str, needle: str) -> bool:
    """True when the normalized needle occurs in the normalized haystack on word boundaries."""
    n = normalize(needle)
    if not n:
        return False
    return f" {n} " in f" {normalize(haystack)} "
