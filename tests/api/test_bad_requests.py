"""Bad requests over real HTTP: each is a 4xx with a stable code and a French message,
never a 500, on /api/ask, /api/ask/stream and /v1/chat/completions."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import httpx
import pytest
from admin_http import ADMIN_KEY, admin, small_index
from helpers import serve

from assistant.serving.api import create_app

pytestmark = pytest.mark.integration

QUESTION = "Qui doit ouvrir ses données publiques ?"
MAX_REQUEST_KB = 8
MAX_TURNS = 4
MAX_CHARS = 2000
ENDPOINTS = ["/api/ask", "/api/ask/stream", "/v1/chat/completions"]


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The API on a small indexed corpus, with small request limits and no rate limit."""
    settings = small_index(
        tmp_path_factory.mktemp("bad-requests"),
        admin_key=ADMIN_KEY,
        max_request_kb=MAX_REQUEST_KB,
        max_history_turns=MAX_TURNS,
        max_history_chars=MAX_CHARS,
        rate_limit_per_minute=0,
    )
    with serve(create_app(settings, with_ui=False)) as url, httpx.Client(base_url=url) as client:
        yield client


def payload(path: str, question: object = QUESTION, **extra) -> dict:
    """A valid request body for `path`, with `extra` fields."""
    if path.startswith("/v1/"):
        return {"messages": [{"role": "user", "content": question}], **extra}
    return {"question": question, **extra}


def history(path: str, turns: int, chars: int = 20) -> dict:
    """A request carrying `turns` earlier messages of `chars` characters each."""
    earlier = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": "x" * chars}
        for i in range(turns)
    ]
    if path.startswith("/v1/"):
        return {"messages": [*earlier, {"role": "user", "content": QUESTION}]}
    return {"question": QUESTION, "history": earlier}


def post_raw(http: httpx.Client, path: str, body: bytes, content_type: str | None):
    headers = {"Content-Type": content_type} if content_type else {}
    return http.post(path, content=body, headers=headers)


