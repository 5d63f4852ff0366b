"""Files the chat takes and gives: its upload route needs the admin key, and conversation
exports are private to the server's user and removed after a while."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.errors import AdminDisabledError, PermissionDeniedError
from assistant.serving.limits import CHAT_UPLOAD

# An export is copied into Gradio's cache when offered for download (its 0600 mode kept);
# the copy left in the export folder is removed after an hour, Gradio's after a day.
EXPORT_KEEP_S = 3600
GRADIO_CACHE_KEEP_S = 24 * 3600
# Gradio uploads a chosen file at once, before any button is clicked: the admin key typed
# in the Corpus tab goes with it as a cookie, which `UploadGuard` checks.
KEY_COOKIE = "assistant_admin_key"
KEY_COOKIE_JS = f"""
(key) => {{
  const path = new URL('gradio_api/upload', document.baseURI).pathname;
  const value = encodeURIComponent(key || '');
  document.cookie = `{KEY_COOKIE}=${{value}}; path=${{path}}; SameSite=Strict`;
}}
"""


def write_export(folder: Path, markdown: str) -> Path:
    """Write a conversation export that only the server's user can read, and remove the
    exports of the folder older than EXPORT_KEEP_S."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    cutoff = time.time() - EXPORT_KEEP_S
    for old in folder.glob("conversation-*.md"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass  # another request removed it meanwhile
    path = folder / f"conversation-{uuid.uuid4().hex[:12]}.md"
    with os.fdopen(
        os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8"
    ) as out:
        out.write(markdown)
    return path


class UploadGuard:
    """ASGI middleware: Gradio's file upload, open to anyone otherwise, needs the admin key
    (the only file the chat takes is a document to add) and refuses a file over
    ASSISTANT_MAX_UPLOAD_MB before reading it. The refusal is plain text: the chat shows it
    as it comes, after "HTTP 401:"."""

    def __init__(self, app: ASGIApp, check_key: Callable[[str | None], None], max_upload_mb: int):
        self.app = app
        self.check_key = check_key
        self.max_upload_mb = max_upload_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != CHAT_UPLOAD:
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(Request(scope))
        if refusal is not None:
            status, message = refusal
            await PlainTextResponse(message, status)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, request: Request) -> tuple[int, str] | None:
        """Why this upload is refused (status, message), or None."""
        try:
            self.check_key(unquote(request.cookies.get(KEY_COOKIE, "")) or None)
        except AdminDisabledError as exc:
            return 403, str(exc)
        except PermissionDeniedError:
            return 401, (
                "Clé d'administration absente ou incorrecte : saisissez-la dans le champ "
                "« Clé d'administration » de l'onglet Corpus, puis choisissez le fichier."
            )
        declared = request.headers.get("content-length", "")
        # A multipart body is the file and a few hundred bytes of headers.
        if declared.isdigit() and int(declared) > self.max_upload_mb * 1024 * 1024 + 65536:
            return 413, (
                f"Fichier trop volumineux : la limite est {self.max_upload_mb} Mo "
                "(ASSISTANT_MAX_UPLOAD_MB)."
            )
        return None
