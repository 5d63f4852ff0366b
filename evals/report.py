"""Write the evaluation report: Markdown, HTML with charts, per-case JSONL and a summary JSON.

Answers, questions and passages are untrusted text: every one of them is escaped.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from evals.metrics import RECALL_KS, CaseResult, summarize, summarize_by_type

PASSAGE_CHARS = 300
COLORS = {"assistant": "#1f5fa8", "baseline": "#b0b0b0"}
OUTCOME_COLORS = {"correct": "#2e8b57", "abstained": "#e0a030", "wrong": "#c0392b", "error": "#555"}

# (summary key, label, format)
METRICS: list[tuple[str, str, str]] = [
    ("n", "Cases", "int"),
    ("crag", "CRAG score (+1 correct, 0 abstained, −1 wrong)", "signed"),
    ("correct", "Correct", "int"),
    ("abstained", "Refused an answerable question", "int"),
    ("wrong", "Wrong", "int"),
    ("errors", "Errors (no response)", "int"),
    ("key_fact_accuracy", "Key-fact accuracy (answerable)", "pct"),
    ("fact_recall", "Mean key-fact recall (answerable)", "pct"),
    ("abstention_accuracy", "Abstention accuracy (unanswerable)", "pct"),
    ("false_refusal_rate", "False-refusal rate (answerable)", "pct"),
    ("hallucination_rate", "Hallucination rate (wrong / answered)", "pct"),
    *[(f"recall@{k}", f"Retrieval recall@{k}", "pct") for k in RECALL_KS],
    ("mrr", "Retrieval MRR", "float"),
    ("citation_precision", "Citation precision", "pct"),
    ("citation_recall", "Citation recall", "pct"),
    ("latency_p50_ms", "Latency p50 (ms)", "ms"),
    ("latency_p95_ms", "Latency p95 (ms)", "ms"),
]
# (summary key, column header, format) for the per-type table.
TYPE_COLUMNS: list[tuple[str, str, str]] = [
    ("key_fact_accuracy", "Key-fact acc.", "pct"),
    ("crag", "CRAG", "signed"),
    ("abstention_accuracy", "Abstention acc.", "pct"),
    ("false_refusal_rate", "False refusal", "pct"),
    ("recall@5", "Recall@5", "pct"),
]


def format_value(value: float | int | None, kind: str) -> str:
    """A metric value as shown in the tables; an em dash when not applicable."""
    if value is None:
        return "—"
    if kind == "pct":
        return f"{value * 100:.1f} %"
    if kind == "signed":
        return f"{value:+.2f}"
    if kind == "float":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:.0f}"
    return str(value)


def summary_table(
    summary_a: dict[str, Any], summary_b: dict[str, Any] | None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the summary table: one row per metric, one column per system."""
    header = ["Metric", "Assistant"] + (["Baseline"] if summary_b is not None else [])
    rows = []
    for key, label, kind in METRICS:
        row = [label, format_value(summary_a.get(key), kind)]
        if summary_b is not None:
            row.append(format_value(summary_b.get(key), kind))
        rows.append(row)
    return header, rows


