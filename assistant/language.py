"""Which language a question is in: French or English."""

from __future__ import annotations

import re

_EN = {
    "the",
    "is",
    "are",
    "does",
    "do",
    "what",
    "which",
    "who",
    "how",
    "my",
    "our",
    "need",
    "must",
    "of",
    "and",
    "to",
    "in",
    "for",
    "have",
    "has",
    "when",
    "why",
    "it",
    "this",
    "that",
    "with",
    "about",
    "should",
    "can",
    "there",
    "many",
    "much",
    "say",
    "said",
}
_FR = {
    "le",
    "la",
    "les",
    "est",
    "sont",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "qui",
    "comment",
    "ma",
    "mon",
    "notre",
    "nos",
    "doit",
    "doivent",
    "de",
    "des",
    "du",
    "et",
    "pour",
    "dans",
    "une",
    "un",
    "au",
    "aux",
    "que",
    "quoi",
    "combien",
    "pourquoi",
    "quand",
    "il",
    "elle",
    "ce",
    "cette",
    "avec",
    "sur",
    "a",
    "y",
    "en",
    "ont",
    "faut",
}
_WORD = re.compile(r"[a-zA-Zàâçéèêëîïôûùüÿœ']+")


def detect_language(text: str) -> str:
    """'en' when English function words outnumber French ones, else 'fr'."""
    words = [w.lower().strip("'") for w in _WORD.findall(text)]
    en = sum(w in _EN for w in words)
    fr = sum(w in _FR for w in words)
    if any(c in text for c in "àâçéèêëîïôûùœ"):
        fr += 1
    return "en" if en > fr else "fr"
