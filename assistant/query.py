"""A question made ready for retrieval: language, conversation context, profile."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from assistant.glossary import expand_query
from assistant.language import detect_language
from assistant.schemas import Message, Profile

# A question that leans on the conversation: short, or opening with a connective/pronoun.
_FOLLOW_UP = re.compile(
    r"^(et|mais|alors|donc|aussi|and|but|so|what about|et si|dans ce cas|"
    r"pour (eux|elles|ça|cela))\b"
    r"|\b(il|elle|ils|elles|ça|cela|celle-ci|celui-ci|ceux-ci|leur|lequel|laquelle|"
    r"it|they|them|its|their|this one)\b",
    re.IGNORECASE,
)

# Questions that ask what several documents say: answered wider, from several documents.
_ACROSS_DOCUMENTS = re.compile(
    r"(les documents|différents documents|plusieurs documents|le corpus|croise|synthèse|"
    r"synthétise|panorama|état des lieux|selon les|across|the documents|overview)",
    re.IGNORECASE,
)


def asks_across_documents(question: str) -> bool:
    """True for a question about what several documents say (a synthesis)."""
    return bool(_ACROSS_DOCUMENTS.search(question))


@dataclass
class Query:
    """What the retriever and the answerers work from."""

    question: str  # as asked
    language: str
    context: str = ""  # the topic carried over from earlier turns, "" for a standalone question
    profile: Profile | None = None
    brief: bool = False  # facilitator brief: statements grouped by speaker
    recalled: str = ""  # the start of the previous answer: what "it", "the next one" refer to

    @property
    def text(self) -> str:
        """The standalone question: the question with the conversation's topic."""
        return f"{self.question} {self.context}".strip()

    @property
    def lexical(self) -> str:
        """What BM25 reads: acronyms expanded, and the question weighing more than the context."""
        question = expand_query(self.question, self.language)
        if not self.context:
            return question
        context = expand_query(f"{self.context} {self.recalled}", self.language)
        return f"{question} {question} {context}"


def is_follow_up(question: str) -> bool:
    """True for a question that only makes sense with the conversation."""
    return len(question.split()) <= 14 or bool(_FOLLOW_UP.search(question))


def build_query(
    question: str, history: list[Message], profile: Profile | None = None, brief: bool = False
) -> Query:
    """The query for a question asked after `history`."""
    previous = [m.content for m in history if m.role == "user"]
    if not previous or not is_follow_up(question):
        return Query(question, detect_language(question), "", profile, brief)
    answers = [m.content for m in history if m.role == "assistant"]
    recalled = _gist(answers[-1]) if answers and history[-1].role == "assistant" else ""
    return Query(question, detect_language(question), previous[-1], profile, brief, recalled)


_MARKER = re.compile(r"\[\d+\]")
_LEAD_IN = re.compile(r"^(?:d'après les documents|according to the documents[^:]*)\s*:", re.I)
_REFUSAL = re.compile(r"^(?:le corpus ne permet pas|the corpus does not answer)", re.I)
_GIST_WORDS = 40


def _gist(answer: str) -> str:
    """The first words of an earlier answer, without markers; nothing for a refusal."""
    text = " ".join(_MARKER.sub(" ", answer).split())
    if _REFUSAL.match(text):
        return ""
    text = _LEAD_IN.sub("", text).strip(" -")
    return " ".join(text.split()[:_GIST_WORDS])


# What a question asks for: the noun after "quel(le)s", "combien de", "how many", "which".
_FOCUS = re.compile(
    r"\b(?:quel(?:le)?s?\s+(?:(?:est|sont|étaient|était|seront|sera)\s+(?:(?:les|la|le)\s+|l'))?"
    r"|(?P<count>combien\s+(?:de|d')\s*|how\s+many\s+)|(?:what|which)\s+)"
    r"(?:(?:principa\w+|grand\w*|autres?|nouve\w+|premi\w+|dernie\w+|seul\w*|main|other)\s+)?"
    r"(?P<word>[^\W\d_][\w-]*)",
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
