"""The Gradio chat: streamed cited answers, source cards, passages in context, feedback,
conversation export, and a corpus page. All logic stays in the library; this module only
collects input, calls it and renders."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path

import gradio as gr
from fastapi import FastAPI

from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.schemas import AskResponse, Filters, Message
from assistant.serving.documents import DocumentLibrary
from assistant.serving.feedback import FeedbackIn, FeedbackStore
from ui.corpus import build_corpus_tab
from ui.errors import ui_error, user_message
from ui.files import GRADIO_CACHE_KEEP_S, UploadGuard, write_export
from ui.locale import FrenchPage
from ui.obligations import build_obligations_tab
from ui.profile import profile_controls, profile_of, remember_profile
from ui.render import (
    answer_markdown,
    as_text,
    conversation_markdown,
    plain_text,
    render_context,
    render_sources,
)

log = logging.getLogger(__name__)

TITLE = "Assistant numérique des territoires"
EXAMPLES = [
    "Ma communauté de communes doit-elle adopter une stratégie numérique responsable (REEN) ?",
    "Quelles amendes risque une collectivité qui ne respecte pas le RGAA ?",
    "Quelles collectivités doivent ouvrir leurs données publiques ?",
    "Qu'a dit Francis Béguet sur l'accessibilité lors de la plénière du 19 juin 2025 ?",
]
FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "Consolas", "DejaVu Sans Mono", "monospace"]
# Clicks on a card's "open" button reach Python as a `click` event carrying the chunk id.
CARDS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.open-context');
  if (button) { trigger('click', {chunk_id: button.dataset.chunk}); }
});
"""
# When a passage opens (above the cards), the page brings it into view and its box scrolls
# to the passage, measured on screen (the box is the passage's offset parent).
CONTEXT_JS = """
const show = () => requestAnimationFrame(() => {
  const passage = element.querySelector('.context-passage');
  const box = element.querySelector('.context-text');
  if (!passage || !box) return;
  const offset = passage.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop = Math.max(0, box.scrollTop + offset - 40);
  element.scrollIntoView({block: 'start', behavior: 'instant'});
});
show();  // a hidden view is mounted when shown, its passage already in it
watch('value', show);
"""
# After a thumb, the comment box (just shown under the chat) takes the focus.
FOCUS_COMMENT_JS = """
() => {
  const focus = (tries) => {
    const field = document.querySelector('#comment textarea');
    if (field && field.offsetParent) field.focus();
    else if (tries) setTimeout(() => focus(tries - 1), 50);
  };
  focus(60);
}
"""
HERE = Path(__file__).parent
CSS = (HERE / "app.css").read_text(encoding="utf-8")
PAGE_JS = (HERE / "app.js").read_text(encoding="utf-8")
# Gradio's Soft theme, its small labels and placeholders darkened to a 4.5:1 contrast (RGAA 3.2).
THEME = gr.themes.Soft(font=FONTS, font_mono=MONO_FONTS).set(
    block_label_text_color="*primary_700",
    block_title_text_color="*primary_700",
    input_placeholder_color="*neutral_500",
    body_text_color_subdued="*neutral_600",
    button_primary_background_fill="*primary_600",
    button_primary_background_fill_hover="*primary_700",
)


def _filters(documents: list[str] | None, kinds: list[str] | None) -> Filters | None:
    if not documents and not kinds:
        return None
    return Filters(document_id=documents or None, kind=kinds or None)


def _history(turns: list[dict]) -> list[Message]:
    history = []
    for turn in turns:
        history.append(Message(role="user", content=turn["question"]))
        history.append(Message(role="assistant", content=turn["response"]["answer"][:20_000]))
    return history[-50:]


def _turn_of(index) -> int:
    """The conversation turn of a chat message index (user, assistant, user, …)."""
    if isinstance(index, (list, tuple)):
        index = index[0]
    return int(index) // 2


def _announcement(response: AskResponse) -> str:
    """What the live region says once an answer is complete (read by screen readers)."""
    count = len(response.citations)
    sources = f" {count} source(s), à lire dans « Sources »." if count else ""
    return f"<p>Réponse : {html.escape(plain_text(response.answer))}{sources}</p>"


