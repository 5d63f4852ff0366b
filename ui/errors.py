"""Library errors as the chat shows them: a French toast, never a trace."""

from __future__ import annotations

import html

import gradio as gr

from assistant.errors import AssistantError, IndexMissingError


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
