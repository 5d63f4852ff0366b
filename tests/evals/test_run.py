"""The runner against a fake target and against a real HTTP server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.settings import Settings
from evals.gold import load_gold
from evals.run import http_target, main, run_evaluation

TOY_GOLD = [
    {
        "id": "num-1",
        "type": "numeric",
        "lang": "fr",
        "question": "Quel est le seuil de population ?",
        "history": [],
        "expected": "answer",
        "key_facts": ["3 500 habitants"],
        "evidence": [{"doc": "doc_a", "quote": "moins de 3 500 habitants"}],
        "profile": None,
        "note": "",
    },
    {
        "id": "unans-1",
        "type": "unanswerable",
        "lang": "fr",
        "question": "Quel est le budget de la ville de Lyon en 2030 ?",
        "history": [],
        "expected": "abstain",
        "key_facts": [],
        "evidence": [],
        "profile": None,
        "note": "Hors corpus.",
    },
    {
        "id": "follow-1",
        "type": "followup",
        "lang": "fr",
        "question": "Et pour les intercommunalités ?",
        "history": [
            {"role": "user", "content": "Quel est le seuil pour les communes ?"},
            {"role": "assistant", "content": "Moins de 3 500 habitants [1]."},
        ],
        "expected": "answer",
        "key_facts": [["15 000 habitants", "15000"]],
        "evidence": [{"doc": "doc_a", "quote": "intercommunalités de moins de 15 000 hab"}],
        "profile": {"kind": "communauté de communes", "population": 12000},
        "note": "",
    },
]
PASSAGE = {
    "document_id": "doc_a",
    "title": "Doc A",
    "locator": "p. 2",
    "page": 2,
    "text": "Communes de moins de 3 500 habitants ; intercommunalités de moins de 15 000 hab.",
    "score": 0.8,
}


def canned_answer(question: str) -> dict:
    """What the fake assistant answers: abstains on Lyon, quotes the passage otherwise."""
    if "Lyon" in question:
        return {"answer": "Je ne sais pas.", "abstained": True, "language": "fr", "citations": []}
    return {
        "answer": f"{PASSAGE['text']} [1]",
        "abstained": False,
        "language": "fr",
        "citations": [PASSAGE | {"n": 1}],
        "timings_ms": {"total": 1.0},
        "passages": [PASSAGE],
    }


@pytest.fixture
def gold_path(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in TOY_GOLD), "utf-8")
    return path


@pytest.fixture
def toy_cases(gold_path):
    return load_gold(gold_path)


def test_run_evaluation_accepts_plain_dicts():
    results = run_evaluation(TOY_GOLD[:1], lambda c: canned_answer(c["question"]), label="d")
    assert results[0].outcome == "correct" and results[0].case_id == "num-1"


def test_run_evaluation_with_a_fake_target(toy_cases):
    seen = []

    def target(case):
        seen.append(case)
        return canned_answer(case["question"])

    results = run_evaluation(toy_cases, target, label="fake", progress=False)
    assert [r.outcome for r in results] == ["correct", "correct", "correct"]
    assert {r.system for r in results} == {"fake"}
    assert all(r.latency_ms >= 0 for r in results)
    assert results[0].recall[1] == 1 and results[0].citation_precision == 1
    assert seen[2]["history"][1]["role"] == "assistant"


def test_run_evaluation_accepts_pydantic_models_and_records_failures(toy_cases):
    from pydantic import BaseModel

    class Answer(BaseModel):
        answer: str
        abstained: bool
        citations: list[dict] = []
        passages: list[dict] | None = None

    def target(case):
        if case["id"] == "follow-1":
            raise RuntimeError("boom")
        return Answer(answer="Inventé : 42.", abstained=False)

    results = run_evaluation(toy_cases, target, label="flaky", progress=False)
    assert [r.outcome for r in results] == ["wrong", "wrong", "error"]
    assert results[2].error == "RuntimeError: boom"
    assert results[0].recall[5] is None  # no passages returned


class FakeAssistantHandler(BaseHTTPRequestHandler):
    """Serves /api/ask like the real API; a question containing "panne" gets a 500."""

    requests: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"path": self.path, "body": body})
        if "panne" in body["question"]:
            status, payload = 500, {"detail": "internal_error"}
        else:
            status, payload = 200, canned_answer(body["question"])
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        """Keep the test output quiet."""


@pytest.fixture
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAssistantHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeAssistantHandler.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_http_target_posts_the_case(server_url, toy_cases):
    results = run_evaluation(toy_cases, http_target(server_url), label="http", progress=False)
    assert [r.outcome for r in results] == ["correct", "correct", "correct"]
    sent = FakeAssistantHandler.requests
    assert [s["path"] for s in sent] == ["/api/ask"] * 3
    assert sent[2]["body"]["include_passages"] is True
    assert sent[2]["body"]["history"] == TOY_GOLD[2]["history"]
    assert sent[2]["body"]["profile"] == {"kind": "communauté de communes", "population": 12000}


def test_http_target_records_a_server_error_as_a_failed_case(server_url, toy_cases):
    broken = [toy_cases[0].model_copy(update={"question": "Question en panne ?"}), toy_cases[1]]
    results = run_evaluation(broken, http_target(server_url), label="http", progress=False)
    assert results[0].outcome == "error"
    assert "HTTP 500" in results[0].error and "internal_error" in results[0].error
    assert results[1].outcome == "correct"


def test_http_target_records_an_unreachable_server(toy_cases):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAssistantHandler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    server.server_close()  # nothing listens on that port any more
    results = run_evaluation(
        toy_cases[:1], http_target(url, timeout=5), label="http", progress=False
    )
    assert results[0].outcome == "error" and "unreachable" in results[0].error


def test_main_evaluates_a_server_and_writes_the_report(server_url, gold_path, tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    out = tmp_path / "eval"
    report = main(gold_path, server_url, out, with_baseline=False, limit=2, settings=settings)
    assert report == out / "report.md" and (out / "report.html").exists()
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert list(summary["systems"]) == ["assistant"]
    assert summary["systems"]["assistant"]["overall"]["n"] == 2
    assert summary["meta"]["assistant"] == server_url


def test_without_refusal_the_assistant_answers_every_question(corpus_index, gold_path, tmp_path):
    def outcomes(refusal: bool) -> dict[str, tuple[bool, str]]:
        out = tmp_path / f"refusal-{refusal}"
        main(gold_path, None, out, with_baseline=False, settings=corpus_index, refusal=refusal)
        rows = [
            json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()
        ]
        return {r["case_id"]: (r["abstained"], r["outcome"]) for r in rows}

    # The budget of Lyon in 2030 is in no document: refused, unless refusal is off, when
    # whatever is closest gets quoted as an answer (scored wrong).
    assert outcomes(True)["unans-1"] == (True, "correct")
    answered = outcomes(False)
    assert not any(abstained for abstained, _ in answered.values())
    assert answered["unans-1"] == (False, "wrong")


def test_without_refusal_needs_the_assistant_in_process(gold_path, tmp_path):
    with pytest.raises(ValueError, match="in-process"):
        main(gold_path, "http://127.0.0.1:9", tmp_path, with_baseline=False, refusal=False)
