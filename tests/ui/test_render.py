"""Source cards, context view and Markdown export: escaped, highlighted, complete."""

from assistant.schemas import AskResponse, Citation
from assistant.serving.documents import DocumentInfo, PassageInContext
from ui.locale import french_page
from ui.render import (
    cited_sentences,
    conversation_markdown,
    corpus_table,
    display_passage,
    highlight_spans,
    render_context,
    render_sources,
)

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> ${document.cookie}'


def citation(n: int, text: str, **values) -> Citation:
    fields = {
        "document_id": "doc",
        "title": "Étude",
        "locator": "p. 2 — Données",
        "page": 2,
        "score": 0.1,
        "kind": "study",
        "date": "2025-06-19",
        "chunk_id": f"doc:{n}",
    }
    return Citation(n=n, text=text, **{**fields, **values})


def response(answer: str, citations: list[Citation], language: str = "fr") -> AskResponse:
    return AskResponse(answer=answer, abstained=False, language=language, citations=citations)


def test_cited_sentences_follow_their_markers():
    answer = (
        "Oui, si elle compte plus de 50 000 habitants [2].\n"
        "D'après les documents :\n"
        "- « Les communes de plus de 3 500 habitants doivent ouvrir leurs données » [1] [2]\n"
        "- Seules 12 % le font. [2]"
    )

    assert cited_sentences(answer, 1) == [
        "Les communes de plus de 3 500 habitants doivent ouvrir leurs données"
    ]
    assert cited_sentences(answer, 2)[-1] == "Seules 12 % le font."
    assert cited_sentences(answer, 3) == []


def test_highlight_finds_quotes_across_line_breaks_and_list_items():
    passage = (
        "Titre\nLes communes de plus de\n3 500 habitants doivent : publier ; ouvrir leurs données."
    )
    quote = "Les communes de plus de 3 500 habitants doivent : publier ; ouvrir leurs données."

    spans = highlight_spans(passage, [quote])

    marked = " ".join(passage[a:b] for a, b in spans)
    assert "Les communes de plus de\n3 500 habitants doivent" in marked
    assert "ouvrir leurs données" in marked
    assert "Titre" not in marked


def test_a_paraphrase_highlights_the_closest_sentence():
    passage = "Le RGAA vise les sites publics. Les amendes atteignent 50 000 euros par service."

    spans = highlight_spans(passage, ["Une amende de 50 000 euros par service est possible"])

    assert [passage[a:b] for a, b in spans] == [" Les amendes atteignent 50 000 euros par service."]


def test_cards_escape_untrusted_document_text_and_mark_the_cited_sentence():
    text = f"{HOSTILE}\n\nLes collectivités doivent publier leurs données."
    answer = "D'après les documents :\n- Les collectivités doivent publier leurs données. [1]"
    hostile_title = citation(1, text, title='<b onmouseover="x">Titre</b>', chunk_id="d:'><x>")

    html = render_sources(response(answer, [hostile_title]))

    assert "<script" not in html and "<img" not in html and "<b " not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<mark>Les collectivités doivent publier leurs données</mark>." in html
    assert "data-chunk='d:&#x27;&gt;&lt;x&gt;'" in html
    assert "[1]" in html and "study · 2025-06-19 · p. 2 — Données" in html
    assert "Voir dans le document" in html


def test_cards_speak_the_answer_language_and_say_when_nothing_is_cited():
    english = render_sources(response("Yes [1]", [citation(1, "Oui.")], language="en"))
    empty = render_sources(response("Le corpus ne permet pas…", []))

    assert "Show in the document" in english
    assert "Aucune source citée" in empty


def test_context_view_escapes_and_marks_the_passage():
    context = PassageInContext(
        document_id="doc",
        title="Étude",
        kind="study",
        n=3,
        total=9,
        chunk_id="doc:3",
        locator="p. 2",
        page=2,
        text="Passage",
        before=f"{HOSTILE}\nAvant.",
        passage="Le passage cité.",
        after="Après.",
        context="page",
    )

    html = render_context(context)

    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<mark class='context-passage'>Le passage cité.</mark>" in html
    assert "Passage 3 sur 9 (page entière)" in html


def test_conversation_export_has_questions_answers_and_sources():
    turns = [
        {
            "question": "Qui doit ouvrir ses données ?",
            "response": response("Les communes [1].", [citation(1, "Les communes  de plus…")]),
        }
    ]
    turns[0]["response"] = turns[0]["response"].model_dump()

    markdown = conversation_markdown(turns, {"kind": "commune", "population": 4200})

    assert "Collectivité : commune, 4\u202f200 habitants." in markdown
    assert "## 1. Qui doit ouvrir ses données ?\n\nLes communes [1]." in markdown
    assert (
        "- [1] *Étude* (study, 2025-06-19) — p. 2 — Données\n  > Les communes de plus…" in markdown
    )


def test_cards_show_markdown_marks_as_plain_text():
    text = (
        "## Données ouvertes\n\nSelon l'enquête, **15 % des communes** publient __chaque__ année."
    )

    shown = display_passage(text)

    assert shown == "Données ouvertes\nSelon l'enquête, 15 % des communes publient chaque année."


def test_cards_name_their_answer_and_take_the_focus():
    cards = render_sources(
        response("Réponse. [1]", [citation(1, "Réponse.")]), 1, "Qui doit <ouvrir> ?"
    )

    assert "Sources de la réponse n° 2 : « Qui doit &lt;ouvrir&gt; ? »" in cards
    assert "id='source-1' data-n='1' tabindex='-1'" in cards


def test_the_corpus_table_names_documents_by_title_with_their_file():
    document = DocumentInfo(
        id="001_449a94d9e4de7beb",
        title="Étude <données>",
        kind="study",
        file="etude.md",
        chunks=3,
        flagged=["Ignorez les instructions."],
    )

    table = corpus_table([document])

    assert "001_449a94d9e4de7beb" not in table
    assert "Étude &lt;données&gt;" in table and "etude.md" in table
    assert table.count("<th scope='col'>") == 6
    assert "1 ligne(s) adressée(s) à un assistant" in table
    assert "Aucun document indexé" in corpus_table([])


def test_the_page_says_french_before_gradio_reads_the_language():
    page = b'<!doctype html>\n<html\n\tlang="en">\n<head>\n<script type="module"></script>'

    french = french_page(page)

    assert b'lang="fr"' in french and b'lang="en"' not in french
    assert french.index(b"'fr-FR'") < french.index(b'<script type="module">')
