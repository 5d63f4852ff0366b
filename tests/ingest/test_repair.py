"""Broken state on disk: an ingestion run sets what it cannot read aside and rebuilds it."""

import os
import shutil
import subprocess
import sys

import pytest
from helpers import write_small_corpus

from assistant.errors import IndexUnreadableError
from assistant.settings import PROJECT_ROOT
from ingest.index import STATE_FILE, ingest, load_state, open_store


def _ingest(settings, path=None):
    return ingest(path or settings.corpus_dir, settings, progress=False)


def _owned(settings) -> set[str]:
    documents = load_state(settings.index_dir)["documents"]
    return {i for entry in documents.values() for i in entry["chunk_ids"]}


@pytest.fixture
def indexed(hash_settings):
    """The small corpus indexed; returns the stored chunk ids."""
    write_small_corpus(hash_settings.corpus_dir)
    _ingest(hash_settings)
    return open_store(hash_settings).ids()


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_lost_store_is_filled_again_by_the_next_run(hash_settings, indexed, how):
    chroma = hash_settings.index_dir / "chroma"
    shutil.rmtree(chroma)
    if how == "emptied":
        chroma.mkdir()

    report = _ingest(hash_settings)

    assert sorted(report.indexed) == ["compte-rendu", "diapos", "etude"]
    assert open_store(hash_settings).ids() == indexed == _owned(hash_settings)


def test_an_unreadable_store_is_set_aside_and_rebuilt(hash_settings, indexed):
    database = hash_settings.index_dir / "chroma" / "chroma.sqlite3"
    database.write_bytes(b"ceci n'est pas une base SQLite " * 100)
    with pytest.raises(IndexUnreadableError, match="assistant ingest"):
        open_store(hash_settings)

    report = _ingest(hash_settings)

    [aside] = hash_settings.index_dir.glob("chroma.broken-*")
    assert (aside / "chroma.sqlite3").read_bytes().startswith(b"ceci n'est pas")
    assert any(aside.name in repair for repair in report.repairs)
    assert aside.name in report.summary()
    assert open_store(hash_settings).ids() == indexed == _owned(hash_settings)
    assert report.errors == []


def test_an_unreadable_state_is_set_aside_and_rebuilt_reusing_the_chunks(hash_settings, indexed):
    state = hash_settings.index_dir / STATE_FILE
    truncated = state.read_text(encoding="utf-8")[:120]
    state.write_text(truncated, encoding="utf-8")
    with pytest.raises(IndexUnreadableError, match="assistant ingest"):
        load_state(hash_settings.index_dir)

    report = _ingest(hash_settings)

    [aside] = hash_settings.index_dir.glob(f"{STATE_FILE}.broken-*")
    assert aside.read_text(encoding="utf-8") == truncated
    assert aside.name in report.summary()
    assert sorted(load_state(hash_settings.index_dir)["documents"]) == [
        "compte-rendu",
        "diapos",
        "etude",
    ]
    assert report.chunks_embedded == 0  # stored chunks are found again by their content id
    assert report.chunks_kept == len(indexed)
    assert open_store(hash_settings).ids() == indexed == _owned(hash_settings)


def test_a_rebuilt_state_keeps_the_uploaded_documents(hash_settings, indexed):
    uploads = hash_settings.data_dir / "uploads"
    uploads.mkdir()
    (uploads / "guide.md").write_text("# Guide\n\nLes communes trient leurs déchets.\n", "utf-8")
    _ingest(hash_settings, uploads)
    stored = open_store(hash_settings).ids()
    (hash_settings.index_dir / STATE_FILE).write_text("{", encoding="utf-8")

    report = _ingest(hash_settings)

    assert "guide" in load_state(hash_settings.index_dir)["documents"]
    assert report.chunks_embedded == 0
    assert open_store(hash_settings).ids() == stored == _owned(hash_settings)


@pytest.mark.integration
def test_the_ingest_command_repairs_and_says_so(hash_settings, indexed):
    (hash_settings.index_dir / "chroma" / "chroma.sqlite3").write_bytes(b"\x00garbage" * 500)
    (hash_settings.index_dir / STATE_FILE).write_text('{"documents": {', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {
        "ASSISTANT_DATA_DIR": str(hash_settings.data_dir),
        "ASSISTANT_CORPUS_DIR": str(hash_settings.corpus_dir),
        "ASSISTANT_EMBEDDER": "hash",
        "PYTHONPATH": str(PROJECT_ROOT),
    }

    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest"],
        capture_output=True,
        text=True,
        env=env,
        cwd=hash_settings.data_dir,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert "chroma.broken-" in done.stdout and f"{STATE_FILE}.broken-" in done.stdout
    assert open_store(hash_settings).ids() == indexed == _owned(hash_settings)
