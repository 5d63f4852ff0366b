"""Helpers of the browser tests: where Chromium is, how it runs, where screenshots go, and
a French page on the chat at a desktop or a phone width."""

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
VIEWPORTS = {"desktop": (1440, 1000), "phone": (390, 844)}


def screenshot(page, name: str) -> Path:
    """Save a screenshot under test-results/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def new_page(browser, viewport: str, locale: str = "fr-FR"):
    """A fresh tab in its own context at one of VIEWPORTS; close it with page.context.close()."""
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    context.set_default_timeout(30_000)
    return context.new_page()


def open_chat(page, url: str) -> None:
    """Load the chat and wait until the app has mounted (its handlers are bound then)."""
    page.goto(url)
    page.locator("#sources .sources-empty").wait_for()


def ask(page, question: str) -> None:
    """Send a question with Enter and wait until its answer is complete."""
    turn = page.locator("#chat [data-testid='bot']").count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    page.locator(f"#sources [data-turn='{turn}']").wait_for()
