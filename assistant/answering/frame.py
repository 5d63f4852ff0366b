"""What a question asks for, read once: its answer type and what the answer must hold.

The frame is the answerer's typed view of a question. Its flags are features of the sentence
ranker (a figure asked and a sentence holding one, a date asked and a sentence giving one…),
never gates: the ranker learns how much each matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answering.brief import asks_for_brief, asks_who_is
from assistant.answering.conditions import quantities, without_population
from assistant.query import Query

FIGURE = re.compile(r"\d+(?:[\s\u00a0\u202f.,]\d{3})*")
_WANTS_NUMBER = re.compile(
    r"\b(combien|montant|seuil|quand|quelle date|depuis quand|quelle année|pourcentage|"
    r"quelle part|quel taux|nombre de|jusqu'à quel|how many|how much|when|threshold|amount|"
    r"percentage|what share|number of|which year|since when|échéance|date limite|deadline)\b",
    re.IGNORECASE,
)
# Questions asking when: answered by a date or a delay, not by any year ("IA Act (2023)").
_WANTS_DATE = re.compile(
    r"\b(quand|quelle date|depuis quand|jusqu'à quand|à partir de quand|échéance|date limite|"
    r"when|what date|which date|deadline)\b",
    re.IGNORECASE,
)
_MONTHS = (
    r"(?:janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
    r"novembre|décembre|decembre|january|february|march|april|may|june|july|august|"
    r"september|october|november|december)"
)
DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:er)?\s*{_MONTHS}|{_MONTHS}\s+\d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
    r"|(?:en|depuis|dès|avant|après|jusqu'en|jusqu'à|d'ici|à compter de|à partir de|fin|début|"
    r"in|since|by|before|after|until|from)\s+(?:l'année\s+|the\s+year\s+)?\d{4}"
    r"|(?:\d+|un|une|deux|trois|quatre|cinq|six|dix|douze)\s+(?:ans?|années?|mois|jours?|"
    r"semaines?|years?|months?|days?|weeks?)\b)",
    re.IGNORECASE,
)
# Titles answering "Quelles fonctions occupe X ?": "Vice-Présidente", "DGA", "maire".
ROLE = re.compile(
    r"\b(?:(?:vice|co)[-\s]?présidente?|présidente?|maire|adjointe?|directeur|directrice|"
    r"DGA|DGS|DSI|chargée? de mission|cheff?e? de (?:projet|service)|responsable|déléguée?|"
    r"conseill[eè]re?|secrétaire général\w*|(?:vice[-\s])?president|director|mayor|"
    r"head of)\b",
    re.IGNORECASE,
)
# Obligation or eligibility questions: the answer hinges on who is concerned.
_WANTS_CONDITION = re.compile(
    r"\b(doi[st]|doivent|devons|devez|oblig\w*|impos\w*|concern\w*|applique\w*|"
    r"prétendre|éligible\w*|adresse|réservé\w*|tenu\w*|bénéficier|peut-on|pouvons|demander|"
    r"(?:on|nous|je) (?:peut|peux|pourr\w+)|"
    r"must|need|apply|applies|eligible|required|ha(?:ve|s) to|obliged|mandatory|compulsory)\b",
    re.IGNORECASE,
)
# A question about the asker's own collectivity ("une interco comme la nôtre") depends on it.
_ABOUT_US = re.compile(r"\b(notre|nôtre|nos|nous|our|ours|we)\b", re.IGNORECASE)
# Questions whose answer is an enumeration.
_WANTS_LIST = re.compile(
    r"\b(quels|quelles|lesquel\w*|sur quoi|que doit|what are|which|list)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class QuestionFrame:
    """The kind of answer a question calls for, and the figures it gives itself."""

    language: str
    number: bool  # a figure: "combien", "quel taux"
    date: bool  # a date or a delay: "quand", "quelle échéance"
    condition: bool  # who is concerned: an obligation, "for us"
    role: bool  # someone's title: "quelles fonctions occupe X"
    list: bool  # an enumeration: "quels critères"
    brief: bool  # what each speaker said
    follow_up: bool  # leans on the conversation before it
    asked_figures: frozenset[str]  # figures the question itself gives ("NIS 2", "2017")
    claimed_units: frozenset[str]  # units of figures the question asserts ("775 collectivités")

    @property
    def answer_type(self) -> str:
        """One name for the kind of answer wanted, most specific first."""
        for name in ("brief", "date", "number", "role", "condition", "list"):
            if getattr(self, name):
                return name
        return "other"


def frame_of(query: Query) -> QuestionFrame:
    """Read what the question asks for."""
    question = query.question
    return QuestionFrame(
        language=query.language,
        number=bool(_WANTS_NUMBER.search(question)),
        date=bool(_WANTS_DATE.search(question)),
        condition=wants_condition(query),
        role=asks_who_is(question),
        list=bool(_WANTS_LIST.search(question)),
        brief=query.brief or asks_for_brief(query.text),
        follow_up=bool(query.context),
        asked_figures=frozenset(FIGURE.findall(question)),
        claimed_units=frozenset(u for _, u in quantities(without_population(question))),
    )


def wants_condition(query: Query) -> bool:
    """Whether the answer hinges on who the asker is: an obligation, or "for us"."""
    return bool(_WANTS_CONDITION.search(query.text) or _ABOUT_US.search(query.question))
