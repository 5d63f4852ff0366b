"""The report is written from synthetic results, with untrusted text escaped."""

import json

from evals.metrics import score_case, summarize
from evals.report import format_value, summary_markdown, write_report

EVIDENCE = [{"doc": "doc_a", "quote": "Le seuil est fixé à 3 500 habitants."}]
GOOD = {"document_id": "doc_a", "title": "A", "locator": "car. 0-40", "page": None,
        "text": "Le seuil est fixé à 3 500 habitants.", "score": 0.9}  # fmt: skip
EVIL = "<script>alert('x')</script>"


def case(cid, qtype, expected, facts, evidence=(), note=""):
    return {
        "id": cid,
        "type": qtype,
        "lang": "fr",
        "question": f"Question {cid} ?",
        "history": [{"role": "user", "content": "Bonjour"}] if qtype == "followup" else [],
        "expected": expected,
        "key_facts": facts,
        "evidence": list(evidence),
        "profile": None,
        "note": note,
    }


def results_for(system, answers):
    cases = [
        case("ok-1", "numeric", "answer", ["3 500"], EVIDENCE),
        case(
            "bad-1", "followup", "answer", ["3 500", ["décret", "arrêté"]], EVIDENCE, "Note du gold"
        ),
        case("abs-1", "unanswerable", "abstain", []),
    ]
    return [
        score_case(c, a, system=system, latency_ms=10.0 * (i + 1))
        for i, (c, a) in enumerate(zip(cases, answers, strict=True))
    ]


def assistant_results():
    return results_for(
        "assistant",
        [
            {
                "answer": "3 500 habitants [1]",
                "abstained": False,
                "citations": [GOOD | {"n": 1}],
                "passages": [GOOD],
            },
            {
                "answer": f"Seuil : 3 500. {EVIL}",
                "abstained": False,
                "citations": [GOOD | {"n": 1, "text": EVIL + " passage " * 200}],
                "passages": [GOOD],
            },  # fmt: skip
            {"answer": "", "abstained": True, "citations": [], "passages": []},
        ],
    )


def baseline_results():
    answer = {"answer": "Autre chose [1]", "abstained": False, "citations": [], "passages": []}
    return results_for("baseline", [answer, answer, answer])


def test_report_files_and_failed_case(tmp_path):
    path = write_report(assistant_results(), baseline_results(), tmp_path, meta={"gold": "toy"})
    assert path == tmp_path / "report.md"
    for name in (
        "report.md",
        "report.html",
        "results.jsonl",
        "summary.json",
        "crag_by_type.png",
        "outcomes.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
    md = path.read_text(encoding="utf-8")
    assert "bad-1" in md and "ok-1" not in md.split("## Failed cases")[1]
    assert "❌ missing décret | arrêté" in md and "✅ 3 500" in md
    assert "Note du gold" in md and "Bonjour" in md
    lines = (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    assert {json.loads(line)["system"] for line in lines} == {"assistant", "baseline"}
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["systems"]["assistant"]["overall"]["correct"] == 2
    assert "followup" in summary["systems"]["baseline"]["by_type"]


def test_html_escapes_untrusted_text(tmp_path):
    write_report(assistant_results(), None, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "bad-1" in html
    assert "passage " * 60 not in html  # cited passages are truncated
    assert "<script>" not in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_report_without_baseline_has_one_column(tmp_path):
    write_report(assistant_results(), None, tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| Metric | Assistant |" in md and "Baseline" not in md


def test_summary_markdown_and_formats():
    table = summary_markdown(summarize(assistant_results()), summarize(baseline_results()))
    assert table.splitlines()[0] == "| Metric | Assistant | Baseline |"
    assert "| Key-fact accuracy (answerable) | 50.0 % | 0.0 % |" in table
    assert format_value(None, "pct") == "—"
    assert format_value(0.5, "signed") == "+0.50"
    assert format_value(1234.4, "ms") == "1234"