def type_table(
    by_type_a: dict[str, dict[str, Any]], by_type_b: dict[str, dict[str, Any]] | None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-type table; with a baseline, cells read "assistant / baseline"."""
    header = ["Type", "n"] + [title for _, title, _ in TYPE_COLUMNS]
    rows = []
    for qtype, sa in by_type_a.items():
        sb = (by_type_b or {}).get(qtype)
        row = [qtype, str(sa["n"])]
        for key, _, kind in TYPE_COLUMNS:
            cell = format_value(sa.get(key), kind)
            if by_type_b is not None:
                cell += " / " + format_value(sb.get(key) if sb else None, kind)
            row.append(cell)
        rows.append(row)
    return header, rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (cells must already be safe)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table, every cell escaped."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_markdown(summary_a: dict[str, Any], summary_b: dict[str, Any] | None = None) -> str:
    """The summary table in Markdown, to paste in the README."""
    return markdown_table(*summary_table(summary_a, summary_b))


def plot_crag_by_type(by_type: dict[str, dict[str, dict[str, Any]]], path: Path) -> None:
    """Grouped bars of the CRAG score per question type, one bar per system."""
    types = list(next(iter(by_type.values())))
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(by_type)
    for i, (system, per_type) in enumerate(by_type.items()):
        values = [(per_type.get(t) or {}).get("crag") or 0.0 for t in types]
        xs = [x + i * width for x in range(len(types))]
        ax.bar(xs, values, width, label=system, color=COLORS.get(system))
    ax.set_xticks([x + width * (len(by_type) - 1) / 2 for x in range(len(types))], types)
    ax.tick_params(axis="x", labelrotation=20)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("CRAG score")
    ax.set_title("CRAG score by question type")
    ax.legend()
    fig.savefig(path, dpi=110)


def plot_outcomes(summaries: dict[str, dict[str, Any]], path: Path) -> None:
    """Stacked horizontal bars of the outcome distribution, one bar per system."""
    fig = Figure(figsize=(8, 1.2 + 0.6 * len(summaries)), layout="constrained")
    ax = fig.subplots()
    systems = list(summaries)
    left = [0] * len(systems)
    for outcome, color in OUTCOME_COLORS.items():
        counts = [summaries[s][{"error": "errors"}.get(outcome, outcome)] for s in systems]
        ax.barh(systems, counts, left=left, color=color, label=outcome)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("cases")
    ax.set_title("Outcomes")
    fig.legend(loc="outside lower center", ncols=len(OUTCOME_COLORS))
    fig.savefig(path, dpi=110)


def failed_cases(results: Sequence[CaseResult]) -> list[CaseResult]:
    """The cases whose outcome is not correct."""
    return [r for r in results if r.outcome != "correct"]


def _fact_label(fact: str | list[str]) -> str:
    """A key fact as text; alternatives joined by " | "."""
    return fact if isinstance(fact, str) else " | ".join(fact)


def _one_line(text: str, limit: int | None = None) -> str:
    """Whitespace collapsed, optionally cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if limit is None or len(flat) <= limit else flat[:limit] + "…"


def _md(text: str) -> str:
    """Untrusted text made inert in Markdown (HTML special characters escaped)."""
    return escape(text, quote=False)


def _case_markdown(r: CaseResult) -> str:
    """One failed case in Markdown, untrusted text escaped."""
    lines = [
        f"### {_md(r.case_id)} — {r.type} · expected: {r.expected} · outcome: **{r.outcome}**",
        "",
        f"**Question:** {_md(_one_line(r.question))}",
    ]
    if r.history:
        lines.append("\n**History:**")
        lines += [
            f"- {_md(t.get('role', ''))}: {_md(_one_line(t.get('content', '')))}" for t in r.history
        ]
    if r.key_facts:
        lines.append("\n**Expected facts:**")
        for fact in r.key_facts:
            mark = "❌ missing" if fact in r.missing_facts else "✅"
            lines.append(f"- {mark} {_md(_fact_label(fact))}")
    if r.error:
        lines.append(f"\n**Error:** {_md(_one_line(r.error))}")
    lines.append("\n**Answer:**\n")
    lines += [f"> {_md(line)}" for line in (r.answer or "(empty)").splitlines()]
    if r.citations:
        lines.append("\n**Cited passages:**")
        for c in r.citations:
            text = _md(_one_line(c.get("text", ""), PASSAGE_CHARS))
            where = _md(f"{c.get('document_id', '')} {c.get('locator', '')}".strip())
            lines.append(f"{c.get('n', '-')}. `{where}` — {text}")
    if r.note:
        lines.append(f"\n**Gold note:** {_md(_one_line(r.note))}")
    return "\n".join(lines) + "\n"


def _case_html(r: CaseResult) -> str:
    """One failed case in HTML, untrusted text escaped."""
    parts = [
        f"<section class='case {escape(r.outcome)}'><h3>{escape(r.case_id)} — {escape(r.type)}"
        f" · expected: {escape(r.expected)} · outcome: <b>{escape(r.outcome)}</b></h3>",
        f"<p><b>Question:</b> {escape(r.question)}</p>",
    ]
    if r.history:
        turns = "".join(
            f"<li><i>{escape(t.get('role', ''))}</i>: {escape(t.get('content', ''))}</li>"
            for t in r.history
        )
        parts.append(f"<p><b>History:</b></p><ul>{turns}</ul>")
    if r.key_facts:
        facts = "".join(
            f"<li class='{'missing' if f in r.missing_facts else 'found'}'>"
            f"{'❌ missing' if f in r.missing_facts else '✅'} {escape(_fact_label(f))}</li>"
            for f in r.key_facts
        )
        parts.append(f"<p><b>Expected facts:</b></p><ul>{facts}</ul>")
    if r.error:
        parts.append(f"<p class='error'><b>Error:</b> {escape(r.error)}</p>")
    parts.append(f"<p><b>Answer:</b></p><blockquote>{escape(r.answer or '(empty)')}</blockquote>")
    if r.citations:
        cited = "".join(
            f"<li><code>{escape(str(c.get('document_id', '')))} {escape(str(c.get('locator', '')))}"
            f"</code> — {escape(_one_line(c.get('text', ''), PASSAGE_CHARS))}</li>"
            for c in r.citations
        )
        parts.append(f"<p><b>Cited passages:</b></p><ol>{cited}</ol>")
    if r.note:
        parts.append(f"<p class='note'><b>Gold note:</b> {escape(r.note)}</p>")
    return "".join(parts) + "</section>"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}
