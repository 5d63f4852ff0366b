"""Servers for the API tests: an admin-enabled one on a small corpus, and a locked one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from admin_http import ADMIN_KEY, small_index
from helpers import serve

from assistant.settings import Settings


@dataclass
class Server:
    """A running app, its settings and an HTTP client on it."""

    url: str
    settings: Settings
    client: httpx.Client


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The API (no UI) on a three-document corpus, hash embedder, admin key set."""
    from assistant.serving.api import create_app

    settings = small_index(tmp_path_factory.mktemp("admin"), admin_key=ADMIN_KEY, max_upload_mb=1)
    with (
        serve(create_app(settings, with_ui=False)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        yield Server(url, settings, client)


@pytest.fixture(scope="module")
def client(live_server: str) -> Iterator[httpx.Client]:
    """A client on the shared real-corpus server (no admin key configured)."""
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client
