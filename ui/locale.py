"""The chat's page is French whatever the browser's language: Gradio translates its own
strings (« Déposez le fichier ici », « Copier le message », « Je n'aime pas ») from the
browser's language, so the page says French before Gradio reads it."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCALE = "fr-FR"
# Gradio's front end picks its translations from navigator.language (Gradio 6.x; its
# gr.I18n only adds translations of the app's own strings, never picks the language).
_SCRIPT = (
    "<script>(() => {"
    f"const lang = {LOCALE!r};"
    "for (const [name, value] of [['language', lang], ['languages', [lang, 'fr']]]) {"
    "  Object.defineProperty(Navigator.prototype, name, {get: () => value});"
    "}"
    "document.documentElement.lang = 'fr';"
    "})();</script>"
).encode()


def french_page(body: bytes) -> bytes:
    """Gradio's HTML page with `lang="fr"` and the browser's language set to French before
    any of Gradio's scripts runs."""
    body = body.replace(b'lang="en"', b'lang="fr"', 1)
    return body.replace(b"<head>", b"<head>" + _SCRIPT, 1)


class FrenchPage:
    """ASGI middleware: the HTML page served at the app's root passes through `french_page`."""

    def __init__(self, app: ASGIApp, path: str = "/"):
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(raw=start["headers"])
            if headers.get("content-type", "").startswith("text/html") and (
                "content-encoding" not in headers
            ):
                body = french_page(body)
                headers["content-length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)
