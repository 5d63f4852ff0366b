"""HTTP API (FastAPI) with the Gradio chat mounted at `/`."""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Iterator
from functools import partial
from typing import Annotated, Literal

from fastapi import Body, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel

from assistant.core import Assistant, StreamEvent, build_assistant
from assistant.errors import (
    AssistantError,
    ConfigurationError,
    HistoryTooLongError,
    IndexMissingError,
    IndexUnreadableError,
    PermissionDeniedError,
)
from assistant.obligations import (
    ObligationsReport,
    RuleOut,
    obligations_for,
    obligations_markdown,
    resolve_kind,
    rule_out,
)
from assistant.schemas import AskRequest, AskResponse, Message, Profile
from assistant.serving.documents import (
    DeleteResult,
    DocumentDetail,
    DocumentInfo,
    DocumentLibrary,
    PassageInContext,
    UploadResult,
    check_admin_key,
)
from assistant.serving.feedback import FeedbackIn, FeedbackRecord, FeedbackStore
from assistant.serving.http_errors import ErrorBody, answer_unknown_paths, install_error_handlers
from assistant.serving.limits import RequestLimits
from assistant.serving.openai_compat import (
    MODEL_ID,
    ChatCompletion,
    ChatCompletionRequest,
    ModelCard,
    ModelList,
    to_chunks,
    to_completion,
    to_question,
)
from assistant.settings import Settings
from ingest.index import index_version

log = logging.getLogger(__name__)
_STALE = "<stale>"  # a version name no published index has

SSE_EXAMPLE = (
    'event: delta\ndata: {"text": "D\'après les documents :\\n"}\n\n'
    'event: delta\ndata: {"text": "- À compter de janvier 2025, … [1]"}\n\n'
    'event: citations\ndata: {"citations": [{"n": 1, "document_id": "…", "title": "…"}]}\n\n'
    'event: done\ndata: {"answer": "…", "abstained": false, "language": "fr", …}\n\n'
)


class Health(BaseModel):
    """What `/api/health` reports: `status` is `ok`, `no_index` or `degraded`, and then
    `reason` says what is wrong and what to do (in French)."""

    status: str
    reason: str | None = None
    documents: int
    chunks: int
    embedder: str
    answerer: str


class ReindexResult(BaseModel):
    """What a re-indexing did."""

    summary: str
    indexed: list[str]
    removed: list[str]
    chunks_embedded: int
    chunks_total: int
    errors: list[str]