def error_of(response: httpx.Response) -> dict:
    """The `detail` of an error response, checked to be in the documented shape."""
    body = response.json()
    detail = body["detail"]
    assert set(detail) == {"code", "message"}, body
    assert detail["message"], body
    if str(response.url.path).startswith("/v1/"):  # what the OpenAI SDK reads
        assert body["error"]["message"] == detail["message"]
        assert body["error"]["code"] == detail["code"]
    return detail


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["application/json", None])
def test_an_empty_body_is_a_422_asking_for_json(http, path, content_type):
    response = post_raw(http, path, b"", content_type)

    assert response.status_code == 422
    detail = error_of(response)
    assert detail["code"] == "invalid_request"
    assert "corps de la requête vide" in detail["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_over_the_limit_is_a_413_naming_the_limit(http, path):
    body = payload(path, question="a" * (MAX_REQUEST_KB * 1024))

    response = http.post(path, json=body)

    assert response.status_code == 413
    detail = error_of(response)
    assert detail["code"] == "request_too_large"
    assert f"la limite est {MAX_REQUEST_KB} Ko (ASSISTANT_MAX_REQUEST_KB)" in detail["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_chunked_body_without_length_is_counted_too(http, path):
    piece = json.dumps(payload(path, question="b" * 1000)).encode()

    def pieces() -> Iterator[bytes]:  # no Content-Length: the server must count
        for _ in range(MAX_REQUEST_KB * 2):
            yield piece

    response = http.post(path, content=pieces(), headers={"Content-Type": "application/json"})

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_binary_and_non_utf8_bodies_are_a_400_with_the_position(http, path):
    noise = bytes(random.Random(6).randrange(128, 256) for _ in range(300))
    latin1 = json.dumps(payload(path, question="Données de l'été"), ensure_ascii=False)

    for body, position in [(noise, 0), (latin1.encode("latin-1"), latin1.index("é"))]:
        response = post_raw(http, path, body, "application/json")

        assert response.status_code == 400
        detail = error_of(response)
        assert detail["code"] == "invalid_encoding"
        assert f"octet invalide à la position {position}" in detail["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain"])
def test_a_body_that_is_not_json_is_a_415(http, path, content_type):
    body = json.dumps(payload(path)).encode()

    response = post_raw(http, path, body, content_type)

    assert response.status_code == 415
    detail = error_of(response)
    assert detail["code"] == "unsupported_media_type"
    assert content_type in detail["message"]
    assert "Content-Type: application/json" in detail["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_malformed_json_is_a_422_with_the_position(http, path):
    response = post_raw(http, path, b'{"question": "REEN ?",', "application/json")

    assert response.status_code == 422
    detail = error_of(response)
    assert detail["code"] == "invalid_request"
    assert "JSON mal formé (position 22" in detail["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_deeply_nested_json_is_a_400_not_a_crash(http, path):
    response = post_raw(http, path, b"[" * 3000 + b"]" * 3000, "application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_body"


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[1, 2]", "corps de la requête : doit être un objet JSON"),
        ('"une question"', "corps de la requête : doit être un objet JSON"),
        ("null", "corps de la requête : doit être un objet JSON"),
        ('{"question": NaN, "messages": NaN}', "doit être"),
    ],
    ids=["array", "string", "null", "nan"],
)
def test_json_of_the_wrong_shape_is_a_422(http, path, body, expected):
    response = post_raw(http, path, body.encode(), "application/json")

    assert response.status_code == 422
    detail = error_of(response)
    assert detail["code"] == "invalid_request"
    assert expected in detail["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"filters": ["slides"]}, "filters : doit être un objet JSON"),
        ({"filters": {"kind": "slides"}}, "filters.kind : doit être une liste"),
        ({"profile": {"population": "beaucoup"}}, "profile.population : doit être un nombre"),
        ({"profile": {"population": -5}}, "profile.population : doit être ≥ 0"),
        ({"brief": "oui"}, "brief : doit être un booléen"),
    ],
    ids=["filters-list", "kind-string", "population-text", "population-negative", "brief"],
)
def test_wrong_types_are_a_422_naming_the_field(http, path, extra, expected):
    response = http.post(path, json=payload(path, **extra))

    assert response.status_code == 422
    detail = error_of(response)
    assert detail["code"] == "invalid_request"
    assert expected in detail["message"]


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_a_question_of_the_wrong_type_is_a_422(http, path):
    response = http.post(path, json={"question": 123, "history": "abc"})

    assert response.status_code == 422
    message = error_of(response)["message"]
    assert "question : doit être une chaîne de caractères" in message
    assert "history : doit être une liste" in message


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unknown_filter_is_a_422_listing_the_known_ones(http, path):
    response = http.post(path, json=payload(path, filters={"auteur": ["Dupont"]}))

    assert response.status_code == 422
    detail = error_of(response)
    assert "filters.auteur : filtre inconnu" in detail["message"]
    assert "document_id, kind, speaker" in detail["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unknown_document_in_a_filter_is_a_400_naming_it(http, path):
    response = http.post(path, json=payload(path, filters={"document_id": ["rapport-fantome"]}))

    assert response.status_code == 400
    detail = error_of(response)
    assert detail["code"] == "invalid_question"
    assert "rapport-fantome" in detail["message"]


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_a_history_over_the_turn_limit_is_a_400_naming_the_setting(http, path):
    accepted = http.post(path, json=history(path, MAX_TURNS))
    refused = http.post(path, json=history(path, MAX_TURNS + 1))

    assert accepted.status_code == 200
    assert refused.status_code == 400
    detail = error_of(refused)
    assert detail["code"] == "history_too_long"
    assert f"{MAX_TURNS + 1} messages ; la limite est {MAX_TURNS}" in detail["message"]
    assert "ASSISTANT_MAX_HISTORY_TURNS" in detail["message"]


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_a_history_over_the_character_limit_is_a_400_naming_the_setting(http, path):
    refused = http.post(path, json=history(path, 2, chars=MAX_CHARS // 2 + 1))

    assert refused.status_code == 400
    detail = error_of(refused)
    assert detail["code"] == "history_too_long"
    assert f"{MAX_CHARS + 2} caractères ; la limite est {MAX_CHARS}" in detail["message"]
    assert "ASSISTANT_MAX_HISTORY_CHARS" in detail["message"]


def test_the_openai_endpoint_keeps_the_latest_turns_and_refuses_a_huge_conversation(http):
    # OpenAI clients resend the whole conversation: the oldest turns are dropped...
    many = http.post("/v1/chat/completions", json=history("/v1/", MAX_TURNS * 5))
    # ...but a conversation over the request size limit is refused.
    huge = http.post("/v1/chat/completions", json=history("/v1/", 40, chars=500))

    assert many.status_code == 200
    assert many.json()["choices"][0]["message"]["content"]
    assert huge.status_code == 413
    assert error_of(huge)["code"] == "request_too_large"


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "question",
    ["", "   ", "\x00", "REEN \x00 ?", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")],
    ids=["empty", "blank", "nul", "nul-inside", "mojibake"],
)
def test_odd_questions_are_answered_or_refused_never_a_500(http, path, question):
    response = http.post(path, json=payload(path, question=question))

    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert error_of(response)["code"] == "invalid_question"


def test_a_lone_surrogate_escape_is_refused_or_answered_never_a_500(http):
    body = b'{"question": "Donn\\ud800es publiques ?"}'

    response = post_raw(http, "/api/ask", body, "application/json")

    assert response.status_code in (200, 400, 422), response.text


def test_an_upload_keeps_its_own_limit_above_the_request_limit(http):
    text = "Les collectivités publient leurs données ouvertes.\n" * 400  # about 20 kB
    assert len(text.encode()) > MAX_REQUEST_KB * 1024

    response = http.post(
        "/api/documents",
        files={"file": ("grand.txt", text.encode(), "text/plain")},
        headers=admin(),
    )

    assert response.status_code == 201, response.text
    assert response.json()["document"]["file"] == "grand.txt"


def test_unknown_paths_and_methods_answer_in_the_error_shape(http):
    missing = http.get("/api/inexistant")
    wrong_method = http.get("/api/ask")

    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["code"] == "method_not_allowed"
