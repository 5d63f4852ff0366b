"""Request limits of the HTTP API: a per-client rate limit, a JSON body size limit, and a
limit on failed logins to the chat page.

They run as one ASGI middleware in front of `/api/*`, `/v1/*` and the two routes of the
chat page (Gradio) that take input outside a question: its file upload and its login form.
The rate limit counts requests per client address in a moving one-minute window (the
`limits` library; in-process by default, or shared by several workers through e.g. Redis).
A JSON body is read up to its limit before the route sees it, so a huge, non-UTF-8 or
non-Unicode body is refused without reaching a model; uploads (`POST /api/documents`, the
chat's file upload) keep their own limit, ASSISTANT_MAX_UPLOAD_MB. Failed logins are
counted per client address, so that the key cannot be guessed by trying.
"""

from __future__ import annotations

import json
import math
import re
import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import ConfigurationError, InvalidTextError
from assistant.safe_text import SURROGATE
from assistant.serving.http_errors import error_response
from assistant.settings import Settings

LIMITED_PREFIXES = ("/api/", "/v1/")
NOT_RATE_LIMITED = {"/api/health"}  # load balancers poll it
CHAT_UPLOAD = "/gradio_api/upload"  # the chat's file chooser (Corpus page)
UPLOADS = {("POST", "/api/documents"), ("POST", CHAT_UPLOAD)}  # multipart, max_upload_mb
LOGIN = {"/login", "/login/"}  # the chat page's login form (ASSISTANT_READ_KEY_REQUIRED)
FAILED_LOGINS, FAILED_LOGINS_MINUTES = 10, 15
_BODY_METHODS = {"POST", "PUT", "PATCH"}
# A JSON escape of a UTF-16 surrogate ("\\ud800"): only a body holding one can decode to a
# string that is not valid Unicode, so only such a body is parsed before the route.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _moving_window(storage_uri: str) -> MovingWindowRateLimiter:
    try:
        storage = storage_from_string(storage_uri)
    except Exception as exc:  # unknown scheme or missing driver: say which setting
        raise ConfigurationError(
            f"ASSISTANT_RATE_LIMIT_STORAGE invalide : {storage_uri!r} ({exc}). "
            "Exemples : memory:// ou redis://127.0.0.1:6379 (paquet redis requis)."
        ) from exc
    return MovingWindowRateLimiter(storage)


def _seconds_to_reset(strategy, item, namespace: str, client: str) -> int:
    """Whole seconds (at least 1) until `client`'s window in `namespace` frees a request."""
    reset = strategy.get_window_stats(item, namespace, client).reset_time
    return max(1, math.ceil(reset - time.time()))


def _client(scope: Scope) -> str:
    """The client address a limit counts for."""
    return (scope.get("client") or ("local", 0))[0]


def _too_many(path: str, message: str, wait: int):
    """The 429 response, with how long to wait."""
    return error_response(path, 429, "rate_limited", message, {"Retry-After": str(wait)})


class RateLimiter:
    """Requests per minute per client, in a moving window."""

    def __init__(self, per_minute: int, storage_uri: str = "memory://"):
        self.per_minute = per_minute
        self.item = RateLimitItemPerMinute(per_minute)
        self.strategy = _moving_window(storage_uri)

    def retry_after(self, client: str) -> int | None:
        """Count one request of `client`; None if allowed, else seconds to wait."""
        if self.strategy.hit(self.item, "api", client):
            return None
        return _seconds_to_reset(self.strategy, self.item, "api", client)


class LoginLimiter:
    """Failed logins per client in a moving window: past the limit, the client waits."""

    def __init__(
        self,
        failures: int = FAILED_LOGINS,
        minutes: int = FAILED_LOGINS_MINUTES,
        storage_uri: str = "memory://",
    ):
        self.failures, self.minutes = failures, minutes
        self.item = RateLimitItemPerMinute(failures, minutes)
        self.strategy = _moving_window(storage_uri)

    def retry_after(self, client: str) -> int | None:
        """None if `client` may try to log in now, else seconds to wait."""
        if self.strategy.test(self.item, "login", client):
            return None
        return _seconds_to_reset(self.strategy, self.item, "login", client)

    def failed(self, client: str) -> None:
        """Count a failed login of `client`."""
        self.strategy.hit(self.item, "login", client)


