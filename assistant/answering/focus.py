"""What a question asks for (its focus noun) and whether quoted sentences name it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from assistant.glossary import expand_query, query_concepts
from assistant.retrieval.fusion import Hit
from assistant.retrieval.lexical import Bm25Index, tokenize
from assistant.retrieval.units import MISREAD_I

# What a question asks for: the noun after "quel(le)s", "combien de", "how many", "which".
_FOCUS = re.compile(
    r"\b(?:quel(?:le)?s?\s+(?:(?:est|sont|étaient|était|seront|sera)\s+(?:(?:les|la|le)\s+|l'))?"
    r"|(?P<count>combien\s+(?:de|d')\s*|how\s+many\s+)|(?:what|which)\s+(?:(?:are|is|were|was)\s+the\s+)?)"
    r"(?:\d+\s+)?"  # "quelles sont les 10 étapes"
    r"(?:(?:principa\w+|grand\w*|autres?|nouve\w+|premi\w+|dernie\w+|seul\w*|main|other)\s+)?"
    r"(?!(?:est|sont|étaient|était|seront|sera|is|are|was|were)\b)(?P<word>[^\W\d_][\w-]*)",
    re.IGNORECASE,
)
# Nouns naming the kind of value asked for rather than a topic: the answer gives the value
# ("GIP Recia", "12 %", "le 9 décembre"), seldom the word itself.
_VALUE_NOUNS = {
    "part", "parts", "proportion", "pourcentage", "taux", "montant", "montants", "nombre",
    "date", "dates", "année", "années", "an", "ans", "jour", "jours", "heure", "heures",
    "moment", "période", "délai", "délais", "échéance", "seuil", "seuils", "durée",
    "fréquence", "âge", "fonction", "fonctions", "rôle", "rôles", "organisme", "organismes",
    "structure", "structures", "association", "associations", "entité", "entités", "outil",
    "outils", "personne", "personnes", "chose", "choses", "type", "types", "sorte", "sortes",
    "genre", "forme", "formes", "catégorie", "catégories", "nom", "noms", "lieu", "endroit",
    "façon", "manière", "moyen", "moyens", "place", "niveau", "étape", "étapes", "taille",
    "différence", "différences", "état", "size", "difference", "state",
    "share", "percentage", "rate", "amount", "number", "year", "years",
    "day", "days", "time", "deadline", "threshold", "kind", "kinds", "role",
    "body", "organisation", "organization", "tool", "tools", "people", "person", "persons",
    "way", "ways", "step", "steps", "level", "name", "one", "ones",
}  # fmt: skip


class Focus(NamedTuple):
    """What a question asks for: a noun, and whether it asks how many of them."""

    word: str
    counted: bool  # "combien de décisions" wants "N décisions", not just "décisions"


def question_focus(question: str) -> Focus | None:
    """The topic noun a question asks about ("décisions" in "Quelles décisions…"), if any.

    None when the question names no such noun, or only the kind of value it wants.
    """
    match = _FOCUS.search(question)
    if match is None:
        return None
    word = match.group("word")
    if word.casefold() in _VALUE_NOUNS or len(word) < 3:
        return None
    return Focus(word, bool(match.group("count")))


def mentions_focus(
    question: str, language: str, quotes: Iterable[tuple[str, Hit]], lexical: Bm25Index
) -> bool:
    """Whether the quoted sentences (or their passages' headings) name what the question asks for.

    `quotes` pairs each quoted text (the sentence in its context) with its passage.
    "Combien de collectivités…" needs a count of them ("600 collectivités"), not any
    sentence mentioning collectivities. True when the question has no focus noun.
    """
    focus = question_focus(question)
    if focus is None:
        return True
    concept = {t for c in query_concepts(focus.word, language) for t in c}
    concept |= {v for t in concept for v in lexical.variants(t)}
    if not any(lexical.doc_freq.get(t) for t in concept) and language == "en":
        return True  # an English word the glossary cannot translate: no way to judge
    subjects = named_subjects(question)
    for quoted, hit in quotes:
        if subjects and not _about(subjects, hit):
            continue  # the right noun about another regulation ("amende" of the RGAA for NIS 2)
        if focus.counted:
            if any(_names(concept, tokenize(words)) for words in _COUNTED.findall(quoted)):
                return True
            # "Ils sont 4 000…": the count's noun is the one the passage is about.
            if _PRONOUN_COUNT.match(quoted) and _names(concept, terms(hit.chunk.text)):
                return True
        elif _names(concept, terms(f"{quoted} {_labels(hit)}")):
            return True
    return False


# A regulation or body named by its acronym: "NIS 2", "RGAA", "CNIL" (three capitals at
# least, or capitals and a number); "CC" or "CA" name a kind of collectivity, not a subject.
_SUBJECT = re.compile(r"\b(?:[A-Z]{3,}(?:\s?\d+)?|[A-Z]{2}\s?\d+)\b")


def named_subjects(question: str) -> list[str]:
    """The acronyms a question names, whose passage must be the one answering it."""
    return list(dict.fromkeys(_SUBJECT.findall(question)))


def _about(subjects: list[str], hit: Hit) -> bool:
    """Whether the passage (its headings, its document) names every subject, by acronym or
    expansion; a subject may name the document itself ("le Flash de l'ANPP")."""
    publisher = hit.chunk.metadata.get("publisher", "")
    passage = terms(f"{hit.chunk.text} {_labels(hit)} {publisher}")
    for subject in subjects:
        own = set(tokenize(subject))
        expansion = set(tokenize(expand_query(subject))) - own
        if not (own <= passage or (expansion and expansion <= passage)):
            return False
    return True


@lru_cache(maxsize=65536)
def terms(text: str) -> frozenset[str]:
    """A passage's tokens, with what its acronyms stand for ("DPO": délégué…); the same
    passages come back question after question, so each text is read once."""
    return frozenset(tokenize(expand_query(MISREAD_I.sub("I", text))))


# A figure and the words right after it: "600 collectivités", "4 000 conseillers numériques".
_NUMBER_WORDS = (
    r"(?:un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|"
    r"quinze|seize|vingt|trente|quarante|cinquante|soixante|cent|mille|two|three|four|five|"
    r"six|seven|eight|nine|ten|twenty|thirty|forty|fifty|hundred|thousand)"
)
_COUNTED = re.compile(
    rf"(?:\d+(?:[\s\u00a0\u202f.,]\d{{3}})*|\b{_NUMBER_WORDS}(?:[-\s]{_NUMBER_WORDS})*)\s+"
    r"((?:[^\W\d_][\w'’-]*\s*){1,4})",
    re.IGNORECASE,
)
_PRONOUN_COUNT = re.compile(
    r"^(?:ils?|elles?|ce|they|there)\s+(?:sont|étaient|seront|are|were)\s+(?:environ\s+|about\s+)?\d",
    re.IGNORECASE,
)


def _labels(hit: Hit) -> str:
    """The document title and section heading a passage sits under."""
    meta = hit.chunk.metadata
    return f"{meta.get('title', '')} {meta.get('heading', '')}"


def _names(concept: set[str], tokens) -> bool:
    """Whether the tokens name the concept; the stemmer leaves "conseiller" and "conseil"."""
    return any(
        t == c
        or (
            min(len(t), len(c)) >= 5
            and abs(len(t) - len(c)) <= 3
            and (t[: len(c)] == c or c[: len(t)] == t)
        )
        for t in tokens
        for c in concept
    )
