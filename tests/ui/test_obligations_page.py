"""« Mes obligations » in Debian's Chromium, at 1440 px and 390 px: the list follows the
profile set once above the tabs, verdicts are words in table cells with headers, the
Markdown export downloads, the print stylesheet prints the report alone, and axe-core finds
no serious or critical violation in the report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_helpers import screenshot
from helpers import make_settings, serve
from obligations_corpus import write_rules_corpus

from ingest.index import ingest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    """The full app (API and UI) on the guide with two rules."""
    from assistant.serving.api import create_app

    root = tmp_path_factory.mktemp("obligations-ui")
    corpus = write_rules_corpus(root / "corpus")
    settings = make_settings(data_dir=root / "data", corpus_dir=corpus, embedder="hash")
    ingest(corpus, settings, progress=False)
    with serve(create_app(settings)) as url:
        yield url


def open_obligations(page, url: str, kind: str, population: int | None) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Discussion").wait_for()
    # The profile's numbers get their empty value when the page's load events are done:
    # set earlier, they would be emptied again.
    page.wait_for_function("() => document.querySelector('#population input')?.value === ''")
    kind_field = page.locator("#profile-kind input")
    kind_field.click()
    page.get_by_role("option", name=kind, exact=True).click()
    if population is not None:
        page.locator("#population input").fill(str(population))
        page.locator("#population input").press("Tab")
    show_tab(page)
    page.locator("#obligations-report").wait_for()


def show_tab(page) -> None:
    """Open the tab; on a narrow screen Gradio lists it under « more tabs » (⋯)."""
    tab = page.get_by_role("tab", name="Mes obligations")
    if tab.is_visible():
        tab.click()
        return
    page.locator(".overflow-menu > button").click()
    page.locator(".overflow-dropdown button", has_text="Mes obligations").click()


def report_rows(page) -> dict[str, str]:
    """Each rule's request and its verdict cell, read as a person would."""
    rows = page.locator("#obligations-report tbody tr")
    return {
        rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator("td").nth(1).inner_text()
        for i in range(rows.count())
    }


def wait_for_title(page, text: str) -> None:
    page.wait_for_function(
        "text => document.querySelector('#obligations-title')?.innerText.includes(text)",
        arg=text,
    )


@pytest.mark.parametrize("width", [1440, 390])
def test_the_list_follows_the_shared_profile_with_verdicts_in_words(browser, app_url, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        open_obligations(page, app_url, "commune", 25_000)
        wait_for_title(page, "commune, 25\u202f000 habitants")

        rows = report_rows(page)
        sobriety = next(v for k, v in rows.items() if "schéma de sobriété" in k)
        referent = next(v for k, v in rows.items() if "référent" in k)
        assert "S'applique" in sobriety and "Ne s'applique" not in sobriety
        assert "Ne s'applique pas" in referent
        # Table semantics: headers with a scope, a caption per theme, a heading per theme.
        assert page.locator("#obligations-report th[scope='col']").count() >= 5
        assert page.locator("#obligations-report caption").count() == 2
        headings = page.locator("#obligations-report h3").all_inner_texts()
        assert headings == ["Sécurité", "Numérique responsable"]  # the domain's order
        # Nothing is wider than the screen.
        overflow = page.evaluate(
            "() => document.querySelector('#obligations-report').scrollWidth"
            " - document.querySelector('#obligations-report').clientWidth"
        )
        assert overflow <= 1
        screenshot(page, f"obligations-{width}")

        # The same profile without its population: the sobriety rule depends on it.
        page.locator("#population input").fill("")
        page.locator("#population input").press("Tab")
        wait_for_title(page, "— commune")
        page.wait_for_function(
            "() => document.querySelector('#obligations-report').innerText"
            ".includes('Dépend de votre collectivité : population')"
        )
    finally:
        context.close()


def test_markdown_export_print_stylesheet_and_axe_audit(page, app_url):
    open_obligations(page, app_url, "département", None)
    wait_for_title(page, "département")

    with page.expect_download() as download:
        page.locator("#obligations-export").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert text.startswith("# Mes obligations — département")
    assert "Désigner un référent pour la cybersécurité" in text

    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context="#obligations")
    serious = [
        v["id"]
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert serious == []

    page.emulate_media(media="print")
    shown = page.evaluate(
        "() => ['#obligations-report', '#obligations-print', '#question'].map(s => {"
        " const e = document.querySelector(s); const style = getComputedStyle(e);"
        " return style.display !== 'none' && style.visibility === 'visible'; })"
    )
    assert shown == [True, False, False]  # the report alone, not the buttons or the chat
    screenshot(page, "obligations-print")