def build_ui(
    get_assistant: Callable[[], Assistant],
    *,
    library: DocumentLibrary,
    feedback: FeedbackStore,
    export_dir: Path,
) -> gr.Blocks:
    """The chat and corpus pages; everything they do goes through the library objects."""

    def export_file(turns: list[dict], *profile_values) -> str | None:
        if not turns:
            return None
        profile = profile_of(*profile_values)
        markdown = conversation_markdown(turns, profile.model_dump() if profile else None)
        return str(write_export(export_dir, markdown))

    def respond(question, chat, turns, documents, kinds, brief, *profile_values):
        chat, turns = list(chat or []), list(turns or [])
        try:
            events = get_assistant().ask_stream(
                question,
                history=_history(turns),
                filters=_filters(documents, kinds),
                profile=profile_of(*profile_values),
                brief=bool(brief),
            )
        except AssistantError as exc:
            raise ui_error(user_message(exc), "Impossible de répondre") from exc
        except Exception as exc:  # never a stack trace in front of a person
            log.exception("Answering failed")
            raise ui_error(
                "Erreur interne : réessayez, ou consultez les journaux du serveur."
            ) from exc
        # Answers quote documents: what a document says is shown as text, never as an
        # image, a link or HTML (see ui.render.answer_markdown).
        chat += [
            {"role": "user", "content": as_text(question)},
            {"role": "assistant", "content": ""},
        ]
        answer = ""
        writing = "<p>Réponse en cours de rédaction…</p>"
        for event in events:
            if event.type == "delta":
                answer += event.text
                chat[-1]["content"] = answer_markdown(answer)
                yield chat, turns, gr.skip(), "", gr.skip(), writing, gr.skip()
                writing = gr.skip()
            elif event.type == "done":
                response = event.response
                chat[-1]["content"] = answer_markdown(response.answer)
                turns = turns + [{"question": question, "response": response.model_dump()}]
                if "repli" in response.answerer:
                    gr.Warning(
                        "Le modèle de langue n'a pas répondu (point d'accès injoignable ou "
                        "réponse inutilisable) : voici la réponse extractive.",
                        title="Modèle indisponible",
                    )
                yield (
                    chat,
                    turns,
                    render_sources(response, len(turns) - 1, question),
                    "",
                    export_file(turns, *profile_values),
                    _announcement(response),
                    gr.update(value="", visible=False),
                )

    def show_sources(turns, evt: gr.SelectData):
        turn = _turn_of(evt.index)
        if not turns or turn >= len(turns):
            return gr.skip(), gr.skip()
        response = AskResponse.model_validate(turns[turn]["response"])
        return (
            render_sources(response, turn, turns[turn]["question"]),
            gr.update(value="", visible=False),
        )

    def open_context(turns, evt: gr.EventData):
        chunk_id = getattr(evt, "chunk_id", None) or ""
        language = turns[-1]["response"]["language"] if turns else "fr"
        try:
            doc_id, n = library.locate(chunk_id)
            context = library.passage(doc_id, n)
        except AssistantError as exc:
            raise ui_error(str(exc), "Passage introuvable") from exc
        return gr.update(value=render_context(context, language), visible=True)

    def on_like(turns, ratings, evt: gr.LikeData):
        turn = _turn_of(evt.index)
        if not turns or turn >= len(turns):
            return ratings, gr.skip(), gr.skip(), gr.skip()
        rating = "up" if evt.liked in (True, "Like") else "down"
        if evt.liked not in (True, False, "Like", "Dislike"):
            return ratings, gr.skip(), gr.skip(), gr.skip()  # a retracted vote: keep it
        ratings = dict(ratings or {})
        if str(turn) in ratings:
            feedback.set_rating(ratings[str(turn)], rating)
        else:
            record = turns[turn]
            response = AskResponse.model_validate(record["response"])
            stored = feedback.add(
                FeedbackIn(
                    rating=rating,
                    question=record["question"],
                    answer=response.answer,
                    citations=response.citations,
                    answerer=response.answerer,
                ),
                source="ui",
            )
            ratings[str(turn)] = stored.id
        gr.Info("Merci pour votre avis ! Vous pouvez ajouter un commentaire.", title="Avis")
        label = f"Un commentaire sur la réponse n° {turn + 1} ? (facultatif)"
        return ratings, {"turn": turn}, gr.update(visible=True), gr.update(label=label)

    def send_comment(comment, target, ratings):
        turn = (target or {}).get("turn")
        if turn is None or str(turn) not in (ratings or {}):
            raise ui_error("Donnez d'abord un avis (pouce levé ou baissé) sur une réponse.")
        if not (comment or "").strip():
            raise ui_error("Le commentaire est vide : écrivez-le avant de l'envoyer.")
        feedback.set_comment(ratings[str(turn)], comment)
        gr.Info("Commentaire enregistré, merci.", title="Avis")
        return "", gr.update(visible=False)

    with gr.Blocks(
        title=TITLE, fill_width=True, delete_cache=(3600, GRADIO_CACHE_KEEP_S)
    ) as blocks:
        turns = gr.State([])
        ratings = gr.State({})
        gr.Markdown(
            f"# {TITLE}\nPosez une question sur les obligations et politiques numériques des "
            "collectivités (RGPD, RGAA, open data, REEN, NIS 2, IA…). Chaque affirmation "
            "renvoie à sa source `[n]`. API HTTP : [/docs](/docs).",
            elem_id="intro",
        )
        # One place for the collectivity, read by every tab.
        profile = profile_controls()
        notice = gr.Markdown(visible=False, elem_id="index-notice")
        with gr.Tabs():
            with gr.Tab("Discussion", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=300):
                    gr.HTML("<h2 class='sr-only'>Conversation</h2>", padding=False)
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        show_label=False,
                        height="min(62vh, 640px)",
                        min_height=260,
                        elem_id="chat",
                        feedback_options=("Like", "Dislike"),
                        placeholder="Posez votre question ci-dessous, ou choisissez un exemple.",
                        buttons=["copy"],
                        latex_delimiters=[],  # "$$" in a document stays text
                    )
                    with gr.Group(visible=False, elem_id="comment-box") as comment_box:
                        comment_target = gr.JSON(visible=False)
                        comment = gr.Textbox(
                            label="Un commentaire sur cette réponse ? (facultatif)",
                            elem_id="comment",
                            lines=2,
                        )
                        send_comment_button = gr.Button("Envoyer le commentaire", size="sm")
                    with gr.Row(equal_height=True):
                        question = gr.Textbox(
                            label="Votre question",
                            show_label=False,
                            placeholder="Ex. : ma communauté de communes doit-elle…",
                            elem_id="question",
                            scale=5,
                            min_width=180,
                            max_length=2000,
                        )
                        send = gr.Button(
                            "Envoyer", variant="primary", elem_id="send", scale=1, min_width=90
                        )
                    announcer = gr.HTML("", elem_id="announcer", padding=False)
                    gr.Markdown("### Exemples de questions")
                    examples = [
                        gr.Button(text, size="sm", elem_classes=["example-question"], min_width=0)
                        for text in EXAMPLES
                    ]
                    with gr.Accordion("Filtres et options", open=False, elem_id="options"):
                        document_filter = gr.Dropdown(
                            [], multiselect=True, label="Documents", elem_id="filter-documents"
                        )
                        kind_filter = gr.Dropdown([], multiselect=True, label="Types de document")
                        brief = gr.Checkbox(
                            label="Note d'animation (propos regroupés par intervenant)",
                            elem_id="brief",
                        )
                        with gr.Row():
                            export = gr.DownloadButton(
                                "Exporter en Markdown", value=None, elem_id="export", size="sm"
                            )
                            clear = gr.Button("Nouvelle conversation", size="sm")
                with gr.Column(scale=2, min_width=300):
                    gr.Markdown("## Sources")
                    context = gr.HTML(visible=False, elem_id="context", js_on_load=CONTEXT_JS)
                    sources = gr.HTML(render_sources(None), elem_id="sources", js_on_load=CARDS_JS)
            with gr.Tab("Corpus", id="corpus"):
                refresh_corpus, corpus_outputs = build_corpus_tab(
                    library, document_filter=document_filter, kind_filter=kind_filter, notice=notice
                )
            build_obligations_tab(get_assistant, profile.inputs, export_dir)

        chat_inputs = [question, chatbot, turns, document_filter, kind_filter, brief]
        chat_inputs += profile.inputs
        chat_outputs = [chatbot, turns, sources, question, export, announcer, context]
        for trigger in (send.click, question.submit):
            trigger(respond, chat_inputs, chat_outputs, show_progress="hidden")
        for button in examples:
            # An example asks at once: its text goes to the box, then is sent.
            button.click(lambda text: text, [button], [question]).then(
                respond, chat_inputs, chat_outputs, show_progress="hidden"
            )
        chatbot.select(show_sources, [turns], [sources, context])
        chatbot.like(
            on_like, [turns, ratings], [ratings, comment_target, comment_box, comment]
        ).then(None, js=FOCUS_COMMENT_JS)
        send_comment_button.click(
            send_comment, [comment, comment_target, ratings], [comment, comment_box]
        )
        sources.click(open_context, [turns], [context])
        clear.click(
            lambda: ([], [], {}, render_sources(None), gr.update(visible=False), None, ""),
            outputs=[chatbot, turns, ratings, sources, context, export, announcer],
        )
        blocks.load(refresh_corpus, outputs=corpus_outputs)
        remember_profile(blocks, profile)
    return blocks


def mount_ui(
    app: FastAPI,
    get_assistant: Callable[[], Assistant],
    *,
    library: DocumentLibrary,
    feedback: FeedbackStore,
    auth: Callable[[str, str], bool] | None = None,
    check_key: Callable[[str | None], None],
    max_upload_mb: int = 50,
    export_dir: Path,
) -> FastAPI:
    """Serve the chat at `/` of the API application; `check_key` raises unless it is given
    the admin key, which the chat's file upload needs."""
    blocks = build_ui(get_assistant, library=library, feedback=feedback, export_dir=export_dir)
    app.add_middleware(UploadGuard, check_key=check_key, max_upload_mb=max_upload_mb)
    app.add_middleware(FrenchPage, path="/")
    return gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth=auth,
        auth_message="Ce serveur demande la clé d'accès (ASSISTANT_ADMIN_KEY) comme mot de passe.",
        css=CSS,
        js=PAGE_JS,
        # System fonts: the page must not fetch web fonts (the server may be offline).
        theme=THEME,
        footer_links=[],
        show_error=False,
        ssr_mode=False,
        max_file_size=f"{max_upload_mb}mb",
        allowed_paths=[str(export_dir)],
        mcp_server=False,
    )
