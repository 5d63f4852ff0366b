"""HTTP form of every error: library errors, invalid requests and unreadable bodies.

Every error response has the shape `{"detail": {"code": ..., "message": ...}}` with a
French message that says what to fix; under `/v1/` an OpenAI-style `error` object is
added, since the OpenAI SDK reads `error.message`. Invalid input never echoes the input
back (a NaN or raw bytes could not even be written as JSON).
"""

from __future__ import annotations

import re

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import (
    AdminDisabledError,
    AssistantError,
    ConfigurationError,
    DocumentConflictError,
    DocumentError,
    DocumentNotFoundError,
    FeedbackUnavailableError,
    GeneratorError,
    IndexMissingError,
    IndexUnreadableError,
    InvalidQuestionError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTooLargeError,
    UploadTooLargeError,
)
from assistant.schemas import Filters
from ingest.index import IndexBusyError

# Most specific first: the first matching class gives the status.
STATUS = {
    InvalidQuestionError: 400,
    AdminDisabledError: 403,
    PermissionDeniedError: 401,
    DocumentNotFoundError: 404,
    DocumentConflictError: 409,
    UploadTooLargeError: 413,
    RequestTooLargeError: 413,
    RateLimitedError: 429,
    DocumentError: 400,
    IndexMissingError: 503,
    IndexUnreadableError: 503,
    FeedbackUnavailableError: 503,
    IndexBusyError: 409,
    GeneratorError: 502,
    ConfigurationError: 500,
}

# What Starlette's own errors (routing, body parsing) say, in French.
_HTTP_MESSAGES = {
    400: (
        "invalid_body",
        "Corps de requête illisible : envoyez un objet JSON valide, encodé en UTF-8 "
        "(en-tête « Content-Type: application/json »).",
    ),
    404: ("not_found", "Chemin inconnu. La liste des routes est sur /docs."),
    405: ("method_not_allowed", "Méthode non permise sur ce chemin. Voir /docs."),
}

_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_FIELD_TOO_LONG = re.compile(r"(?:Part|Field) exceeded maximum size of (\d+)KB")
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Pydantic error types in French; others keep pydantic's (English) wording.
_VALIDATION_MESSAGES = {
    "missing": "champ obligatoire absent",
    "extra_forbidden": "champ inconnu",
    "string_type": "doit être une chaîne de caractères",
    "bool_type": "doit être un booléen (true ou false)",
    "bool_parsing": "doit être un booléen (true ou false)",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "list_type": "doit être une liste",
    "dict_type": "doit être un objet JSON",
    "model_type": "doit être un objet JSON",
    "model_attributes_type": "doit être un objet JSON",
    "string_unicode": "doit être du texte UTF-8",
    "finite_number": "doit être un nombre fini",
}


class ErrorDetail(BaseModel):
    """The `detail` of every error response: a stable code and a message to act on."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error response: `{"detail": {"code": ..., "message": ...}}`."""

    detail: ErrorDetail


def http_error(exc: AssistantError) -> HTTPException:
    """The HTTP form of a library error."""
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return HTTPException(status, detail={"code": exc.code, "message": str(exc)}, headers=headers)


def error_response(
    request_path: str, status: int, code: str, message: str, headers: dict | None = None
) -> JSONResponse:
    """The JSON error response; OpenAI-style `error` added under `/v1/`."""
    content: dict = {"detail": {"code": code, "message": message}}
    if request_path.startswith("/v1/"):
        content["error"] = {
            "message": message,
            "type": "invalid_request_error" if status < 500 else "server_error",
            "code": code,
        }
    return JSONResponse(status_code=status, content=content, headers=headers)


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] == "body" else [str(p) for p in loc]
    return ".".join(parts) or "corps de la requête"


