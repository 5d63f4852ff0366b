"""The chat window as a new user found it (issue 13, part 2), in Debian's Chromium at
1440 px and at 390 px: every control reachable on a phone, `[n]` markers that open their
card, the cards naming their answer, passages opened in view, no raw Markdown, examples that
ask, the comment box beside its answer, a French page in any browser, a corpus table that
fits, and a word when there is no index yet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import VIEWPORTS, ask, new_page, open_chat, screenshot
from helpers import make_settings, serve, write_small_corpus

from assistant.serving.api import create_app
from ingest.index import ingest
from ui.app import EXAMPLES

pytestmark = pytest.mark.integration

OPEN_DATA = "Quelles collectivités doivent ouvrir leurs données publiques ?"
CHARGING = "Quand les bornes de recharge des véhicules électriques municipaux sont-elles posées ?"
FIGURES = "Quelle part des communes publie ses données ouvertes selon l'enquête ?"
FILLER = (
    "Le service des espaces verts entretient les parcs, les jardins partagés et les "
    "alignements d'arbres de la commune ; il publie chaque saison un calendrier de taille."
)


def write_chat_corpus(folder: Path) -> Path:
    """The three small documents, a figure written in Markdown bold, and a long guide
    whose last paragraph is far below its first."""
    write_small_corpus(folder)
    (folder / "chiffres.md").write_text(
        "# Chiffres du numérique local\n\n## Données ouvertes\n\n"
        "Selon l'enquête, **15 % des communes** publient leurs données ouvertes chaque année.\n",
        encoding="utf-8",
    )
    paragraphs = [f"{i}. {FILLER}" for i in range(1, 15)]
    paragraphs.append(
        "Les bornes de recharge des véhicules électriques municipaux sont posées en 2026 "
        "sur le parking de la mairie."
    )
    (folder / "guide-long.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The full app on the small corpus (hash embedder: fast, deterministic)."""
    root = tmp_path_factory.mktemp("chat-window")
    corpus = write_chat_corpus(root / "corpus")
    settings = make_settings(data_dir=root / "data", corpus_dir=corpus, embedder="hash")
    ingest(corpus, settings, progress=False)
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, browser) -> Iterator[tuple[str, object]]:
    """(viewport name, a fresh page) at 1440 px and at 390 px."""
    page = new_page(browser, request.param)
    yield request.param, page
    page.context.close()


def in_viewport(locator) -> bool:
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return r.bottom > 0 && r.top < innerHeight && r.height > 0; }"
    )


def test_send_is_reachable_at_once_and_the_chat_follows_the_screen(screen, chat_url):
    name, page = screen
    open_chat(page, chat_url)

    # Nothing covers the page: « Envoyer » takes the click (an empty question is refused).
    page.locator("#send").click(timeout=5_000)
    page.get_by_text("La question est vide : écrivez une question.").wait_for()

    height = page.locator("#chat").evaluate("e => e.getBoundingClientRect().height")
    assert 200 < height <= 0.7 * VIEWPORTS[name][1]
    # No floating « Conversation » label over the messages.
    assert page.locator("#chat [data-testid='block-label']").count() == 0


def test_markers_open_their_answers_cards_and_an_earlier_answer_closes_the_passage(
    screen, chat_url
):
    name, page = screen
    open_chat(page, chat_url)
    ask(page, OPEN_DATA)
    ask(page, CHARGING)
    page.locator("#sources .open-context").first.click()
    page.locator("#context .context-passage").wait_for()

    first = page.locator("#chat [data-testid='bot']").first
    marker = first.locator("button.cite-marker").first
    n = marker.get_attribute("data-n")
    marker.click()

    card = page.locator(f"#sources [data-turn='0'] #source-{n}")
    card.wait_for()
    assert "réponse n° 1" in page.locator("#sources .sources-for").inner_text()
    assert OPEN_DATA[:30] in page.locator("#sources .sources-for").inner_text()
    page.wait_for_function("() => document.activeElement?.id?.startsWith('source-')")
    assert in_viewport(card)
    # The answer the cards belong to is outlined, the other one is not.
    assert "current-answer" in (first.get_attribute("class") or "")
    assert "current-answer" not in (
        page.locator("#chat [data-testid='bot']").last.get_attribute("class") or ""
    )
    # The passage opened from the second answer is gone with its cards.
    page.locator("#context").wait_for(state="hidden")
    screenshot(page, f"markers-{name}")


