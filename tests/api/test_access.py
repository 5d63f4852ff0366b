"""A server that asks the key for reads too; the OpenAPI description of every endpoint."""

import httpx
import openai
import pytest
from admin_http import ADMIN_KEY, admin, small_index
from helpers import make_settings, serve

from assistant.errors import ConfigurationError
from assistant.serving.api import create_app

pytestmark = pytest.mark.integration

ENDPOINTS = {
    ("get", "/api/health"),
    ("post", "/api/ask"),
    ("post", "/api/ask/stream"),
    ("post", "/v1/chat/completions"),
    ("get", "/v1/models"),
    ("get", "/api/documents"),
    ("get", "/api/documents/{doc_id}"),
    ("get", "/api/documents/{doc_id}/passages/{n}"),
    ("post", "/api/documents"),
    ("delete", "/api/documents/{doc_id}"),
    ("post", "/api/reindex"),
    ("post", "/api/feedback"),
    ("get", "/api/feedback.csv"),
}


def test_read_key_required_protects_every_endpoint_and_the_chat_page(tmp_path):
    settings = small_index(tmp_path, admin_key=ADMIN_KEY, read_key_required=True)

    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as http:
        question = {"question": "Qui doit ouvrir ses données ?"}
        assert http.get("/api/health").status_code == 401
        assert http.get("/api/documents").status_code == 401
        assert http.post("/api/ask", json=question).status_code == 401
        assert http.post("/api/ask", json=question, headers=admin("faux")).status_code == 401
        assert http.post("/api/ask", json=question, headers=admin()).status_code == 200
        assert http.get("/api/documents", headers=admin()).status_code == 200
        # The chat page asks for a login (the key as password) before showing the app.
        assert http.get("/config").status_code == 401
        login = http.post("/login", data={"username": "agent", "password": ADMIN_KEY})
        assert login.status_code == 200
        assert http.get("/config").status_code == 200

        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{url}/v1", api_key="faux", max_retries=0).models.list()
        sdk = openai.OpenAI(base_url=f"{url}/v1", api_key=ADMIN_KEY, max_retries=0)
        assert sdk.models.list().data


def test_requiring_a_read_key_without_a_key_is_a_configuration_error(tmp_path):
    settings = make_settings(data_dir=tmp_path, embedder="hash", read_key_required=True)

    with pytest.raises(ConfigurationError, match="ASSISTANT_ADMIN_KEY"):
        create_app(settings, with_ui=False)


def test_openapi_describes_every_endpoint_with_examples(client):
    schema = client.get("/openapi.json").json()
    operations = {(method, path) for path, item in schema["paths"].items() for method in item}

    assert operations >= ENDPOINTS
    for method, path in ENDPOINTS:
        operation = schema["paths"][path][method]
        assert operation.get("description") or operation.get("summary"), path
    components = schema["components"]["schemas"]
    for name in ("AskRequest", "ChatCompletionRequest", "FeedbackIn"):
        assert components[name].get("examples"), name
    stream = schema["paths"]["/api/ask/stream"]["post"]["responses"]["200"]["content"]
    assert "event: delta" in stream["text/event-stream"]["example"]
    assert client.get("/docs").status_code == 200