def _explain(error: dict) -> str:
    """One validation error in French: where, and what is expected."""
    kind, loc, ctx = error.get("type", ""), tuple(error.get("loc", ())), error.get("ctx") or {}
    if kind == "json_invalid":
        position = loc[-1] if len(loc) > 1 else "?"
        return f"JSON mal formé (position {position} : {ctx.get('error', 'erreur')})"
    if kind == "missing" and loc == ("body",):
        return 'corps de la requête vide : envoyez un objet JSON, ex. {"question": "…"}'
    where = _location(loc)
    if kind == "extra_forbidden" and len(loc) == 3 and loc[1] == "filters":
        allowed = ", ".join(Filters.model_fields)
        return f"{where} : filtre inconnu (filtres possibles : {allowed})"
    if kind == "literal_error":
        return f"{where} : valeur non permise (attendu : {ctx.get('expected', '?')})"
    if kind == "too_long" and "max_length" in ctx:
        return (
            f"{where} : trop long ({ctx.get('actual_length', '?')} ; au plus {ctx['max_length']})"
        )
    if kind == "string_too_long" and "max_length" in ctx:
        length = len(error["input"]) if isinstance(error.get("input"), str) else "?"
        return f"{where} : trop long ({length} caractères ; au plus {ctx['max_length']})"
    if kind == "too_short" and "min_length" in ctx:
        return f"{where} : trop court (au moins {ctx['min_length']})"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = next(iter(ctx.values()), "?")
        sign = {"greater_than_equal": "≥", "less_than_equal": "≤"}.get(kind, kind[:4])
        return f"{where} : doit être {sign} {bound}"
    return f"{where} : {_VALIDATION_MESSAGES.get(kind, error.get('msg', 'valeur invalide'))}"


def validation_message(errors: list[dict]) -> str:
    """A French message for a request that does not match the schema."""
    shown = [_explain(e) for e in errors[:5]]
    more = f" (et {len(errors) - 5} autre(s))" if len(errors) > 5 else ""
    return f"Requête invalide : {' ; '.join(shown)}{more}. Le schéma attendu est sur /docs."


def form_message(detail: str) -> str:
    """A French message for a form that Starlette could not read (its English `detail`)."""
    too_long = _FIELD_TOO_LONG.search(detail)
    if too_long:
        return (
            f"Un champ du formulaire est trop long (plus de {too_long.group(1)} Ko) : le "
            "fichier va dans le champ « file » ; title, kind, date et publisher sont des "
            "textes courts."
        )
    return (
        f"Formulaire illisible ({detail}) : envoyez un formulaire multipart/form-data avec le "
        "fichier dans le champ « file »."
    )


def answer_unknown_paths(app: FastAPI, prefixes: tuple[str, ...] = ("/api", "/v1")) -> None:
    """Make unknown paths and wrong methods under the API's prefixes answer 404 and 405 in
    the error shape, even when the chat is mounted at `/` (its own 404 would answer them).

    Call it after the last route of the API and before mounting the chat.
    """
    routes = [r for r in app.routes if isinstance(r, APIRoute)]

    def unrouted_under(prefix: str):
        def unrouted(request: Request, path: str) -> None:
            full = f"{prefix}/{path}"
            allowed = sorted({m for r in routes if r.path_regex.match(full) for m in r.methods})
            if not allowed:
                raise StarletteHTTPException(404)
            raise StarletteHTTPException(
                405,
                detail={
                    "code": "method_not_allowed",
                    "message": f"{request.method} n'est pas permis sur {full[:200]} : utilisez "
                    f"{' ou '.join(allowed)}. La liste des routes est sur /docs.",
                },
                headers={"Allow": ", ".join(allowed)},
            )

        return unrouted

    for prefix in prefixes:
        app.add_api_route(
            f"{prefix}/{{path:path}}",
            unrouted_under(prefix),
            methods=_METHODS,
            include_in_schema=False,
        )


def install_error_handlers(app: FastAPI) -> None:
    """Translate every error raised in a route into the documented error shape."""

    @app.exception_handler(AssistantError)
    async def _assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        error = http_error(exc)
        detail = error.detail
        return error_response(
            request.url.path, error.status_code, detail["code"], detail["message"], error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            request.url.path, 422, "invalid_request", validation_message(list(exc.errors()))
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict):  # raised by a route, already {code, message}
            code, message = exc.detail.get("code", "error"), exc.detail.get("message", "")
            return error_response(request.url.path, exc.status_code, code, message, exc.headers)
        code, message = _HTTP_MESSAGES.get(exc.status_code, (f"http_{exc.status_code}", ""))
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if exc.status_code == 400 and media_type in _FORM_TYPES:
            message = form_message(str(exc.detail))
        return error_response(
            request.url.path, exc.status_code, code, message or str(exc.detail), exc.headers
        )
