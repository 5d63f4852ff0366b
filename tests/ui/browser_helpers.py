"""Helpers of the browser tests: where Chromium is, how it runs, where screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.settings import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("ASSISTANT_TEST_CHROMIUM", "/usr/bin/chromium"))
# Nothing is fetched at run time: no browser download, no background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_ROOT / "test-results" / "screenshots"
ADMIN_KEY = "cle-admin-navigateur"


def screenshot(page, name: str) -> Path:
    """Save a screenshot under test-results/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
