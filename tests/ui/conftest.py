"""Browser fixtures: Debian's Chromium driven by Playwright, and an admin-enabled server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_helpers import ADMIN_KEY, CHROMIUM, CHROMIUM_ARGS
from helpers import make_settings, serve, write_small_corpus

from assistant.settings import Settings
from ingest.index import ingest


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """A headless Chromium for the whole session (skipped, with the reason, when absent)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: run `make install` (dev extra)")
    if not CHROMIUM.is_file():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` "
            "(.ci/run does) or point ASSISTANT_TEST_CHROMIUM at one"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh French-speaking tab, wide enough for the side panel and the sources."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="fr-FR")
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def admin_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The full app (API and chat) on a three-document corpus with an admin key."""
    from assistant.serving.api import create_app

    root = tmp_path_factory.mktemp("admin-ui")
    corpus = write_small_corpus(root / "corpus")
    settings = make_settings(
        data_dir=root / "data", corpus_dir=corpus, embedder="hash", admin_key=ADMIN_KEY
    )
    ingest(corpus, settings, progress=False)
    with serve(create_app(settings)) as url:
        yield url, settings
