"""`POST /api/ask/stream` over real HTTP: text deltas, then citations, then the response."""

import json

import httpx
import pytest
from helpers import make_settings, serve

from assistant.serving.api import create_app

pytestmark = pytest.mark.integration

REEN = "Ma communauté de communes doit-elle adopter une stratégie REEN ?"


def read_events(response: httpx.Response) -> list[tuple[str, dict]]:
    """(event, data) pairs of a text/event-stream body."""
    events = []
    for block in response.text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


def test_stream_sends_deltas_then_citations_then_the_same_answer_as_ask(client):
    with client.stream("POST", "/api/ask/stream", json={"question": REEN}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        response.read()
    events = read_events(response)
    names = [name for name, _ in events]
    plain = client.post("/api/ask", json={"question": REEN}).json()

    assert names[-2:] == ["citations", "done"]
    assert set(names[:-2]) == {"delta"} and len(names) > 3
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    done = events[-1][1]
    assert streamed == done["answer"] == plain["answer"]
    assert events[-2][1]["citations"] == done["citations"] == plain["citations"]
    assert done["abstained"] == plain["abstained"]


def test_stream_honours_filters_and_brief_mode(client):
    payload = {
        "question": "Quelles difficultés sur les données ?",
        "brief": True,
        "filters": {"kind": ["meeting-report"]},
    }
    with client.stream("POST", "/api/ask/stream", json=payload) as response:
        response.read()
    done = read_events(response)[-1][1]

    assert done["answer"].startswith("Ce qu'ont dit les participants, par intervenant")
    assert {c["kind"] for c in done["citations"]} == {"meeting-report"}
    assert all(c["speakers"] for c in done["citations"])


def test_invalid_question_fails_before_the_stream_with_a_json_error(client):
    response = client.post("/api/ask/stream", json={"question": "   "})

    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "invalid_question"


def test_stream_without_index_is_503(tmp_path):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path, embedder="hash")

    with serve(create_app(settings, with_ui=False)) as url:
        response = httpx.post(f"{url}/api/ask/stream", json={"question": REEN}, timeout=30)

    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "index_missing"