def test_a_marker_works_from_the_keyboard(browser, chat_url):
    page = new_page(browser, "desktop")
    open_chat(page, chat_url)
    ask(page, OPEN_DATA)

    page.locator("#chat button.cite-marker").last.focus()
    page.keyboard.press("Enter")

    page.wait_for_function("() => document.activeElement?.classList.contains('source-card')")
    page.context.close()


def test_a_passage_opens_in_view_scrolled_to_its_highlight(screen, chat_url):
    name, page = screen
    open_chat(page, chat_url)
    ask(page, CHARGING)
    card = page.locator("#sources .source-card", has_text="bornes de recharge").first

    card.locator(".open-context").click()

    passage = page.locator("#context .context-passage")
    passage.wait_for()
    page.wait_for_function(
        "() => { const p = document.querySelector('#context .context-passage');"
        " const box = document.querySelector('#context .context-text');"
        " const r = p.getBoundingClientRect(), b = box.getBoundingClientRect();"
        " return box.scrollTop > 0 && r.top >= b.top - 1 && r.top < b.bottom"
        " && r.top >= 0 && r.top < innerHeight; }"
    )
    # The document view opens above the cards, not below them.
    context_top = page.locator("#context").evaluate("e => e.getBoundingClientRect().top")
    cards_top = page.locator("#sources").evaluate("e => e.getBoundingClientRect().top")
    assert context_top < cards_top
    screenshot(page, f"context-{name}")


def test_cards_show_document_text_without_markdown_marks(browser, chat_url):
    page = new_page(browser, "desktop")
    open_chat(page, chat_url)
    ask(page, FIGURES)

    cards = page.locator("#sources .source-text").all_inner_texts()

    assert any("15 % des communes" in text for text in cards)
    assert not any("**" in text for text in cards)
    page.context.close()


def test_examples_are_whole_questions_that_ask(screen, chat_url):
    name, page = screen
    open_chat(page, chat_url)
    buttons = page.locator(".example-question")
    buttons.last.wait_for()

    assert buttons.all_inner_texts() == EXAMPLES  # written in full, never cut with « … »
    for i in range(buttons.count()):
        assert buttons.nth(i).evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    buttons.nth(2).click()

    page.locator("#sources [data-turn='0']").wait_for()
    assert EXAMPLES[2] in page.locator("#chat [data-testid='user']").first.inner_text()


def test_the_comment_box_opens_under_the_chat_with_the_focus(screen, chat_url):
    name, page = screen
    open_chat(page, chat_url)
    ask(page, OPEN_DATA)

    page.locator('#chat button[aria-label="J\'aime"]').last.click()

    comment = page.locator("#comment textarea")
    comment.wait_for()
    page.wait_for_function("() => document.activeElement?.closest('#comment') !== null")
    assert "réponse n° 1" in page.locator("#comment").inner_text()
    chat_bottom = page.locator("#chat").evaluate("e => e.getBoundingClientRect().bottom")
    box_top = page.locator("#comment-box").first.evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= box_top - chat_bottom < 40
    assert in_viewport(comment)


def test_the_chosen_kind_shows_whole(screen, chat_url):
    name, page = screen
    open_chat(page, chat_url)

    page.locator("#profile-kind input").click()
    page.get_by_role("option", name="communauté d'agglomération", exact=True).click()

    field = page.locator("#profile-kind input")
    assert field.input_value() == "communauté d'agglomération"
    assert field.evaluate("e => e.scrollWidth <= e.clientWidth")


