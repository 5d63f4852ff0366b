"""The per-client rate limit over real HTTP: 429 with Retry-After, per client address."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from admin_http import small_index
from helpers import make_settings, serve

from assistant.errors import ConfigurationError
from assistant.serving.api import create_app

pytestmark = pytest.mark.integration

LIMIT = 3
QUESTION = {"question": "Qui doit ouvrir ses données publiques ?"}


@pytest.fixture
def url(tmp_path) -> Iterator[str]:
    """A server allowing LIMIT requests per minute per client."""
    settings = small_index(tmp_path, rate_limit_per_minute=LIMIT)
    with serve(create_app(settings, with_ui=False)) as url:
        yield url


def client_from(url: str, address: str) -> httpx.Client:
    """A client whose requests come from `address` (any 127.x.y.z is loopback on Linux)."""
    return httpx.Client(
        base_url=url, timeout=60, transport=httpx.HTTPTransport(local_address=address)
    )


def test_a_client_over_the_limit_gets_429_with_retry_after(url):
    with client_from(url, "127.0.0.1") as http:
        served = [http.post("/api/ask", json=QUESTION) for _ in range(LIMIT)]
        refused = http.post("/api/ask", json=QUESTION)

    assert [r.status_code for r in served] == [200] * LIMIT
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    detail = refused.json()["detail"]
    assert detail["code"] == "rate_limited"
    assert f"au plus {LIMIT} par minute" in detail["message"]
    assert "ASSISTANT_RATE_LIMIT_PER_MINUTE" in detail["message"]
    assert f"Réessayez dans {retry_after} s" in detail["message"]


def test_the_limit_covers_every_api_route_but_health(url):
    with client_from(url, "127.0.0.1") as http:
        statuses = [
            http.post("/api/ask/stream", json=QUESTION).status_code,
            http.get("/api/documents").status_code,
            http.get("/v1/models").status_code,
        ]
        openai_refused = http.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "RGAA ?"}]}
        )
        health = [http.get("/api/health").status_code for _ in range(LIMIT + 2)]

    assert statuses == [200] * LIMIT
    assert openai_refused.status_code == 429
    assert openai_refused.json()["error"]["code"] == "rate_limited"  # what the OpenAI SDK reads
    assert "Retry-After" in openai_refused.headers
    assert health == [200] * (LIMIT + 2)


def test_other_clients_keep_their_own_allowance(url):
    with client_from(url, "127.0.0.1") as first, client_from(url, "127.0.0.2") as second:
        first_statuses = [first.get("/api/documents").status_code for _ in range(LIMIT + 1)]
        second_statuses = [second.get("/api/documents").status_code for _ in range(LIMIT)]

    assert first_statuses == [200] * LIMIT + [429]
    assert second_statuses == [200] * LIMIT


def test_a_limit_of_zero_turns_the_limit_off(tmp_path):
    settings = small_index(tmp_path, rate_limit_per_minute=0)

    with serve(create_app(settings, with_ui=False)) as url, client_from(url, "127.0.0.1") as http:
        statuses = {http.get("/api/documents").status_code for _ in range(30)}

    assert statuses == {200}


def test_an_unknown_rate_limit_storage_is_a_configuration_error(tmp_path):
    settings = make_settings(
        data_dir=tmp_path, embedder="hash", rate_limit_storage="pigeon://voyageur"
    )

    with pytest.raises(ConfigurationError, match="ASSISTANT_RATE_LIMIT_STORAGE invalide"):
        create_app(settings, with_ui=False)
