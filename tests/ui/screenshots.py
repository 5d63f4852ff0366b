"""Screenshots for the README: the chat on a desktop and on a phone, and « Mes obligations »,
taken in Debian's Chromium from the app served on the project's index (`make run`'s data
folder). Run: .venv/bin/python tests/ui/screenshots.py [--out docs]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from browser_helpers import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from helpers import serve  # noqa: E402

from assistant.serving.api import create_app  # noqa: E402
from assistant.settings import PROJECT_ROOT, Settings  # noqa: E402

QUESTION = (
    "Ma communauté de communes doit-elle adopter une stratégie numérique responsable (REEN) ?"
)
PHONE_QUESTION = "Quelles collectivités doivent ouvrir leurs données publiques ?"


def choose_profile(page, kind: str, population: int) -> None:
    # The fields are filled in on load (an empty population): wait for it, then type.
    page.wait_for_function("() => document.querySelector('#population input').value === ''")
    page.locator("#profile-kind input").click()
    page.get_by_role("option", name=kind, exact=True).click()
    page.locator("#population input").fill(str(population))
    page.locator("#population input").press("Tab")


def ask(page, question: str) -> None:
    turn = page.locator("#chat [data-testid='bot']").count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    page.locator(f"#sources [data-turn='{turn}']").wait_for(timeout=120_000)


def settle(page) -> None:
    """Wait until no component is pending (Gradio fades a pending one)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"status-tracker\"]')]"
        ".every(s => s.classList.contains('hide') || s.offsetParent === null)"
    )
    page.wait_for_timeout(300)  # the fade back to full opacity


def take(url: str, out: Path) -> list[Path]:
    """Take the three screenshots; return their paths."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for name, viewport, question in (
            ("chat-desktop", {"width": 1440, "height": 1000}, QUESTION),
            ("chat-phone", {"width": 390, "height": 844}, PHONE_QUESTION),
        ):
            context = browser.new_context(viewport=viewport, locale="fr-FR")
            page = context.new_page()
            page.goto(url)
            page.locator("#sources .sources-empty").wait_for()
            choose_profile(page, "communauté de communes", 32000)
            ask(page, question)
            if name == "chat-desktop":
                page.locator("#chat button.cite-marker").first.click()
                page.wait_for_function("() => document.activeElement?.id === 'source-1'")
            settle(page)
            page.locator("#chat").evaluate(
                "chat => { for (const e of [chat, ...chat.querySelectorAll('*')])"
                " if (e.scrollHeight > e.clientHeight) e.scrollTop = 0;"
                " chat.scrollIntoView(); }"
            )
            if name == "chat-desktop":
                page.evaluate("window.scrollTo(0, 0)")
            paths.append(out / f"{name}.png")
            page.screenshot(path=str(paths[-1]))
            context.close()
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="fr-FR")
        page = context.new_page()
        page.goto(url)
        page.locator("#sources .sources-empty").wait_for()
        choose_profile(page, "communauté d'agglomération", 70000)
        page.get_by_role("tab", name="Mes obligations").click()
        page.locator("#obligations-report").wait_for()
        settle(page)
        paths.append(out / "obligations.png")
        page.screenshot(path=str(paths[-1]))
        context.close()
        browser.close()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs")
    args = parser.parse_args()
    settings = Settings(_env_file=None, answerer="extractive")
    with serve(create_app(settings)) as url:
        for path in take(url, args.out):
            print(path)


if __name__ == "__main__":
    main()