td:not(:first-child){text-align:right}blockquote{white-space:pre-wrap;background:#f6f6f6;
padding:.5em 1em;margin:0}section.case{border-top:1px solid #ddd;margin-top:1.5em}
li.missing{color:#c0392b}.error{color:#c0392b}.note{color:#555}img{max-width:100%}"""


def _markdown_report(parts: dict[str, Any], failed: Sequence[CaseResult]) -> str:
    """The whole report in Markdown."""
    lines = [
        "# Evaluation report",
        "",
        _md(parts["meta_line"]),
        "",
        "## Summary",
        "",
        markdown_table(*parts["summary"]),
        "",
        "## By question type",
        "",
        parts["cells_note"],
        "",
        markdown_table(*parts["per_type"]),
        "",
        *[f"![{title}]({name})\n" for name, title in parts["charts"].items()],
        f"## Failed cases of the assistant ({len(failed)})",
        "",
        *[_case_markdown(r) for r in failed],
    ]
    return "\n".join(lines)


def _html_report(parts: dict[str, Any], failed: Sequence[CaseResult], out_dir: Path) -> str:
    """The whole report as one self-contained HTML page (charts inlined)."""
    images = "".join(
        f"<img alt='{escape(title)}' src='data:image/png;base64,"
        f"{base64.b64encode((out_dir / name).read_bytes()).decode()}'>"
        for name, title in parts["charts"].items()
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Evaluation report</title><style>{_CSS}</style></head><body>"
        f"<h1>Evaluation report</h1><p>{escape(parts['meta_line'])}</p>"
        f"<h2>Summary</h2>{html_table(*parts['summary'])}"
        f"<h2>By question type</h2><p>{escape(parts['cells_note'])}</p>"
        f"{html_table(*parts['per_type'])}{images}"
        f"<h2>Failed cases of the assistant ({len(failed)})</h2>"
        + "".join(_case_html(r) for r in failed)
        + "</body></html>"
    )


def write_report(
    results_a: Sequence[CaseResult],
    results_b: Sequence[CaseResult] | None,
    out_dir: Path,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write report.md/.html, the charts, results.jsonl and summary.json; return report.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    systems = {"assistant": results_a} | ({"baseline": results_b} if results_b is not None else {})
    overall = {name: summarize(rs) for name, rs in systems.items()}
    by_type = {name: summarize_by_type(rs) for name, rs in systems.items()}

    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as handle:
        for results in systems.values():
            handle.writelines(r.model_dump_json() + "\n" for r in results)
    summary_json = {
        "meta": meta or {},
        "systems": {n: {"overall": overall[n], "by_type": by_type[n]} for n in systems},
    }
    (out_dir / "summary.json").write_text(
        json.dumps(summary_json, ensure_ascii=False, indent=2), encoding="utf-8"
    )

    charts = {}
    if results_a:
        plot_crag_by_type(by_type, out_dir / "crag_by_type.png")
        plot_outcomes(overall, out_dir / "outcomes.png")
        charts = {"crag_by_type.png": "CRAG score by type", "outcomes.png": "Outcomes"}
    parts = {
        "meta_line": " · ".join(f"{k}: {v}" for k, v in (meta or {}).items()),
        "summary": summary_table(overall["assistant"], overall.get("baseline")),
        "per_type": type_table(by_type["assistant"], by_type.get("baseline")),
        "cells_note": "Cells read assistant / baseline." if results_b is not None else "",
        "charts": charts,
    }
    failed = failed_cases(results_a)
    md_path = out_dir / "report.md"
    md_path.write_text(_markdown_report(parts, failed), encoding="utf-8")
    (out_dir / "report.html").write_text(_html_report(parts, failed, out_dir), encoding="utf-8")
    return md_path