class RequestLimits:
    """ASGI middleware: failed logins; rate limit, then body size, media type and encoding
    of JSON bodies."""

    def __init__(
        self,
        app: ASGIApp,
        max_request_kb: int,
        limiter: RateLimiter | None,
        logins: LoginLimiter | None = None,
    ):
        self.app = app
        self.max_bytes = max_request_kb * 1024
        self.max_kb = max_request_kb
        self.limiter = limiter
        self.logins = logins or LoginLimiter()

    @staticmethod
    def options(settings: Settings) -> dict:
        """The middleware's arguments from the settings (a bad storage fails here, at once)."""
        per_minute, storage = settings.rate_limit_per_minute, settings.rate_limit_storage
        return {
            "max_request_kb": settings.max_request_kb,
            "limiter": RateLimiter(per_minute, storage) if per_minute else None,
            "logins": LoginLimiter(storage_uri=storage),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path in LOGIN and scope.get("method") == "POST":
            await self._login(scope, receive, send)
            return
        if scope["type"] != "http" or not (
            path.startswith(LIMITED_PREFIXES) or path == CHAT_UPLOAD
        ):
            await self.app(scope, receive, send)
            return
        if self.limiter is not None and path not in NOT_RATE_LIMITED:
            wait = self.limiter.retry_after(_client(scope))
            if wait is not None:
                message = (
                    f"Trop de requêtes : au plus {self.limiter.per_minute} par minute pour un "
                    f"même client (ASSISTANT_RATE_LIMIT_PER_MINUTE). Réessayez dans {wait} s."
                )
                await _too_many(path, message, wait)(scope, receive, send)
                return
        method = scope.get("method", "GET")
        if method not in _BODY_METHODS or (method, path) in UPLOADS:
            await self.app(scope, receive, send)
            return
        body, refusal = await self._read_body(scope, receive)
        if refusal is not None:
            status, code, message = refusal
            await error_response(path, status, code, message)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Log in, unless this client failed too often lately; count a failure."""
        client = _client(scope)
        wait = self.logins.retry_after(client)
        if wait is not None:
            message = (
                f"Trop d'essais de clé manqués : {self.logins.failures} en "
                f"{self.logins.minutes} minutes depuis cette adresse. Réessayez dans {wait} s, "
                "avec la valeur de ASSISTANT_ADMIN_KEY."
            )
            await _too_many(scope["path"], message, wait)(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status in (400, 401):  # Gradio answers a wrong password with 400
            self.logins.failed(client)

    async def _read_body(
        self, scope: Scope, receive: Receive
    ) -> tuple[bytes, tuple[int, str, str] | None]:
        """The whole body, or the reason to refuse it (status, code, message)."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        too_large = (
            413,
            "request_too_large",
            f"Requête trop volumineuse : la limite est {self.max_kb} Ko "
            "(ASSISTANT_MAX_REQUEST_KB). Raccourcissez la question ou l'historique ; "
            "pour un fichier, utilisez POST /api/documents.",
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return b"", too_large
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if body and media_type and not _is_json(media_type):
            return body, (
                415,
                "unsupported_media_type",
                f"Type de contenu non pris en charge : {media_type}. Envoyez un objet JSON "
                "avec l'en-tête « Content-Type: application/json ».",
            )
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return body, (
                400,
                "invalid_encoding",
                f"Le corps de la requête n'est pas du texte UTF-8 (octet invalide à la "
                f"position {exc.start}) : envoyez du JSON encodé en UTF-8.",
            )
        invalid = lone_surrogate(body)
        if invalid is not None:
            return body, (400, InvalidTextError.code, invalid)
        return body, None


def lone_surrogate(body: bytes) -> str | None:
    """Why a JSON body holds text that is not valid Unicode, or None if it holds none.

    JSON can escape half of a UTF-16 pair on its own ("\\ud800"); Python decodes it to a
    string that no model, database or JSON response can encode. Every string of the body,
    field names included, is checked here, once for every route.
    """
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None  # the route says where the JSON is malformed
    pending: list[tuple[str, object]] = [("corps de la requête", data)]
    while pending:
        where, value = pending.pop()
        children: list[tuple[str, object]] = []
        if isinstance(value, str):
            texts = [(where, value)]
        elif isinstance(value, dict):
            texts = [(f"{where} : nom de champ", key) for key in value]
            children = [(_field(where, key), item) for key, item in value.items()]
        elif isinstance(value, list):
            texts, children = [], [(_field(where, i), item) for i, item in enumerate(value)]
        else:
            continue
        for place, text in texts:
            found = SURROGATE.search(text)
            if found:
                return (
                    f"Texte invalide dans « {place[:200]} » : le caractère "
                    f"U+{ord(found.group()):04X} (position {found.start()}) est une moitié de "
                    "paire UTF-16 isolée, qui n'est pas du texte. Envoyez du texte Unicode "
                    "valide, encodé en UTF-8 : le texte a sans doute été coupé au milieu d'un "
                    "caractère (un emoji, par exemple)."
                )
        pending.extend(reversed(children))
    return None


def _field(where: str, name: object) -> str:
    return str(name) if where == "corps de la requête" else f"{where}.{name}"


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then listens to the client again
    (a streamed answer must still notice a disconnection)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
