"""The Corpus tab: the indexed documents, and adding, deleting or re-indexing them with the
admin key. It also feeds the chat's document filters and its « index » notice."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from assistant.errors import AssistantError
from assistant.serving.documents import DocumentInfo, DocumentLibrary
from ui.errors import ui_error
from ui.files import KEY_COOKIE_JS
from ui.render import alerts_text, as_text, corpus_table

log = logging.getLogger(__name__)

NO_DOCUMENT = (
    "**Aucun document indexé pour l'instant.** Au premier démarrage, le serveur indexe le "
    "dossier `corpus/` (quelques minutes ; la progression s'affiche dans son terminal), puis "
    "rechargez cette page. Vous pouvez aussi ajouter un document dans l'onglet « Corpus »."
)


def index_notice(documents: list[DocumentInfo], problem: str | None) -> dict:
    """What the chat says of the index: nothing when documents are there."""
    if problem:
        return gr.update(value=f"**Index indisponible :** {as_text(problem)}", visible=True)
    if not documents:
        return gr.update(value=NO_DOCUMENT, visible=True)
    return gr.update(value="", visible=False)


def build_corpus_tab(
    library: DocumentLibrary, *, document_filter, kind_filter, notice
) -> tuple[object, list]:
    """The tab's components and events (inside a `gr.Tab`); returns the refresh function
    and its outputs, for the page's load event."""

    def refresh():
        problem = None
        try:
            documents = library.list()
            problem = library.problem()
        except AssistantError as exc:
            log.warning("Listing documents failed: %s", exc)
            documents, problem = [], str(exc)
        choices = [(f"{d.title} ({d.id})", d.id) for d in documents]
        kinds = sorted({d.kind for d in documents if d.kind})
        return (
            corpus_table(documents),
            gr.update(choices=choices),
            gr.update(choices=kinds),
            gr.update(choices=choices, value=None),
            index_notice(documents, problem),
        )

    def upload(key, path, title, kind, date):
        if not path:
            raise ui_error("Choisissez d'abord un fichier PDF, TXT ou MD.")
        source = Path(path)
        try:
            result = library.upload(
                source.name, source.read_bytes(), admin_key=key, title=title, kind=kind, date=date
            )
        except AssistantError as exc:
            raise ui_error(str(exc), "Téléversement refusé") from exc
        status = (
            f"**{as_text(result.document.title)}** ajouté ({result.document.chunks} "
            f"passage(s)). {as_text(result.summary)}"
        )
        if result.document.flagged:
            lines = "\n".join(f"- {as_text(line)}" for line in result.document.flagged)
            status += f"\n\n**Attention :** {alerts_text(result.document.flagged)} :\n{lines}"
        return (status, None, *refresh())

    def delete(key, doc_id):
        if not doc_id:
            raise ui_error("Choisissez le document à supprimer.")
        try:
            result = library.delete(doc_id, admin_key=key)
        except AssistantError as exc:
            raise ui_error(str(exc), "Suppression refusée") from exc
        return (as_text(result.message), *refresh())

    def reindex(key, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio's idiom)
        progress(0, desc="Réindexation : lecture des fichiers…")
        try:
            report = library.reindex(admin_key=key, progress=True)
        except AssistantError as exc:
            raise ui_error(str(exc), "Réindexation refusée") from exc
        status = f"Réindexation terminée : {as_text(report.summary())}"
        for name, message in report.errors:
            status += f"\n- Ignoré : {as_text(name)} — {as_text(message)}"
        return (status, *refresh())

    gr.Markdown(
        "## Documents indexés\nAjouter, supprimer ou réindexer demande la clé "
        "d'administration (`ASSISTANT_ADMIN_KEY`)."
    )
    table = gr.HTML(corpus_table([]), elem_id="corpus-table")
    key = gr.Textbox(
        label="Clé d'administration (avant de choisir un fichier)",
        type="password",
        elem_id="key",
    )
    with gr.Row():
        with gr.Column(min_width=280):
            gr.Markdown("### Ajouter un document")
            upload_file = gr.File(
                label="Fichier PDF, TXT ou MD",
                file_types=[".pdf", ".txt", ".md"],
                type="filepath",
                elem_id="upload-file",
            )
            upload_title = gr.Textbox(label="Titre (facultatif)")
            with gr.Row():
                upload_kind = gr.Textbox(label="Type (facultatif)", value="", min_width=140)
                upload_date = gr.Textbox(label="Date (AAAA-MM-JJ, facultatif)", min_width=140)
            upload_button = gr.Button("Ajouter et indexer", variant="primary")
        with gr.Column(min_width=280):
            gr.Markdown("### Supprimer un document")
            delete_choice = gr.Dropdown([], label="Document", elem_id="delete-choice")
            delete_button = gr.Button("Supprimer", variant="stop")
            gr.Markdown("### Réindexer")
            reindex_button = gr.Button("Réindexer le corpus")
    status = gr.Markdown(elem_id="corpus-status")

    outputs = [table, document_filter, kind_filter, delete_choice, notice]
    upload_button.click(
        upload,
        [key, upload_file, upload_title, upload_kind, upload_date],
        [status, upload_file, *outputs],
    )
    key.change(None, [key], None, js=KEY_COOKIE_JS)
    delete_button.click(delete, [key, delete_choice], [status, *outputs])
    reindex_button.click(reindex, [key], [status, *outputs])
    return refresh, outputs
