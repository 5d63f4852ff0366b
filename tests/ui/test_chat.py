"""The chat as a person uses it, in headless Chromium: ask, read the sources, open a passage
in its document, give a thumbs-up, export the conversation."""

import re
import time
from pathlib import Path

import pytest
from browser_helpers import open_chat, screenshot

from assistant.serving.feedback import FeedbackStore

pytestmark = pytest.mark.integration

REEN = "Ma communauté de communes doit-elle adopter une stratégie numérique responsable (REEN) ?"


def ask(page, question: str) -> str:
    """Type a question, send it, and return the answer once it is complete: its sources
    (written when the stream ends) carry the answer's rank in the conversation."""
    turn = page.locator("#chat .bot").count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    try:
        page.locator(f"#sources [data-turn='{turn}']").wait_for()
    except Exception:
        screenshot(page, "failed-ask")
        raise
    return page.locator("#chat .bot").last.inner_text()


def open_options(page) -> None:
    """Unfold « Filtres et options » (filters, the brief mode, export, new conversation)."""
    page.get_by_role("button", name="Filtres et options").click()
    page.locator("#brief").wait_for()


def wait_for(condition, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_answer_with_source_cards_context_and_thumbs_up(page, live_server, corpus_index):
    open_chat(page, live_server)

    answer = ask(page, REEN)

    assert "50 000" in answer and "[1]" in answer
    cards = page.locator("#sources .source-card")
    markers = sorted(set(re.findall(r"\[(\d+)\]", answer)), key=int)
    assert [cards.nth(i).get_attribute("data-n") for i in range(cards.count())] == markers
    first = cards.first
    assert first.locator(".source-title").inner_text()
    assert re.search(r"slides|meeting-report|study", first.locator(".source-meta").inner_text())
    assert first.locator(".source-text mark").count() >= 1
    highlighted = " ".join(first.locator(".source-text mark").all_inner_texts())
    assert any(word in highlighted for word in ("50 000", "numérique responsable"))
    screenshot(page, "chat-answer")

    first.locator("button.open-context").click()
    passage = page.locator("#context .context-passage")
    passage.wait_for()
    assert "Passage" in page.locator("#context .source-meta").inner_text()
    card_start = " ".join(first.locator(".source-text").inner_text().split())[:30]
    assert card_start[:15] in " ".join(passage.inner_text().split())
    around = page.locator("#context .context-before").inner_text()
    around += page.locator("#context .context-after").inner_text()
    assert len(around) > 100

    # The thumbs-up of the last answer ("J'aime" in a French browser).
    page.locator('#chat button[aria-label="J\'aime"], #chat button[aria-label=Like]').last.click()
    page.locator("#comment textarea").wait_for()
    page.locator("#comment textarea").fill("Réponse claire, merci.")
    page.get_by_role("button", name="Envoyer le commentaire").click()

    store = FeedbackStore.in_data_dir(corpus_index.data_dir)

    def stored():
        return [
            r for r in store.all() if r.question == REEN and r.comment == "Réponse claire, merci."
        ]

    record = wait_for(stored)[-1]
    assert record.rating == "up"
    assert record.source == "ui"
    assert "50 000" in record.answer
    assert [c.n for c in record.citations] == [int(n) for n in markers]
    screenshot(page, "chat-feedback")


def test_empty_question_shows_a_french_message_not_a_trace(page, live_server):
    open_chat(page, live_server)

    page.locator("#send").click()

    toast = page.get_by_text("La question est vide : écrivez une question.")
    toast.wait_for()
    assert "Traceback" not in page.content()


def test_side_panel_profile_brief_and_markdown_export(page, live_server):
    open_chat(page, live_server)
    # An empty population reads empty, not "0" (it is filled in on load).
    page.wait_for_function("() => document.querySelector('#population input').value === ''")
    page.locator("#profile-kind input").click()
    page.get_by_role("option", name="communauté de communes", exact=True).click()
    page.locator("#population input").fill("20000")

    answer = ask(page, "Doit-on adopter une stratégie numérique responsable ?")

    assert "20\u202f000 habitants, vous n'êtes pas dans le cas" in answer
    first_sources = page.locator("#sources .source-card").all_inner_texts()

    open_options(page)
    page.locator("#brief input[type=checkbox]").check()
    brief = ask(page, "Quelles difficultés sur les données ?")

    assert brief.startswith("Ce qu'ont dit les participants, par intervenant")
    cards = page.locator("#sources .source-card .source-meta").all_inner_texts()
    assert sum("meeting-report" in meta for meta in cards) >= 2

    # Clicking the first answer brings its own sources back.
    page.locator("#chat .bot").first.click()
    page.locator("#sources [data-turn='0']").wait_for()  # the first answer's cards are shown
    assert page.locator("#sources .source-card").all_inner_texts() == first_sources

    with page.expect_download() as download:
        page.locator("#export").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## 1. Doit-on adopter une stratégie numérique responsable ?" in markdown
    assert "## 2. Quelles difficultés sur les données ?" in markdown
    assert "Collectivité : communauté de communes, 20\u202f000 habitants." in markdown
    assert markdown.count("**Sources**") == 2
    assert "\n- [1] *" in markdown and "\n  > " in markdown


def test_document_filter_restricts_the_sources(page, live_server):
    open_chat(page, live_server)
    open_options(page)
    page.locator("#filter-documents input").click()
    page.get_by_role("option", name=re.compile("Flash Territoires")).click()
    page.keyboard.press("Escape")

    ask(page, "Quels usages du numérique dans les territoires de projet ?")

    titles = page.locator("#sources .source-title").all_inner_texts()
    assert titles and set(titles) == {"Flash Territoires de projet et usages du numérique"}
