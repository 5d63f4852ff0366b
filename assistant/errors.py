"""Errors a person can act on; each front-end translates them."""


class AssistantError(Exception):
    """Base class: the message says what happened and what to do."""

    code = "assistant_error"


class IndexMissingError(AssistantError):
    """No index has been built yet."""

    code = "index_missing"


class InvalidQuestionError(AssistantError):
    """The question is empty, too long or malformed."""

    code = "invalid_question"


class InvalidTextError(InvalidQuestionError):
    """Text that is not valid Unicode (a lone surrogate): refused before any model sees it."""

    code = "invalid_encoding"


class DocumentError(AssistantError):
    """A document could not be read; ingestion skips it."""

    code = "document_unreadable"


class ConfigurationError(AssistantError):
    """A setting is missing or inconsistent."""

    code = "configuration"


class GeneratorError(AssistantError):
    """The LLM endpoint failed or answered something unusable."""

    code = "generator_unavailable"


class PermissionDeniedError(AssistantError):
    """A key is missing or wrong for an endpoint that needs one."""

    code = "unauthorized"


class AdminDisabledError(PermissionDeniedError):
    """Writes are disabled because no admin key is configured."""

    code = "admin_disabled"


class DocumentNotFoundError(AssistantError):
    """No indexed document (or passage) has this identifier."""

    code = "document_not_found"


class DocumentConflictError(AssistantError):
    """An upload would replace another document with the same identifier."""

    code = "document_conflict"


class UploadTooLargeError(AssistantError):
    """An uploaded file is over the configured size limit."""

    code = "file_too_large"


class HistoryTooLongError(InvalidQuestionError):
    """The conversation sent with a question is over the configured limits."""

    code = "history_too_long"


class RequestTooLargeError(AssistantError):
    """A request body is over the configured size limit."""

    code = "request_too_large"


class RateLimitedError(AssistantError):
    """A client sent more requests than the per-minute limit allows."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int = 60):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class IndexUnreadableError(AssistantError):
    """The index on disk (vector store or ingestion state) cannot be read; ingestion rebuilds it."""

    code = "index_unreadable"


class FeedbackUnavailableError(AssistantError):
    """The feedback database can be neither read nor written, even after recreating it."""

    code = "feedback_unavailable"