def test_gradio_speaks_french_even_to_an_english_browser(browser, chat_url):
    page = new_page(browser, "desktop", locale="en-US")
    open_chat(page, chat_url)
    ask(page, OPEN_DATA)
    chat_labels = page.locator("[aria-label]").evaluate_all(
        "elements => elements.map(e => e.getAttribute('aria-label')).join(' | ')"
    )
    page.get_by_role("tab", name="Corpus").click()
    upload = page.locator("#upload-file").inner_text()

    assert page.evaluate("document.documentElement.lang") == "fr"
    assert "Déposez le fichier ici" in upload and "Drop File Here" not in upload
    for english in ("Copy message", "Dislike", "Like", "bot's message", "More tabs"):
        assert english not in chat_labels, english
    assert "J'aime" in chat_labels and "Copier le message" in chat_labels
    page.context.close()


def test_the_corpus_table_fits_and_names_documents_by_title(screen, chat_url):
    name, page = screen
    open_chat(page, chat_url)
    page.get_by_role("tab", name="Corpus").click()
    table = page.locator("#corpus-table table")
    table.wait_for()

    fits = table.evaluate(
        "t => t.getBoundingClientRect().right <= t.parentElement.getBoundingClientRect().right"
        " + 1 && t.scrollWidth <= t.clientWidth + 1"
    )
    assert fits
    text = table.inner_text()
    assert "Étude sur les données" in text and "etude.md" in text
    for column in ("Type", "Date", "Pages", "Passages"):
        header = page.locator("#corpus-table th", has_text=column)
        assert header.count() == 1
    if name == "desktop":  # on a phone each row is a block whose lines carry the names
        assert all(in_viewport(h) for h in page.locator("#corpus-table th").all())
    else:
        label = page.locator("#corpus-table tbody td[data-label='Passages']").first.evaluate(
            "td => getComputedStyle(td, '::before').content"
        )
        assert "Passages" in label
    screenshot(page, f"corpus-{name}")


def test_an_empty_index_says_so_in_the_chat(browser, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus, embedder="hash")
    page = new_page(browser, "phone")
    with serve(create_app(settings)) as url:
        open_chat(page, url)
        notice = page.locator("#index-notice")
        notice.get_by_text("Aucun document indexé").wait_for()
        assert "quelques minutes" in notice.inner_text()
        assert in_viewport(notice)
    page.context.close()


# Counts the page's writes of the stored profile (Gradio encrypts the value itself).
COUNT_PROFILE_WRITES = """
window.profileWrites = 0;
const setItem = Storage.prototype.setItem;
Storage.prototype.setItem = function (key, value) {
    if (key.includes("assistant-profile")) window.profileWrites += 1;
    return setItem.call(this, key, value);
};
"""


def test_the_profile_is_set_once_and_kept_for_the_session(browser, chat_url):
    page = new_page(browser, "desktop")
    page.context.add_init_script(COUNT_PROFILE_WRITES)
    open_chat(page, chat_url)
    # Empty at first (not "0"), above the tabs: the same fields for every tab.
    page.wait_for_function("() => document.querySelector('#population input').value === ''")
    assert page.locator("[role='tabpanel'] #profile-kind").count() == 0
    page.locator("#profile-kind input").click()
    page.get_by_role("option", name="communauté d'agglomération", exact=True).click()
    page.locator("#population input").fill("70000")
    writes = page.evaluate("() => window.profileWrites")
    page.locator("#population input").press("Tab")
    # The profile is stored in the page (no round trip): a write follows the change.
    page.wait_for_function("(before) => window.profileWrites > before", arg=writes)

    page.reload()
    open_chat(page, chat_url)

    page.wait_for_function("() => document.querySelector('#population input').value === '70000'")
    assert page.locator("#profile-kind input").input_value() == "communauté d'agglomération"
    page.context.close()