class AssistantHolder:
    """The assistant on the published index, built on first use and built again when a
    new version is published, by this process or another (`assistant ingest` while the
    server runs). Requests keep the previous version while the new one loads."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None):
        self.settings = settings
        self._assistant = assistant
        self._version = index_version(settings.index_dir) if assistant else None
        self._lock = threading.Lock()

    def get(self) -> Assistant:
        """The assistant on the index version published now (a link read per call)."""
        current = self._assistant
        if current is not None and index_version(self.settings.index_dir) == self._version:
            return current
        if current is not None and not self._lock.acquire(blocking=False):
            return current  # another request is loading the new version meanwhile
        if current is None:
            self._lock.acquire()
        try:
            version = index_version(self.settings.index_dir)
            if self._assistant is not None and version == self._version:
                return self._assistant
            try:
                self._assistant = build_assistant(self.settings)
            except Exception:
                if self._assistant is None:
                    raise
                log.exception("Index %s could not be loaded; keeping the previous one.", version)
            else:
                log.info("Index version %s loaded.", version)
            self._version = version  # a failed version is not retried until the next one
            return self._assistant
        finally:
            self._lock.release()

    def reload(self) -> None:
        """Load the index again at the next request (after a write by this process)."""
        self._version = _STALE


def check_history(history: list[Message], settings: Settings) -> None:
    """Refuse a conversation over the configured limits, saying which and how to fix it."""
    turns, limit = len(history), settings.max_history_turns
    if turns > limit:
        raise HistoryTooLongError(
            f"L'historique compte {turns} messages ; la limite est {limit} "
            "(ASSISTANT_MAX_HISTORY_TURNS). N'envoyez que les derniers échanges."
        )
    chars, limit = sum(len(m.content) for m in history), settings.max_history_chars
    if chars > limit:
        raise HistoryTooLongError(
            f"L'historique fait {chars} caractères ; la limite est {limit} "
            "(ASSISTANT_MAX_HISTORY_CHARS). N'envoyez que les derniers échanges."
        )


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _responses(*statuses: int) -> dict:
    return {s: {"model": ErrorBody} for s in statuses}


def create_app(settings: Settings | None = None, *, with_ui: bool = True) -> FastAPI:
    """The FastAPI application: `/api/*` and `/v1/*` routes, docs at `/docs`, chat at `/`."""
    settings = settings or Settings()
    admin_key = settings.admin_key.get_secret_value() if settings.admin_key else ""
    if settings.read_key_required and not admin_key:
        raise ConfigurationError(
            "ASSISTANT_READ_KEY_REQUIRED=true demande une clé : définissez ASSISTANT_ADMIN_KEY."
        )
    holder = AssistantHolder(settings)
    library = DocumentLibrary(settings, on_change=holder.reload)
    feedback = FeedbackStore.in_data_dir(settings.data_dir)
    app = FastAPI(
        title="Assistant numérique des territoires",
        description=(
            "Réponses sourcées sur les politiques numériques des collectivités "
            "(RGPD, RGAA, open data, REEN, NIS 2, IA…). Chaque affirmation porte un "
            "marqueur `[n]` qui renvoie à `citations[n]`.\n\n"
            "**Accès.** Les écritures (téléversement, suppression, réindexation, export des "
            "avis) demandent `Authorization: Bearer <ASSISTANT_ADMIN_KEY>` ; sans clé "
            "configurée, elles sont désactivées (403). Les lectures sont ouvertes, sauf si "
            "`ASSISTANT_READ_KEY_REQUIRED=true` : elles demandent alors la même clé.\n\n"
            "**Compatible OpenAI.** `POST /v1/chat/completions` (avec ou sans `stream`) : "
            "le SDK `openai`, Open WebUI ou une passerelle de type Albert peuvent utiliser "
            f"l'assistant comme modèle `{MODEL_ID}` (URL de base : `http://hôte:port/v1`)."
        ),
        version="0.1.0",
    )
    app.state.holder = holder
    app.state.library = library
    app.state.feedback = feedback

    def read_access(request: Request) -> None:
        """Reads are open unless the settings ask for the key."""
        if settings.read_key_required:
            token = bearer_token(request) or ""
            if not hmac.compare_digest(token.encode(), admin_key.encode()):
                raise PermissionDeniedError(
                    "Clé absente ou incorrecte : ce serveur demande « Authorization: Bearer "
                    "<ASSISTANT_ADMIN_KEY> » pour toute requête."
                )

    def admin_access(request: Request) -> str | None:
        """The admin key presented by the request, checked."""
        token = bearer_token(request)
        check_admin_key(settings, token)
        return token

    Read = Depends(read_access)

    install_error_handlers(app)

    @app.get("/api/health", response_model=Health, tags=["système"], dependencies=[Read])
    def health() -> dict:
        """État du service : nombre de documents et de passages, moteurs utilisés ;
        `degraded`, avec la raison, quand l'index est abîmé."""
        unknown = {
            "documents": 0,
            "chunks": 0,
            "embedder": settings.embedder,
            "answerer": settings.answerer,
        }
        try:
            report = holder.get().health()
        except IndexMissingError as exc:
            return {"status": "no_index", "reason": str(exc), **unknown}
        except IndexUnreadableError as exc:
            report = {"status": "degraded", "reason": str(exc), **unknown}
        problem = library.problem()
        if problem:
            report.update(status="degraded", reason=problem)
        return report

    def _ask_kwargs(request: AskRequest) -> dict:
        check_history(request.history, settings)
        return {
            "history": request.history,
            "filters": request.filters,
            "profile": request.profile,
            "include_passages": request.include_passages,
            "brief": request.brief,
        }

    @app.post(
        "/api/ask",
        response_model=AskResponse,
        responses=_responses(400, 401, 503),
        tags=["questions"],
        dependencies=[Read],
    )
    def ask(request: Annotated[AskRequest, Body()]) -> AskResponse:
        """Répond à une question avec citations, ou indique que le corpus ne répond pas."""
        return holder.get().ask(request.question, debug=request.debug, **_ask_kwargs(request))

    @app.post(
        "/api/ask/stream",
        response_model=None,
        responses={
            200: {
                "description": "Événements SSE : `delta` (morceau de texte `{text}`), puis "
                "`citations` (`{citations: [...]}`), puis `done` (la réponse complète, comme "
                "`/api/ask`). En cas d'échec en cours de route : `error` (`{code, message}`).",
                "content": {"text/event-stream": {"example": SSE_EXAMPLE}},
            },
            **_responses(400, 401, 503),
        },
        tags=["questions"],
        dependencies=[Read],
    )
    def ask_stream(request: Annotated[AskRequest, Body()]) -> EventSourceResponse:
        """La même réponse que `/api/ask`, diffusée en Server-Sent Events."""
        events = holder.get().ask_stream(request.question, **_ask_kwargs(request))
        return EventSourceResponse(_sse(events))

    @app.post(
        "/v1/chat/completions",
        response_model=ChatCompletion,
        responses={
            200: {
                "description": "Sans `stream` : un `chat.completion`. Avec `stream: true` : "
                "des `chat.completion.chunk` en SSE terminés par `data: [DONE]` ; le dernier "
                "porte `citations`.",
                "content": {"text/event-stream": {}},
            },
            **_responses(400, 401, 503),
        },
        tags=["compatible OpenAI"],
        dependencies=[Read],
    )
    def chat_completions(request: Annotated[ChatCompletionRequest, Body()]):
        """Chat compatible OpenAI : la dernière question de l'utilisateur, avec l'historique."""
        question, history = to_question(request)
        kwargs = {
            "history": history,
            "filters": request.filters,
            "profile": request.profile,
            "brief": request.brief,
        }
        if request.stream:
            events = holder.get().ask_stream(question, **kwargs)
            return EventSourceResponse(_openai_sse(to_chunks(request, events)))
        return to_completion(request, holder.get().ask(question, **kwargs))

    @app.get(
        "/v1/models", response_model=ModelList, tags=["compatible OpenAI"], dependencies=[Read]
    )
    def models() -> ModelList:
        """Le modèle que ce serveur expose : l'assistant lui-même."""
        return ModelList(data=[ModelCard(id=MODEL_ID)])

    @app.get(
        "/api/documents", response_model=list[DocumentInfo], tags=["documents"], dependencies=[Read]
    )
    def documents() -> list[DocumentInfo]:
        """Les documents indexés : métadonnées et nombre de passages."""
        return library.list()

    @app.get(
        "/api/documents/{doc_id}",
        response_model=DocumentDetail,
        responses=_responses(401, 404),
        tags=["documents"],
        dependencies=[Read],
    )
    def document(doc_id: str) -> DocumentDetail:
        """Un document et la liste de ses passages (numérotés à partir de 1)."""
        return library.get(doc_id)

    @app.get(
        "/api/documents/{doc_id}/passages/{n}",
        response_model=PassageInContext,
        responses=_responses(401, 404),
        tags=["documents"],
        dependencies=[Read],
    )
    def passage(doc_id: str, n: int) -> PassageInContext:
        """Le passage n du document dans son contexte (pour un PDF : toute la page)."""
        return library.passage(doc_id, n)

    @app.post(
        "/api/documents",
        response_model=UploadResult,
        status_code=201,
        responses=_responses(400, 401, 403, 409, 413),
        tags=["documents"],
    )
    def upload(
        file: Annotated[UploadFile, File(description="Fichier PDF, TXT ou MD")],
        title: Annotated[str | None, Form(max_length=300)] = None,
        kind: Annotated[str | None, Form(max_length=100, examples=["study"])] = None,
        date: Annotated[str | None, Form(max_length=40, examples=["2025-06-19"])] = None,
        publisher: Annotated[str | None, Form(max_length=300)] = None,
        key: str | None = Depends(admin_access),
    ) -> UploadResult:
        """Ajoute (ou remplace) un document et l'indexe. Clé d'administration requise."""
        data = file.file.read(settings.max_upload_mb * 1024 * 1024 + 1)
        return library.upload(
            file.filename or "document",
            data,
            admin_key=key,
            title=title,
            kind=kind,
            date=date,
            publisher=publisher,
        )

    @app.delete(
        "/api/documents/{doc_id}",
        response_model=DeleteResult,
        responses=_responses(401, 403, 404),
        tags=["documents"],
    )
    def delete(doc_id: str, key: str | None = Depends(admin_access)) -> DeleteResult:
        """Retire un document de l'index. Clé d'administration requise."""
        return library.delete(doc_id, admin_key=key)

    @app.post(
        "/api/reindex",
        response_model=ReindexResult,
        responses=_responses(401, 403),
        tags=["documents"],
    )
    def reindex(key: str | None = Depends(admin_access)) -> ReindexResult:
        """Met l'index à jour avec le dossier du corpus et les téléversements."""
        report = library.reindex(admin_key=key)
        return ReindexResult(
            summary=report.summary(),
            indexed=report.indexed,
            removed=report.removed,
            chunks_embedded=report.chunks_embedded,
            chunks_total=report.chunks_total,
            errors=[message for _, message in report.errors],
        )

    @app.post(
        "/api/feedback",
        response_model=FeedbackRecord,
        status_code=201,
        responses=_responses(400, 401),
        tags=["avis"],
        dependencies=[Read],
    )
    def give_feedback(item: Annotated[FeedbackIn, Body()]) -> FeedbackRecord:
        """Enregistre un avis (pouce levé ou baissé, commentaire facultatif) sur une réponse."""
        return feedback.add(item, source="api")

    @app.get(
        "/api/feedback.csv",
        response_class=Response,
        responses={
            200: {"content": {"text/csv": {"example": "id,created_at,rating,comment,..."}}},
            **_responses(401, 403),
        },
        tags=["avis"],
    )
    def export_feedback(key: str | None = Depends(admin_access)) -> Response:
        """Tous les avis en CSV (question, réponse, citations). Clé d'administration requise."""
        return Response(
            feedback.export_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="avis.csv"'},
        )

    @app.get(
        "/api/rules",
        response_model=list[RuleOut],
        responses=_responses(401, 503),
        tags=["obligations"],
        dependencies=[Read],
    )
    def rules() -> list[RuleOut]:
        """Les règles d'obligation relevées dans les documents : qui (type, seuils), quoi,
        depuis quand, sanction, thème et source (document, page ou diapo, phrase)."""
        return [rule_out(rule) for rule in holder.get().rulebook.rules]

    @app.get(
        "/api/obligations",
        response_model=ObligationsReport,
        responses={
            200: {"content": {"text/markdown": {"example": "# Mes obligations — …"}}},
            **_responses(400, 401, 422, 503),
        },
        tags=["obligations"],
        dependencies=[Read],
    )
    def obligations(
        kind: Annotated[
            str | None,
            Query(max_length=100, description="communauté de communes, CA, commune…"),
        ] = None,
        population: Annotated[int | None, Query(ge=0, description="Habitants")] = None,
        agents: Annotated[int | None, Query(ge=0, description="Nombre d'agents")] = None,
        output: Annotated[Literal["json", "markdown"], Query(alias="format")] = "json",
    ):
        """Pour la collectivité décrite, chaque règle avec son verdict (`applies`,
        `does_not_apply`, `depends` et ce qui manque), groupée par thème et triée par
        échéance ; `format=markdown` pour l'export."""
        profile = Profile(kind=resolve_kind(kind), population=population, agents=agents)
        assistant = holder.get()
        report = obligations_for(
            assistant.rulebook.rules, profile, acronyms=assistant.retriever.lexical.acronyms
        )
        if output == "markdown":
            return Response(
                obligations_markdown(report),
                media_type="text/markdown; charset=utf-8",
                headers={"Content-Disposition": 'inline; filename="mes-obligations.md"'},
            )
        return report

    answer_unknown_paths(app)
    if with_ui:
        from ui.app import mount_ui

        auth = None
        if settings.read_key_required:
            # The chat page asks for the key too (any user name, the key as password).
            def auth(username: str, password: str) -> bool:
                return hmac.compare_digest(password.encode(), admin_key.encode())

        app = mount_ui(
            app,
            holder.get,
            library=library,
            feedback=feedback,
            auth=auth,
            check_key=partial(check_admin_key, settings),
            max_upload_mb=settings.max_upload_mb,
            export_dir=settings.data_dir / "exports",
        )
    # Added last, so it runs first: the rate limit comes before any key is checked.
    app.add_middleware(RequestLimits, **RequestLimits.options(settings))
    return app


def _sse(events: Iterator[StreamEvent]) -> Iterator[bytes]:
    """The events of a streamed answer in the SSE wire format."""
    try:
        for event in events:
            if event.type == "delta":
                payload = {"text": event.text}
            elif event.type == "citations":
                payload = {"citations": [c.model_dump() for c in event.response.citations]}
            else:
                payload = event.response.model_dump()
            yield format_sse_event(
                event=event.type, data_str=json.dumps(payload, ensure_ascii=False)
            )
    except AssistantError as exc:
        yield format_sse_event(
            event="error", data_str=json.dumps({"code": exc.code, "message": str(exc)})
        )
    except Exception:  # the stream has started: report in-band rather than cut it
        log.exception("Streamed answer failed")
        error = {"code": "internal_error", "message": "Erreur interne : réessayez."}
        yield format_sse_event(event="error", data_str=json.dumps(error))


def _openai_sse(chunks: Iterator[dict]) -> Iterator[bytes]:
    """OpenAI-style SSE: one `data:` line per chunk, then `data: [DONE]`."""
    for chunk in chunks:
        yield format_sse_event(data_str=json.dumps(chunk, ensure_ascii=False))
    yield format_sse_event(data_str="[DONE]")
