"""Which language a question is in (French or English), and French parts of speech."""

from __future__ import annotations

import re
from functools import lru_cache

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
# Words that open an English question and never a French one. English questions often name
# French institutions ("Does my communauté de communes…"), whose words must not outvote them.
_EN_OPENERS = {
    "does",
    "do",
    "is",
    "are",
    "what",
    "which",
    "who",
    "how",
    "can",
    "should",
    "must",
    "when",
    "why",
    "where",
    "will",
    "has",
    "have",
}
_OPENER_WEIGHT = 3
_WORD = re.compile(r"[a-zA-Zàâçéèêëîïôûùüÿœ']+")


def detect_language(text: str) -> str:
    """'en' when English function words outweigh French ones, else 'fr'.

    The question's first word weighs more: an English opener ("Does", "What"…) is the
    surest sign, whatever French names follow.
    """
    words = [w.lower().strip("'") for w in _WORD.findall(text)]
    en = sum(w in _EN for w in words)
    fr = sum(w in _FR for w in words)
    if words and words[0] in _EN_OPENERS:
        en += _OPENER_WEIGHT
    if any(c in text for c in "àâçéèêëîïôûùœ"):
        fr += 1
    return "en" if en > fr else "fr"


# French as typed in a chat: the short spellings of question words and their common
# companions, written out so that every reading of the question (its form, its words)
# meets them as the documents spell them. The language's, not a corpus's.
_CHAT_SPELLINGS = {
    "koi": "quoi",
    "ki": "qui",
    "kel": "quel",
    "kelle": "quelle",
    "kels": "quels",
    "kelles": "quelles",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pkoi": "pourquoi",
    "pourkoi": "pourquoi",
    "qd": "quand",
    "cb": "combien",
    "cmb": "combien",
    "bcp": "beaucoup",
    "ds": "dans",
    "pr": "pour",
    "qqn": "quelqu'un",
    "qqch": "quelque chose",
    "tjs": "toujours",
    "tjrs": "toujours",
    "svp": "s'il vous plaît",
    "stp": "s'il te plaît",
}
# As typed, lower case or capitalised: « DS », « PR » in capitals are acronyms.
_CHAT_WORD = re.compile(
    rf"(?<![\w'’-])(?:{'|'.join(w for s in _CHAT_SPELLINGS for w in (s, s.capitalize()))})"
    r"(?![\w'’-])"
)
# « c koi », « c qui », « c obligatoire ? »: a lone « c » before a word is « c'est » (a
# capital one only opening the question: « l'annexe C du rapport » is a name).
_CHAT_C = re.compile(r"(?:(?<![\w'’.-])c|^C)(?=\s+[^\W\d_])")


def written_out(question: str) -> str:
    """The question with its chat spellings written out: « ADULLACT c koi ? » reads
    « ADULLACT c'est quoi ? »."""

    def spelled(match: re.Match) -> str:
        typed = match.group()
        full = _CHAT_SPELLINGS.get(typed.lower(), "c'est")
        return full.capitalize() if typed[0].isupper() else full

    return _CHAT_C.sub(spelled, _CHAT_WORD.sub(spelled, question))


@lru_cache(maxsize=1)
def french_tagger():
    """spaCy's small French model, tagger only, loaded once (several seconds)."""
    import spacy

    return spacy.load("fr_core_news_sm", exclude=["parser", "ner", "lemmatizer", "senter"])
