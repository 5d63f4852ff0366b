"""Hostile input at the HTTP boundary, with the chat mounted as in production: text that is
not Unicode is a 4xx in the documented shape, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from admin_http import ADMIN_KEY, small_index
from helpers import serve

from assistant.api import create_app
from assistant.settings import Settings

pytestmark = pytest.mark.integration

QUESTION = "Qui doit ouvrir ses données publiques ?"
LONE = "Donn\ud800es"  # half of a UTF-16 pair, as JSON's "\ud800" decodes


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Settings]]:
    """API and chat on a small corpus; admin key set, 1 MB uploads, no rate limit."""
    settings = small_index(
        tmp_path_factory.mktemp("hostile-input"),
        admin_key=ADMIN_KEY,
        max_upload_mb=1,
        rate_limit_per_minute=0,
    )
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield http, settings


@pytest.fixture
def http(app_server) -> httpx.Client:
    return app_server[0]


def post_json(http: httpx.Client, path: str, body: object) -> httpx.Response:
    """POST `body` as JSON with every non-ASCII character escaped (so "\\ud800" goes as is)."""
    return http.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


def error_of(response: httpx.Response) -> dict:
    """The `detail` of an error response, checked to be in the documented shape."""
    body = response.json()
    assert set(body["detail"]) == {"code", "message"}, body
    assert body["detail"]["message"], body
    return body["detail"]


SURROGATE_CASES = {
    "question": ("/api/ask", {"question": LONE}, "question"),
    "stream": ("/api/ask/stream", {"question": LONE}, "question"),
    "history": (
        "/api/ask",
        {"question": QUESTION, "history": [{"role": "user", "content": LONE}]},
        "history.0.content",
    ),
    "profile-kind": ("/api/ask", {"question": QUESTION, "profile": {"kind": LONE}}, "profile.kind"),
    "filter-document": (
        "/api/ask",
        {"question": QUESTION, "filters": {"document_id": [LONE]}},
        "filters.document_id.0",
    ),
    "filter-speaker": (
        "/api/ask/stream",
        {"question": QUESTION, "filters": {"speaker": [LONE]}},
        "filters.speaker.0",
    ),
    "v1-question": ("/v1/chat/completions", {"messages": [{"role": "user", "content": LONE}]}, ""),
    "v1-earlier-turn": (
        "/v1/chat/completions",
        {
            "messages": [
                {"role": "user", "content": LONE},
                {"role": "assistant", "content": "Les collectivités… [1]"},
                {"role": "user", "content": QUESTION},
            ]
        },
        "messages.0.content",
    ),
    "v1-text-part": (
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": LONE}]}]},
        "messages.0.content.0.text",
    ),
    "v1-model": (
        "/v1/chat/completions",
        {"model": LONE, "messages": [{"role": "user", "content": QUESTION}]},
        "model",
    ),
    "v1-profile": (
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": QUESTION}], "profile": {"kind": LONE}},
        "profile.kind",
    ),
    "feedback-comment": (
        "/api/feedback",
        {"rating": "up", "question": "q", "answer": "a", "comment": LONE},
        "comment",
    ),
    "feedback-answerer": (
        "/api/feedback",
        {"rating": "down", "question": "q", "answer": "a", "answerer": LONE},
        "answerer",
    ),
    "field-name": ("/api/ask", {"question": QUESTION, LONE: 1}, "nom de champ"),
}


@pytest.mark.parametrize(
    ("path", "body", "where"), SURROGATE_CASES.values(), ids=SURROGATE_CASES.keys()
)
def test_a_lone_surrogate_anywhere_is_a_400_invalid_encoding_naming_the_field(
    http, path, body, where
):
    response = post_json(http, path, body)

    assert response.status_code == 400, response.text
    detail = error_of(response)
    assert detail["code"] == "invalid_encoding"
    assert where in detail["message"] and "U+D800" in detail["message"]
    assert "UTF-8" in detail["message"]  # what to send instead
    if path.startswith("/v1/"):  # what the OpenAI SDK reads
        assert response.json()["error"]["code"] == "invalid_encoding"


def test_a_valid_surrogate_pair_is_text_and_is_answered(http):
    response = post_json(http, "/api/ask", {"question": f"{QUESTION} \U0001f600"})

    assert response.status_code == 200, response.text
