"""Deterministic evaluation metrics: retrieval, key facts, citations, outcomes and aggregates.

Everything here is a pure function over plain dicts (a passage or citation has
`document_id` and `text`; an evidence item has `doc` and `quote`), so each metric can be
checked on toy inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any, Literal

from pydantic import BaseModel

from evals.matching import contains, normalize

Outcome = Literal["correct", "abstained", "wrong", "error"]
KeyFact = str | list[str]

RECALL_KS = (1, 3, 5, 10)
TYPE_ORDER = (
    "factual",
    "numeric",
    "conditional",
    "synthesis",
    "unanswerable",
    "false_premise",
    "followup",
)
QUOTE_COVERAGE = 0.6
# CRAG scoring: an error gives the user nothing, like a missing answer, so it scores 0.
CRAG_POINTS: dict[str, int] = {"correct": 1, "abstained": 0, "wrong": -1, "error": 0}


class CaseResult(BaseModel):
    """One gold case run against one system, with its scores."""

    system: str
    case_id: str
    type: str
    lang: str = "fr"
    expected: str
    question: str
    history: list[dict[str, Any]] = []
    key_facts: list[KeyFact] = []
    evidence: list[dict[str, Any]] = []
    note: str = ""
    answer: str = ""
    abstained: bool = False
    citations: list[dict[str, Any]] = []
    passages: list[dict[str, Any]] | None = None
    latency_ms: float = 0.0
    error: str | None = None
    outcome: Outcome
    fact_hits: int = 0
    fact_total: int = 0
    missing_facts: list[KeyFact] = []
    recall: dict[int, float | None] = {}
    reciprocal_rank: float | None = None
    citation_precision: float | None = None
    citation_recall: float | None = None


# --- Retrieval -------------------------------------------------------------------------------


def passage_holds(passage_text: str, quote: str) -> bool:
    """True when the passage contains the quote, or its longest shared run of words covers 60 %."""
    if contains(passage_text, quote):
        return True
    quote_words = normalize(quote).split()
    if not quote_words:
        return False
    passage_words = normalize(passage_text).split()
    matcher = SequenceMatcher(None, quote_words, passage_words, autojunk=False)
    run = matcher.find_longest_match(0, len(quote_words), 0, len(passage_words)).size
    return run / len(quote_words) >= QUOTE_COVERAGE


def _holds_evidence(passage: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    """True when the passage comes from the evidence's document and holds its quote."""
    return passage.get("document_id") == item.get("doc") and passage_holds(
        passage.get("text", ""), item.get("quote", "")
    )


def recall_at_k(
    passages: Sequence[Mapping[str, Any]], evidence: Sequence[Mapping[str, Any]], k: int
) -> float | None:
    """Share of gold quotes held by one of the top-k passages; None without gold evidence."""
    if not evidence:
        return None
    top = passages[:k]
    found = sum(any(_holds_evidence(p, item) for p in top) for item in evidence)
    return found / len(evidence)


def reciprocal_rank(
    passages: Sequence[Mapping[str, Any]], evidence: Sequence[Mapping[str, Any]]
) -> float | None:
    """1/rank of the first passage holding any gold quote, 0 if none; None without evidence."""
    if not evidence:
        return None
    for rank, passage in enumerate(passages, start=1):
        if any(_holds_evidence(passage, item) for item in evidence):
            return 1.0 / rank
    return 0.0


# --- Answers ---------------------------------------------------------------------------------


def fact_present(answer: str, fact: KeyFact) -> bool:
    """True when the answer holds the fact, or any one of its alternatives."""
    alternatives = [fact] if isinstance(fact, str) else fact
    return any(contains(answer, alt) for alt in alternatives)


def key_fact_hits(answer: str, key_facts: Sequence[KeyFact]) -> tuple[int, int]:
    """Count the key facts found in the answer: (hits, total)."""
    hits = sum(fact_present(answer, fact) for fact in key_facts)
    return hits, len(key_facts)


def facts_correct(answer: str, key_facts: Sequence[KeyFact]) -> bool:
    """True when every key fact (one alternative each) is in the answer."""
    hits, total = key_fact_hits(answer, key_facts)
    return hits == total


def citation_precision(
    citations: Sequence[Mapping[str, Any]], evidence: Sequence[Mapping[str, Any]]
) -> float | None:
    """Share of cited passages holding some gold quote; None when nothing is cited or no gold."""
    if not citations or not evidence:
        return None
    good = sum(any(_holds_evidence(c, item) for item in evidence) for c in citations)
    return good / len(citations)


def citation_recall(
    citations: Sequence[Mapping[str, Any]], evidence: Sequence[Mapping[str, Any]]
) -> float | None:
    """Share of gold quotes held by some cited passage; None without gold evidence."""
    if not evidence:
        return None
    found = sum(any(_holds_evidence(c, item) for c in citations) for item in evidence)
    return found / len(evidence)


