"""Facilitator briefs: who said what, grouped by speaker, each point cited."""

from __future__ import annotations

import re
from collections.abc import Callable

from rapidfuzz.distance import Indel

from assistant.retrieval.lexical import fold_accents

_WANTS_BRIEF = re.compile(
    r"(qui a dit|qu'ont dit|qu.a dit|ont dit|who said|what did .+ say|participants?|intervenants?|"
    r"prises? de parole|interventions?|qui a parl)",
    re.IGNORECASE,
)
# "Quelles fonctions occupe X ?": who someone is, told by a title, not by what they said.
_WHO_IS = re.compile(
    r"\b(?:fonctions?|rôles?|postes?|mandats?|qui est|who is|role|position|job)\b", re.IGNORECASE
)
LEAD = {
    "fr": "Ce qu'ont dit les participants, par intervenant :",
    "en": "What the participants said, by speaker (quoted in French):",
}


# What is left of « qui a dit quoi sur … » once the asking words are gone.
_LEFT_OVER = re.compile(
    r"^\W*(?:quoi|é|what)\b|\b(?:quoi|é)\b(?=\s+(?:sur|de|du|des|à|au)\b)", re.I
)


def brief_topic(question: str) -> str:
    """The question without its words asking who said what (« qui a dit quoi sur la donnée »
    → « sur la donnée »): what the statements must be about."""
    return _LEFT_OVER.sub(" ", _WANTS_BRIEF.sub(" ", question)).strip()


def asks_for_brief(question: str) -> bool:
    """True for a facilitator's question about who said what."""
    return bool(_WANTS_BRIEF.search(question))


def asks_who_is(question: str) -> bool:
    """True for a question about someone's functions or role rather than their words."""
    return bool(_WHO_IS.search(question))


def named_speakers(question: str, speakers: list[str]) -> list[str]:
    """Known speakers whose name (first and last, accents ignored) appears in the question."""
    folded = fold_accents(question).casefold()
    named = []
    for speaker in speakers:
        words = [w for w in fold_accents(speaker).casefold().split() if len(w) > 2]
        if len(words) >= 2 and all(w in folded for w in words[:1] + words[-1:]):
            named.append(speaker)
    return named


_SIMILAR_LABELS = 0.9  # normalised similarity of two spellings of one label read by OCR


def same_speaker(one: str, other: str) -> bool:
    """Whether two speaker labels name one person: « Corentin Leblanc (CA Villefranche
    Beaujolais Saéne) » and « … Sadne) », spelt apart by the text recognition of two pages."""

    def folded(label: str) -> str:
        return " ".join(fold_accents(label).casefold().split())

    name, _, organisation = one.partition("(")
    other_name, _, other_organisation = other.partition("(")
    return (
        folded(name) == folded(other_name)
        and Indel.normalized_similarity(folded(organisation), folded(other_organisation))
        >= _SIMILAR_LABELS
    )


def group_by_speaker(
    quotes: list[tuple[str, str, str]], language: str, display: Callable[[str], str]
) -> str:
    """The brief: one bullet per speaker with their cited statements.

    `quotes` holds (speaker label, statement, marker) in order of relevance.
    """
    by_speaker: dict[str, list[str]] = {}
    for speaker, statement, marker in quotes:
        text = display(statement)
        quoted = text if text.startswith("«") and text.endswith("»") else f"« {text} »"
        label = next((known for known in by_speaker if same_speaker(known, speaker)), speaker)
        by_speaker.setdefault(label, []).append(f"{quoted} {marker}")
    lines = [LEAD[language]]
    for speaker, statements in by_speaker.items():
        lines.append(f"- **{speaker}** : {' ; '.join(statements)}")
    return "\n".join(lines)
