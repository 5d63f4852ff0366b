"""Helpers of the API tests: the admin key, its header, a small indexed corpus."""

from __future__ import annotations

from pathlib import Path

from helpers import make_settings, write_small_corpus

from assistant.settings import Settings
from ingest.index import ingest

ADMIN_KEY = "cle-de-test-admin"


def small_index(root: Path, **values) -> Settings:
    """Settings on a three-document corpus indexed under `root`, with the hash embedder
    unless `embedder` says otherwise (the real one where an answer's confidence matters)."""
    corpus = write_small_corpus(root / "corpus")
    values.setdefault("embedder", "hash")
    settings = make_settings(data_dir=root / "data", corpus_dir=corpus, **values)
    ingest(corpus, settings, progress=False)
    return settings


def admin(key: str = ADMIN_KEY) -> dict[str, str]:
    """The header that carries the admin key."""
    return {"Authorization": f"Bearer {key}"}