def classify_outcome(expected: str, abstained: bool, facts_ok: bool) -> Outcome:
    """Correct, abstained (a false refusal) or wrong, from the expected behaviour."""
    if expected == "abstain":
        return "correct" if abstained else "wrong"
    if abstained:
        return "abstained"
    return "correct" if facts_ok else "wrong"


def score_case(
    case: Mapping[str, Any],
    response: Mapping[str, Any],
    *,
    system: str,
    latency_ms: float,
    error: str | None = None,
) -> CaseResult:
    """Score one response (the answer shape) against its gold case (a GoldCase as a dict)."""
    answer = response.get("answer") or ""
    abstained = bool(response.get("abstained"))
    citations = list(response.get("citations") or [])
    passages = response.get("passages")
    evidence = list(case.get("evidence") or [])
    key_facts = list(case.get("key_facts") or [])
    expected = case.get("expected", "answer")
    hits, total = key_fact_hits(answer, key_facts)
    if error is not None:
        outcome: Outcome = "error"
    else:
        outcome = classify_outcome(expected, abstained, hits == total)
    answered = error is None and not abstained
    return CaseResult(
        system=system,
        case_id=str(case.get("id", "")),
        type=case.get("type", ""),
        lang=case.get("lang", "fr"),
        expected=expected,
        question=case.get("question", ""),
        history=list(case.get("history") or []),
        key_facts=key_facts,
        evidence=evidence,
        note=case.get("note") or "",
        answer=answer,
        abstained=abstained,
        citations=citations,
        passages=None if passages is None else list(passages),
        latency_ms=latency_ms,
        error=error,
        outcome=outcome,
        fact_hits=hits,
        fact_total=total,
        missing_facts=[f for f in key_facts if not fact_present(answer, f)],
        recall={
            k: None if passages is None else recall_at_k(passages, evidence, k) for k in RECALL_KS
        },
        reciprocal_rank=None if passages is None else reciprocal_rank(passages, evidence),
        citation_precision=citation_precision(citations, evidence) if answered else None,
        citation_recall=citation_recall(citations, evidence) if answered else None,
    )


# --- Aggregates ------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[rank - 1]


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def rate(flags: Sequence[bool]) -> float | None:
    """Share of true flags; None for an empty population."""
    return sum(flags) / len(flags) if flags else None


def crag_score(outcomes: Sequence[str]) -> float | None:
    """Mean CRAG points: correct +1, abstained 0, wrong -1 (errors 0)."""
    return mean(CRAG_POINTS[o] for o in outcomes) if outcomes else None


def summarize(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Aggregate metrics over a list of case results (one system)."""
    unanswerable = [r for r in results if r.expected == "abstain"]
    answerable = [r for r in results if r.expected != "abstain"]
    answered = [r for r in results if r.error is None and not r.abstained]
    latencies = [r.latency_ms for r in results if r.error is None]
    summary: dict[str, Any] = {
        "n": len(results),
        "crag": crag_score([r.outcome for r in results]),
        "correct": sum(r.outcome == "correct" for r in results),
        "abstained": sum(r.outcome == "abstained" for r in results),
        "wrong": sum(r.outcome == "wrong" for r in results),
        "errors": sum(r.outcome == "error" for r in results),
        "key_fact_accuracy": rate([r.outcome == "correct" for r in answerable]),
        "fact_recall": mean(r.fact_hits / r.fact_total for r in answerable if r.fact_total),
        "abstention_accuracy": rate([r.outcome == "correct" for r in unanswerable]),
        "false_refusal_rate": rate([r.outcome == "abstained" for r in answerable]),
        "hallucination_rate": rate([r.outcome == "wrong" for r in answered]),
    }
    for k in RECALL_KS:
        summary[f"recall@{k}"] = mean(r.recall.get(k) for r in results)
    summary["mrr"] = mean(r.reciprocal_rank for r in results)
    summary["citation_precision"] = mean(r.citation_precision for r in results)
    summary["citation_recall"] = mean(r.citation_recall for r in results)
    summary["latency_p50_ms"] = percentile(latencies, 50)
    summary["latency_p95_ms"] = percentile(latencies, 95)
    return summary


def summarize_by_type(results: Sequence[CaseResult]) -> dict[str, dict[str, Any]]:
    """Aggregate metrics per question type, known types first in a fixed order."""
    types = sorted({r.type for r in results}, key=_type_rank)
    return {t: summarize([r for r in results if r.type == t]) for t in types}


def _type_rank(question_type: str) -> tuple[int, str]:
    """Sort key putting the known question types in their usual order."""
    if question_type in TYPE_ORDER:
        return TYPE_ORDER.index(question_type), question_type
    return len(TYPE_ORDER), question_type
