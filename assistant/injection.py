"""Lines of a document addressed to an assistant instead of a reader ("ignore previous
instructions", « répondez que … »): flagged at ingestion and never quoted as an answer.

A document is data. A line that gives orders to whoever answers from it (forget your
instructions, answer this, you are now …) is either an attack or noise; either way it
must not become the assistant's answer. The patterns are the grammar of such orders in
French and English (imperatives about instructions and replies, a role given to "you"),
not words of any one document. The whole line holding such an order is set aside, since
the order's payload usually follows it in the same line (« … répondez que X. Y. »).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_ORDERS = re.compile(
    # Set the instructions aside: "ignorez toutes les instructions précédentes".
    r"\b(?:ignore|ignorez|oublie|oubliez|disregard|forget|override)\b"
    r"[^.!?\n]{0,30}?\b(?:toutes|tous|tes|vos|your|all|any|previous|prior|above)\b"
    r"[^.!?\n]{0,30}?\b(?:instructions?|consignes?|directives?|prompts?|rules)\b"
    r"|\bne (?:tiens|tenez) (?:pas|plus) compte (?:des|de tes|de vos) (?:instructions|consignes)"
    # Dictate the reply: « réponds que », « répondez uniquement », "answer that", "say that".
    r"|\b(?:réponds|répondez|dis|dites|affirme|affirmez|écris|écrivez)"
    r"(?:-(?:lui|leur|moi))?\s+(?:que|qu'|uniquement|seulement|toujours|systématiquement)"
    r"|\b(?:answer|reply|respond|say)\s+(?:only\s+|always\s+)?(?:that|with)\b"
    # Give the reader a new role: « tu es désormais », "you are now an assistant".
    r"|\btu es (?:désormais|maintenant|à présent)\b"
    r"|\b(?:vous êtes|you are)\s+(?:désormais|maintenant|now)\s+(?:un|une|a|an)\s+"
    r"(?:assistant|IA|AI|chatbot|modèle|model|robot)"
    r"|\b(?:act as|pretend to be|from now on)\b"
    r"|\b(?:system prompt|prompt système|instructions système)\b"
    r"|^\s*(?:system|système)\s*:",
    re.IGNORECASE | re.MULTILINE,
)


def addresses_assistant(text: str) -> bool:
    """True when `text` gives orders to an assistant (see the module docstring)."""
    return bool(_ORDERS.search(text))


def flagged_lines(text: str) -> list[str]:
    """The lines of `text` that address an assistant, stripped, in order."""
    return [line.strip() for line in text.splitlines() if addresses_assistant(line)]


def unquotable(text: str) -> Callable[[str], bool]:
    """A test telling whether a sentence of `text` lies in a paragraph that addresses an
    assistant (the order's payload often follows it on the next lines)."""
    regions = _ordering_paragraphs(text)
    return lambda sentence: any(" ".join(sentence.split()) in region for region in regions)


@lru_cache(maxsize=4096)
def _ordering_paragraphs(text: str) -> tuple[str, ...]:
    """The paragraphs of a passage that address an assistant, single-spaced: read once per
    passage, however many answers quote from it."""
    return tuple(
        " ".join(paragraph.split())
        for paragraph in re.split(r"\n\s*\n", text)
        if addresses_assistant(paragraph)
    )
