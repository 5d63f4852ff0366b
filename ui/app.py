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

from assistant.answering.conditions import KINDS
from assistant.core import Assistant
from assistant.errors import AssistantError, IndexMissingError
from assistant.schemas import AskResponse, Filters, Message, Profile
from assistant.serving.documents import DocumentInfo, DocumentLibrary
from assistant.serving.feedback import FeedbackIn, FeedbackStore
from ui.files import GRADIO_CACHE_KEEP_S, KEY_COOKIE_JS, UploadGuard, write_export
from ui.obligations import build_obligations_tab
from ui.render import (
    answer_markdown,
    as_text,
    conversation_markdown,
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
ANY_KIND = "(non précisé)"
PROFILE_KINDS = [ANY_KIND] + [kind for kind, _ in KINDS if kind != "collectivité"]
CORPUS_HEADERS = [
    "Identifiant", "Titre", "Type", "Date", "Pages", "Passages", "Fichier", "Alertes"
]  # fmt: skip
FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "Consolas", "DejaVu Sans Mono", "monospace"]
# Clicks on a card's "open" button reach Python as a `click` event carrying the chunk id.
CARDS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.open-context');
  if (button) { trigger('click', {chunk_id: button.dataset.chunk}); }
});
"""
# When a passage opens, its context box scrolls to it and the page brings it into view.
CONTEXT_JS = """
watch('value', () => {
  const passage = element.querySelector('.context-passage');
  const box = element.querySelector('.context-text');
  if (!passage || !box) return;
  box.scrollTop = Math.max(0, passage.offsetTop - box.offsetTop - 60);
  element.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
"""
CSS = """
.source-cards { display: flex; flex-direction: column; gap: 10px; }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; background: var(--background-fill-secondary); }
.source-head { font-weight: 600; }
.source-n { color: var(--color-accent); margin-right: 4px; }
.source-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 2px 0 6px; }
.source-text { font-size: 0.9em; max-height: 11em; overflow-y: auto; line-height: 1.4; }
.source-text mark, .context-text mark { background: #fde68a; color: inherit; padding: 0 1px; }
.open-context { margin-top: 6px; font-size: 0.85em; padding: 2px 10px; border-radius: 6px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  cursor: pointer; }
.open-context:hover { border-color: var(--color-accent); }
.context-view { border-left: 3px solid var(--color-accent); padding: 6px 10px; }
.context-text { font-size: 0.9em; max-height: 20em; position: relative; overflow-y: auto;
  line-height: 1.45;
  color: var(--body-text-color-subdued); }
.context-text mark { color: var(--body-text-color); }
.sources-empty { color: var(--body-text-color-subdued); font-size: 0.9em; }
"""


def user_message(exc: AssistantError) -> str:
    """The message shown to a person for a library error."""
    if isinstance(exc, IndexMissingError):
        return (
            f"{exc} — ou ajoutez un document dans l'onglet « Corpus » "
            "(clé d'administration requise)."
        )
    return str(exc)


def ui_error(message: str, title: str = "Erreur") -> gr.Error:
    """A Gradio error toast; the message is escaped (Gradio renders it as HTML, and it may
    quote a file name or a question)."""
    return gr.Error(html.escape(message), title=title, print_exception=False)


def _no_population() -> None:
    return None


def _profile(kind: str | None, population: float | None) -> Profile | None:
    kind = None if not kind or kind == ANY_KIND else kind
    population = int(population) if population else None
    return Profile(kind=kind, population=population) if kind or population else None


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


def _alerts(document: DocumentInfo) -> str:
    """What the corpus table says of lines addressed to an assistant."""
    count = len(document.flagged)
    if not count:
        return ""
    return f"{count} ligne(s) adressée(s) à un assistant, jamais citée(s)"


def build_ui(
    get_assistant: Callable[[], Assistant],
    *,
    library: DocumentLibrary,
    feedback: FeedbackStore,
    export_dir: Path,
) -> gr.Blocks:
    """The chat and corpus pages; everything they do goes through the library objects."""

    def export_file(turns: list[dict], kind: str | None, population: float | None) -> str | None:
        if not turns:
            return None
        profile = _profile(kind, population)
        markdown = conversation_markdown(turns, profile.model_dump() if profile else None)
        return str(write_export(export_dir, markdown))

    def respond(question, chat, turns, kind, population, documents, kinds, brief):
        chat, turns = list(chat or []), list(turns or [])
        try:
            events = get_assistant().ask_stream(
                question,
                history=_history(turns),
                filters=_filters(documents, kinds),
                profile=_profile(kind, population),
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
        for event in events:
            if event.type == "delta":
                answer += event.text
                chat[-1]["content"] = answer_markdown(answer)
                yield chat, turns, gr.skip(), "", gr.skip()
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
                    render_sources(response, len(turns) - 1),
                    "",
                    export_file(turns, kind, population),
                )

    def show_sources(turns, evt: gr.SelectData):
        turn = _turn_of(evt.index)
        if not turns or turn >= len(turns):
            return gr.skip()
        return render_sources(AskResponse.model_validate(turns[turn]["response"]), turn)

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
            return ratings, gr.skip(), gr.skip()
        rating = "up" if evt.liked in (True, "Like") else "down"
        if evt.liked not in (True, False, "Like", "Dislike"):
            return ratings, gr.skip(), gr.skip()  # a retracted vote: keep the stored one
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
        return ratings, {"turn": turn}, gr.update(visible=True)

    def send_comment(comment, target, ratings):
        turn = (target or {}).get("turn")
        if turn is None or str(turn) not in (ratings or {}):
            raise ui_error("Donnez d'abord un avis (pouce levé ou baissé) sur une réponse.")
        if not (comment or "").strip():
            raise ui_error("Le commentaire est vide : écrivez-le avant de l'envoyer.")
        feedback.set_comment(ratings[str(turn)], comment)
        gr.Info("Commentaire enregistré, merci.", title="Avis")
        return "", gr.update(visible=False)

    def refresh_corpus():
        try:
            documents = library.list()
        except AssistantError as exc:
            log.warning("Listing documents failed: %s", exc)
            documents = []
        rows = [
            [d.id, d.title, d.kind, d.date or "", d.pages or "", d.chunks, d.file, _alerts(d)]
            for d in documents
        ]
        choices = [(f"{d.title} ({d.id})", d.id) for d in documents]
        kinds = sorted({d.kind for d in documents if d.kind})
        return (
            rows,
            gr.update(choices=choices),
            gr.update(choices=kinds),
            gr.update(choices=choices, value=None),
        )

    def upload(key, path, title, kind, date):
        if not path:
            raise ui_error("Choisissez d'abord un fichier PDF, TXT ou MD.")
        source = Path(path)
        try:
            result = library.upload(
                source.name,
                source.read_bytes(),
                admin_key=key,
                title=title,
                kind=kind,
                date=date,
            )
        except AssistantError as exc:
            raise ui_error(str(exc), "Téléversement refusé") from exc
        status = (
            f"**{as_text(result.document.title)}** ajouté ({result.document.chunks} "
            f"passage(s)). {as_text(result.summary)}"
        )
        if result.document.flagged:
            lines = "\n".join(f"- {as_text(line)}" for line in result.document.flagged)
            status += f"\n\n**Attention :** {_alerts(result.document)} :\n{lines}"
        return (status, None, *refresh_corpus())

    def delete(key, doc_id):
        if not doc_id:
            raise ui_error("Choisissez le document à supprimer.")
        try:
            result = library.delete(doc_id, admin_key=key)
        except AssistantError as exc:
            raise ui_error(str(exc), "Suppression refusée") from exc
        return (as_text(result.message), *refresh_corpus())

    def reindex(key, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio's idiom)
        progress(0, desc="Réindexation : lecture des fichiers…")
        try:
            report = library.reindex(admin_key=key, progress=True)
        except AssistantError as exc:
            raise ui_error(str(exc), "Réindexation refusée") from exc
        status = f"Réindexation terminée : {as_text(report.summary())}"
        for name, message in report.errors:
            status += f"\n- Ignoré : {as_text(name)} — {as_text(message)}"
        return (status, *refresh_corpus())

    with gr.Blocks(
        title=TITLE, fill_width=True, delete_cache=(3600, GRADIO_CACHE_KEEP_S)
    ) as blocks:
        turns = gr.State([])
        ratings = gr.State({})
        with gr.Sidebar(label="Réglages", open=True, width=300):
            gr.Markdown("### Votre collectivité")
            profile_kind = gr.Dropdown(
                PROFILE_KINDS, value=ANY_KIND, label="Type", elem_id="profile-kind"
            )
            profile_population = gr.Number(
                _no_population,  # a callable: Gradio shows None as "0" otherwise (#6728)
                label="Population (habitants)",
                placeholder="non renseignée",
                precision=0,
                minimum=0,
                elem_id="population",
            )
            gr.Markdown("### Filtres")
            document_filter = gr.Dropdown(
                [], multiselect=True, label="Documents", elem_id="filter-documents"
            )
            kind_filter = gr.Dropdown([], multiselect=True, label="Types de document")
            brief = gr.Checkbox(
                label="Note d'animation (propos regroupés par intervenant)", elem_id="brief"
            )
            gr.Markdown("### Conversation")
            export = gr.DownloadButton(
                "Exporter en Markdown", value=None, elem_id="export", size="sm"
            )
            clear = gr.Button("Nouvelle conversation", size="sm")
        with gr.Tabs():
            with gr.Tab("Discussion", id="chat"):
                gr.Markdown(
                    f"## {TITLE}\nPosez une question sur les obligations et politiques "
                    "numériques des collectivités (RGPD, RGAA, open data, REEN, NIS 2, IA…). "
                    "Chaque affirmation renvoie à sa source `[n]`. "
                    "API HTTP : [/docs](/docs)."
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            height=520,
                            elem_id="chat",
                            feedback_options=("Like", "Dislike"),
                            placeholder="Posez votre question ci-dessous, ou choisissez un "
                            "exemple.",
                            buttons=["copy"],
                            latex_delimiters=[],  # "$$" in a document stays text
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False,
                                placeholder="Ex. : ma communauté de communes doit-elle…",
                                elem_id="question",
                                scale=5,
                                max_length=2000,
                            )
                            send = gr.Button("Envoyer", variant="primary", elem_id="send", scale=1)
                        gr.Examples(EXAMPLES, inputs=question, label="Exemples de questions")
                        with gr.Group(visible=False, elem_id="comment-box") as comment_box:
                            comment_target = gr.JSON(visible=False)
                            comment = gr.Textbox(
                                label="Un commentaire sur cette réponse ? (facultatif)",
                                elem_id="comment",
                                lines=2,
                            )
                            send_comment_button = gr.Button("Envoyer le commentaire", size="sm")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(
                            render_sources(None), elem_id="sources", js_on_load=CARDS_JS
                        )
                        context = gr.HTML(visible=False, elem_id="context", js_on_load=CONTEXT_JS)
            with gr.Tab("Corpus", id="corpus"):
                gr.Markdown(
                    "### Documents indexés\nAjouter, supprimer ou réindexer demande la clé "
                    "d'administration (`ASSISTANT_ADMIN_KEY`)."
                )
                table = gr.Dataframe(
                    headers=CORPUS_HEADERS, interactive=False, wrap=True, elem_id="corpus-table"
                )
                key = gr.Textbox(
                    label="Clé d'administration (avant de choisir un fichier)",
                    type="password",
                    elem_id="key",
                )
                with gr.Row():
                    with gr.Column():
                        gr.Markdown("#### Ajouter un document")
                        upload_file = gr.File(
                            label="Fichier PDF, TXT ou MD",
                            file_types=[".pdf", ".txt", ".md"],
                            type="filepath",
                            elem_id="upload-file",
                        )
                        upload_title = gr.Textbox(label="Titre (facultatif)")
                        with gr.Row():
                            upload_kind = gr.Textbox(label="Type (facultatif)", value="")
                            upload_date = gr.Textbox(label="Date (AAAA-MM-JJ, facultatif)")
                        upload_button = gr.Button("Ajouter et indexer", variant="primary")
                    with gr.Column():
                        gr.Markdown("#### Supprimer un document")
                        delete_choice = gr.Dropdown([], label="Document", elem_id="delete-choice")
                        delete_button = gr.Button("Supprimer", variant="stop")
                        gr.Markdown("#### Réindexer")
                        reindex_button = gr.Button("Réindexer le corpus")
                status = gr.Markdown(elem_id="corpus-status")
            build_obligations_tab(get_assistant, [profile_kind, profile_population], export_dir)

        chat_inputs = [
            question,
            chatbot,
            turns,
            profile_kind,
            profile_population,
            document_filter,
            kind_filter,
            brief,
        ]
        chat_outputs = [chatbot, turns, sources, question, export]
        for trigger in (send.click, question.submit):
            trigger(respond, chat_inputs, chat_outputs, show_progress="hidden")
        chatbot.select(show_sources, [turns], [sources])
        chatbot.like(on_like, [turns, ratings], [ratings, comment_target, comment_box])
        send_comment_button.click(
            send_comment, [comment, comment_target, ratings], [comment, comment_box]
        )
        sources.click(open_context, [turns], [context])
        clear.click(
            lambda: ([], [], {}, render_sources(None), gr.update(visible=False), None),
            outputs=[chatbot, turns, ratings, sources, context, export],
        )
        corpus_outputs = [table, document_filter, kind_filter, delete_choice]
        blocks.load(refresh_corpus, outputs=corpus_outputs)
        upload_button.click(
            upload,
            [key, upload_file, upload_title, upload_kind, upload_date],
            [status, upload_file, *corpus_outputs],
        )
        key.change(None, [key], None, js=KEY_COOKIE_JS)
        delete_button.click(delete, [key, delete_choice], [status, *corpus_outputs])
        reindex_button.click(reindex, [key], [status, *corpus_outputs])
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
    return gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth=auth,
        auth_message="Ce serveur demande la clé d'accès (ASSISTANT_ADMIN_KEY) comme mot de passe.",
        css=CSS,
        # System fonts: the page must not fetch web fonts (the server may be offline).
        theme=gr.themes.Soft(font=FONTS, font_mono=MONO_FONTS),
        footer_links=[],
        show_error=False,
        ssr_mode=False,
        max_file_size=f"{max_upload_mb}mb",
        allowed_paths=[str(export_dir)],
        mcp_server=False,
    )
