"""The chat advises on RGAA, so it meets it (issue 13, part 3): an axe-core audit of the
chat, the corpus page and « Mes obligations » at 1440 px and 390 px finds no serious or
critical violation; the keyboard alone reaches the question and sends it, with a visible
focus; a complete answer is announced by a live region."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_helpers import VIEWPORTS, ask, new_page, open_chat
from helpers import make_settings, serve, write_small_corpus

from assistant.serving.api import create_app
from ingest.index import ingest

pytestmark = pytest.mark.integration

QUESTION = "Quelles collectivités doivent ouvrir leurs données publiques ?"
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("a11y")
    corpus = write_small_corpus(root / "corpus")
    settings = make_settings(data_dir=root / "data", corpus_dir=corpus, embedder="hash")
    ingest(corpus, settings, progress=False)
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def open_tab(page, name: str) -> None:
    """Select a tab, from Gradio's « more tabs » menu when the screen is too narrow."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        page.locator(".overflow-menu > button").click()
        page.locator(".overflow-dropdown button", has_text=name).click()


def settle(page) -> None:
    """Wait until no component is pending (Gradio fades a pending one to 0.2 opacity: a false
    contrast), then for its fade back (Gradio's opacity transitions last at most 0.3 s)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"status-tracker\"]')]"
        ".every(s => s.classList.contains('hide') || s.offsetParent === null)"
        " && !document.querySelector('.pending')"
    )
    page.wait_for_timeout(400)


def blocking(axe, page) -> list[str]:
    """The serious and critical violations on the page: rule, impact, first elements."""
    settle(page)
    violations = axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_axe_finds_no_serious_or_critical_violation(browser, app_url, axe, viewport):
    page = new_page(browser, viewport)
    open_chat(page, app_url)
    page.locator("#send").click()  # an empty question: a toast, audited with the page
    toast = page.get_by_text("La question est vide : écrivez une question.")
    toast.wait_for()
    ask(page, QUESTION)
    page.locator("#sources .open-context").first.click()
    page.locator("#context .context-passage").wait_for()
    found = {"chat": blocking(axe, page)}
    assert toast.is_visible()

    open_tab(page, "Corpus")
    page.locator("#corpus-table table").wait_for()
    found["corpus"] = blocking(axe, page)

    open_tab(page, "Mes obligations")
    page.locator("#obligations-report").wait_for()
    found["obligations"] = blocking(axe, page)
    page.context.close()

    assert found == {"chat": [], "corpus": [], "obligations": []}


def test_the_keyboard_alone_reaches_the_question_and_sends_it(browser, app_url):
    page = new_page(browser, "desktop")
    open_chat(page, app_url)
    page.locator("body").focus()

    order = []
    for _ in range(40):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.closest('[id]')?.id || ''"))
        if order[-1] == "question":
            break
    # The collectivity comes before the question, the question within reach.
    assert "question" in order and order.index("profile-kind") < order.index("question")
    page.keyboard.type(QUESTION)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "send"
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2  # a visible focus
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # Enter in the question sends it

    page.locator("#sources [data-turn='0']").wait_for()
    page.context.close()


def test_a_complete_answer_is_announced_by_a_live_region(browser, app_url):
    page = new_page(browser, "phone")
    open_chat(page, app_url)
    announcer = page.locator("#announcer")
    # The page script gives the region its role once Gradio has rendered it.
    page.wait_for_function(
        "() => document.querySelector('#announcer')?.getAttribute('role') === 'status'"
    )
    assert announcer.get_attribute("role") == "status"
    assert announcer.get_attribute("aria-live") == "polite"

    ask(page, QUESTION)

    page.wait_for_function(
        "() => document.querySelector('#announcer').innerText.startsWith('Réponse :')"
    )
    text = announcer.inner_text()
    assert "source(s)" in text and "données publiques" in text
    # The chat's own log does not read every streamed word as well.
    assert page.locator("#chat [role='log']").get_attribute("aria-live") == "off"
    page.context.close()
