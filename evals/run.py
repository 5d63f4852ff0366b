"""Run the gold set against the assistant (in-process or over HTTP) and the naive baseline."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from assistant.core import Assistant, build_assistant
from assistant.settings import Settings
from evals.baseline import NaiveRag, load_baseline
from evals.gold import DEFAULT_GOLD, GoldCase, load_gold
from evals.metrics import CaseResult, score_case
from evals.report import summary_markdown, write_report
from ingest.index import ingest

# A system under test: takes a gold case (as a plain dict), returns the answer shape.
Target = Callable[[Mapping[str, Any]], dict[str, Any]]

HTTP_TIMEOUT_S = 120.0


class TargetError(Exception):
    """The system under test failed to answer (HTTP error, unreachable server)."""


def case_dict(case: GoldCase | Mapping[str, Any]) -> dict[str, Any]:
    """A gold case (pydantic model or mapping) as a plain dict."""
    if isinstance(case, GoldCase):
        return case.model_dump()
    return dict(case)


def answer_dict(response: Any) -> dict[str, Any]:
    """An answer (pydantic model or mapping) as a plain dict, the HTTP JSON shape."""
    if hasattr(response, "model_dump"):
        return response.model_dump()
    return dict(response)


def run_evaluation(
    cases: Iterable[GoldCase | Mapping[str, Any]],
    target: Target,
    *,
    label: str,
    progress: bool = True,
) -> list[CaseResult]:
    """Ask every case to the target, timing each call; a failing case is recorded, not fatal."""
    cases = list(cases)
    show = progress and sys.stderr.isatty()
    results = []
    for case in tqdm(cases, desc=label, unit="question", disable=not show):
        data = case_dict(case)
        error = None
        start = time.perf_counter()
        try:
            response = answer_dict(target(data))
        except Exception as exc:  # the run goes on; the error is reported with the case
            response, error = {}, f"{type(exc).__name__}: {exc}"
        latency_ms = (time.perf_counter() - start) * 1000
        results.append(score_case(data, response, system=label, latency_ms=latency_ms, error=error))
    return results


def inprocess_target(assistant: Assistant) -> Target:
    """Target calling an assistant object built by `build_assistant` in this process."""

    def ask(case: Mapping[str, Any]) -> dict[str, Any]:
        response = assistant.ask(
            case["question"],
            history=case.get("history") or None,
            profile=case.get("profile"),
            include_passages=True,
        )
        return answer_dict(response)

    return ask


def http_target(url: str, timeout: float = HTTP_TIMEOUT_S) -> Target:
    """Target posting each case to a running server's `/api/ask`."""
    endpoint = url.rstrip("/") + "/api/ask"

    def ask(case: Mapping[str, Any]) -> dict[str, Any]:
        body = {
            "question": case["question"],
            "history": case.get("history") or [],
            "filters": None,
            "profile": case.get("profile"),
            "include_passages": True,
        }
        try:
            response = httpx.post(endpoint, json=body, timeout=timeout)
        except httpx.HTTPError as exc:
            raise TargetError(f"{endpoint} unreachable: {exc}") from exc
        if not response.is_success:
            raise TargetError(f"HTTP {response.status_code} from {endpoint}: {response.text[:300]}")
        return response.json()

    return ask


def baseline_target(naive: NaiveRag) -> Target:
    """Target calling the naive RAG baseline."""

    def ask(case: Mapping[str, Any]) -> dict[str, Any]:
        return naive.ask(
            case["question"],
            history=case.get("history") or None,
            profile=case.get("profile"),
            include_passages=True,
        )

    return ask


def assistant_target(settings: Settings, refusal: bool = True) -> Target:
    """Ingest the corpus if needed, build the assistant in-process and wrap it as a target;
    without `refusal`, it answers every question (see `without_refusal`)."""
    ingest(settings.corpus_dir, settings)
    assistant = build_assistant(settings)
    return inprocess_target(assistant if refusal else without_refusal(assistant))


def without_refusal(assistant: Assistant) -> Assistant:
    """The assistant answering every question as it would if confident: what its answers
    are worth apart from when it refuses (with a refusal that never errs, it would be right
    on the questions answered right here and on every unanswerable one)."""
    extractive = assistant.extractive
    extractive.ranker = extractive.ranker.never_refusing()
    return assistant


def main(
    gold: Path,
    url: str | None,
    out_dir: Path,
    with_baseline: bool = True,
    limit: int | None = None,
    settings: Settings | None = None,
    refusal: bool = True,
) -> Path:
    """Evaluate the assistant (and the baseline), write the report, return report.md's path.
    Without `refusal`, the in-process assistant answers every question."""
    if url and not refusal:
        raise ValueError(
            "answering without refusal needs the assistant in-process: drop --url, or "
            "evaluate the server with its refusal"
        )
    settings = settings or Settings()
    cases = load_gold(gold)[:limit]
    target = http_target(url) if url else assistant_target(settings, refusal)
    results = run_evaluation(cases, target, label="assistant")
    baseline = None
    if with_baseline:
        naive = load_baseline(settings.corpus_dir, settings.data_dir)
        baseline = run_evaluation(cases, baseline_target(naive), label="baseline")
    meta = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "gold": str(gold),
        "cases": len(cases),
        "assistant": url or "in-process",
        "refusal": refusal,
    }
    return write_report(results, baseline, out_dir, meta=meta)


def summary_text(out_dir: Path) -> str:
    """The summary table (assistant vs baseline) of the report in `out_dir`, as Markdown."""
    systems = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))["systems"]
    baseline = systems.get("baseline")
    return summary_markdown(systems["assistant"]["overall"], baseline and baseline["overall"])


def _cli(argv: list[str] | None = None) -> None:
    """`python -m evals.run`: run the evaluation and print the summary table."""
    parser = argparse.ArgumentParser(description="Evaluate the assistant on the gold set.")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold set (JSONL)")
    parser.add_argument("--url", help="running server to evaluate, e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, help="report folder (default: <data_dir>/eval)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    parser.add_argument("--limit", type=int, help="evaluate only the first N cases")
    parser.add_argument(
        "--no-refusal",
        action="store_true",
        help="answer every question (in-process): the answers' worth apart from refusal",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    out_dir = args.out or settings.data_dir / "eval"
    report = main(
        args.gold,
        args.url,
        out_dir,
        not args.no_baseline,
        args.limit,
        settings,
        not args.no_refusal,
    )
    print(summary_text(out_dir))
    print(f"\nReport: {report}\n        {report.with_suffix('.html')}")


if __name__ == "__main__":
    _cli()
