"""A server on broken state: health says `degraded` and why, other routes answer a clear
503 instead of a 500, and the server recovers once `assistant ingest` has repaired it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from admin_http import small_index
from helpers import serve

from assistant.serving.api import create_app
from assistant.serving.feedback import FEEDBACK_FILE
from assistant.settings import Settings
from ingest.index import STATE_FILE, ingest

pytestmark = pytest.mark.integration

QUESTION = {"question": "Quelles collectivités doivent ouvrir leurs données publiques ?"}
FEEDBACK = {"rating": "up", "question": "Qui ouvre ses données ?", "answer": "Les communes."}
GARBAGE = b"ceci n'est pas une base SQLite " * 100


@pytest.fixture
def settings(tmp_path) -> Settings:
    return small_index(tmp_path)


@contextmanager
def running(settings: Settings) -> Iterator[httpx.Client]:
    with (
        serve(create_app(settings, with_ui=False)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        yield client


def _repair(settings: Settings) -> None:
    report = ingest(settings.corpus_dir, settings, progress=False)
    assert report.errors == []


def _assert_whole(http: httpx.Client) -> None:
    health = http.get("/api/health").json()
    assert health["status"] == "ok" and health["reason"] is None
    assert health["chunks"] > 0
    assert len(http.get("/api/documents").json()) == 3
    assert http.post("/api/ask", json=QUESTION).json()["abstained"] is False


def _assert_unreadable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["detail"]["code"] == "index_unreadable"
    assert "assistant ingest" in response.json()["detail"]["message"]


def test_health_is_degraded_when_the_store_lost_its_passages(settings):
    shutil.rmtree(settings.index_dir / "chroma")

    with running(settings) as http:
        health = http.get("/api/health").json()
        assert health["status"] == "degraded"
        assert "aucun passage" in health["reason"] and "3 documents" in health["reason"]
        assert "assistant ingest" in health["reason"]

        _repair(settings)

        _assert_whole(http)


@pytest.mark.parametrize("when", ["before start", "while running"])
def test_an_unreadable_store_gives_503_until_ingest_rebuilds_it(settings, when):
    database = settings.index_dir / "chroma" / "chroma.sqlite3"
    if when == "before start":
        database.write_bytes(GARBAGE)

    with running(settings) as http:
        if when == "while running":
            _assert_whole(http)
            database.write_bytes(GARBAGE)
        health = http.get("/api/health")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert "assistant ingest" in health.json()["reason"]
        _assert_unreadable(http.get("/api/documents"))
        _assert_unreadable(http.get("/api/documents/etude"))
        _assert_unreadable(http.post("/api/ask", json=QUESTION))

        _repair(settings)

        assert list(settings.index_dir.glob("chroma.broken-*"))
        _assert_whole(http)


def test_an_unreadable_state_gives_503_on_documents_until_ingest_rebuilds_it(settings):
    state = settings.index_dir / STATE_FILE
    state.write_text(state.read_text(encoding="utf-8")[:100], encoding="utf-8")

    with running(settings) as http:
        health = http.get("/api/health").json()
        assert health["status"] == "degraded"
        assert STATE_FILE in health["reason"] and "assistant ingest" in health["reason"]
        _assert_unreadable(http.get("/api/documents"))
        _assert_unreadable(http.get("/api/documents/etude"))
        assert http.post("/api/ask", json=QUESTION).status_code == 200

        _repair(settings)

        _assert_whole(http)


@pytest.mark.parametrize("how", ["deleted", "corrupted"])
def test_feedback_survives_its_file_being_lost_while_running(settings, how):
    path = settings.data_dir / FEEDBACK_FILE
    with running(settings) as http:
        assert http.post("/api/feedback", json=FEEDBACK).status_code == 201
        for file in settings.data_dir.glob(f"{FEEDBACK_FILE}*"):
            file.unlink()
        if how == "corrupted":
            path.write_bytes(GARBAGE)

        response = http.post("/api/feedback", json=FEEDBACK)

        assert response.status_code == 201, response.text
        if how == "corrupted":
            [aside] = settings.data_dir.glob(f"{FEEDBACK_FILE}.broken-*")
            assert aside.read_bytes() == GARBAGE
        assert http.post("/api/feedback", json=FEEDBACK).json()["id"] == 2


def test_a_feedback_write_that_cannot_be_stored_is_a_503(settings):
    path = settings.data_dir / FEEDBACK_FILE
    with running(settings) as http:
        assert http.post("/api/feedback", json=FEEDBACK).status_code == 201
        for file in settings.data_dir.glob(f"{FEEDBACK_FILE}*"):
            file.unlink()
        path.mkdir()  # in the way of the database file: nothing can be written there

        response = http.post("/api/feedback", json=FEEDBACK)

        assert response.status_code == 503, response.text
        assert response.json()["detail"]["code"] == "feedback_unavailable"
        assert FEEDBACK_FILE in response.json()["detail"]["message"]
