"""Gold set of evaluation cases for the assistant: schema, loader and corpus checks."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from evals.matching import contains

QuestionType = Literal[
    "factual", "numeric", "conditional", "synthesis", "unanswerable", "false_premise", "followup"
]
Expected = Literal["answer", "abstain", "correct_premise", "ask_condition"]
CollectivityKind = Literal[
    "commune", "communauté de communes", "communauté d'agglomération", "département", "région"
]
KeyFact = str | list[str]

QUESTION_TYPES: tuple[str, ...] = get_args(QuestionType)
EXPECTED_BEHAVIOURS: tuple[str, ...] = get_args(Expected)
DEFAULT_GOLD = Path(__file__).with_name("gold.jsonl")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Turn(_Strict):
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str


class Evidence(_Strict):
    """A short verbatim quote of a corpus document supporting the answer."""

    doc: str
    quote: str


class Profile(_Strict):
    """The collectivity profile set for the conversation."""

    kind: CollectivityKind
    population: int


class GoldCase(_Strict):
    """One evaluation question with its expected behaviour, key facts and evidence."""

    id: str
    type: QuestionType
    lang: Literal["fr", "en"]
    question: str
    history: list[Turn] = []
    expected: Expected
    key_facts: list[KeyFact] = []
    evidence: list[Evidence] = []
    profile: Profile | None = None
    note: str


def load_gold(path: Path = DEFAULT_GOLD) -> list[GoldCase]:
    """Read a JSONL gold file; raise ValueError naming the file and line of a malformed case."""
    cases = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(GoldCase.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path}, line {lineno}: malformed gold case: {exc}") from exc
    return cases


def missing_quotes(cases: Iterable[GoldCase], corpus_dir: Path) -> list[tuple[str, str, str]]:
    """Return (case id, doc, quote) for every evidence quote not found in its corpus document."""
    texts: dict[str, str] = {}
    missing = []
    for case in cases:
        for ev in case.evidence:
            if ev.doc not in texts:
                doc_path = corpus_dir / f"{ev.doc}.txt"
                texts[ev.doc] = doc_path.read_text(encoding="utf-8") if doc_path.exists() else ""
            if not contains(texts[ev.doc], ev.quote):
                missing.append((case.id, ev.doc, ev.quote))
    return missing
