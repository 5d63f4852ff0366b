"""The assistant as an OpenAI-compatible chat model: request and response shapes, conversion.

Clients that speak the OpenAI chat API (the `openai` SDK, Open WebUI, Albert-style
gateways) send `messages`; the last user message is the question, earlier turns are the
history. The answer comes back as the assistant message, followed by its sources, and the
citations also come as a structured `citations` field (on the last chunk when streaming).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.core import StreamEvent
from assistant.errors import InvalidQuestionError
from assistant.schemas import AskResponse, Citation, Filters, Message, Profile

MODEL_ID = "assistant-territoires"
SOURCES_HEADING = {"fr": "Sources :", "en": "Sources:"}
_MAX_HISTORY = 50
_MAX_TURN_CHARS = 20_000


class ChatMessage(BaseModel):
    """One message of an OpenAI chat request; content is text or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(examples=["user"])
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(BaseModel):
    """An OpenAI `chat/completions` request. Sampling parameters are accepted and ignored:
    answers are grounded in the corpus, not sampled. `filters`, `profile` and `brief` are
    this assistant's extensions (as in `/api/ask`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": MODEL_ID,
                    "messages": [
                        {
                            "role": "user",
                            "content": "Quelles amendes risque une collectivité qui ne "
                            "respecte pas le RGAA ?",
                        }
                    ],
                },
                {
                    "model": MODEL_ID,
                    "stream": True,
                    "messages": [
                        {"role": "user", "content": "Qui doit respecter le RGAA ?"},
                        {"role": "assistant", "content": "Les collectivités… [1]"},
                        {"role": "user", "content": "Et quelle est la sanction ?"},
                    ],
                },
            ]
        },
    )

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    filters: Filters | None = None
    profile: Profile | None = None
    brief: bool = False


class AssistantMessage(BaseModel):
    """The answer, its sources listed after it."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """The single choice of a completion."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    """Approximate token counts (words), for clients that expect the field."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """An OpenAI `chat.completion` with this assistant's `citations` and `abstained`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(description="Les passages cités par les marqueurs [n]")
    abstained: bool = Field(description="Vrai quand le corpus ne permet pas de répondre")


class ModelCard(BaseModel):
    """One entry of `/v1/models`."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "assistant-numerique-territorial"


class ModelList(BaseModel):
    """What `/v1/models` returns."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


def message_text(content: str | list[dict[str, Any]] | None) -> str:
    """The text of a message content (string, or list of `{"type": "text"}` parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return " ".join(
        str(part.get("text", "")) for part in content if part.get("type", "text") == "text"
    )


def strip_sources(answer: str) -> str:
    """An earlier answer without the sources list this module appended to it."""
    for heading in SOURCES_HEADING.values():
        cut = answer.find(f"\n\n{heading}\n")
        if cut >= 0:
            return answer[:cut]
    return answer


def to_question(request: ChatCompletionRequest) -> tuple[str, list[Message]]:
    """The question (last user message) and the conversation before it."""
    turns = [m for m in request.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise InvalidQuestionError(
            "Le dernier message doit venir de l'utilisateur (role « user ») : "
            "c'est la question posée."
        )
    history = [
        Message(
            role=m.role,
            content=(
                strip_sources(message_text(m.content))
                if m.role == "assistant"
                else message_text(m.content)
            )[:_MAX_TURN_CHARS],
        )
        for m in turns[:-1]
    ]
    return message_text(turns[-1].content), history[-_MAX_HISTORY:]


def sources_text(response: AskResponse) -> str:
    """The sources block appended to the answer: one line per `[n]`."""
    if not response.citations:
        return ""
    lines = [f"\n\n{SOURCES_HEADING[response.language]}"]
    for c in response.citations:
        when = f", {c.date}" if c.date else ""
        lines.append(f"- [{c.n}] {c.title} — {c.locator} ({c.kind}{when})")
    return "\n".join(lines)


def _usage(request: ChatCompletionRequest, content: str) -> Usage:
    prompt = sum(len(message_text(m.content).split()) for m in request.messages)
    completion = len(content.split())
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def to_completion(request: ChatCompletionRequest, response: AskResponse) -> ChatCompletion:
    """A non-streamed completion: the answer with its sources, and the citations."""
    content = response.answer + sources_text(response)
    return ChatCompletion(
        id=_completion_id(),
        created=int(time.time()),
        model=request.model,
        choices=[Choice(message=AssistantMessage(content=content))],
        usage=_usage(request, content),
        citations=response.citations,
        abstained=response.abstained,
    )


def to_chunks(request: ChatCompletionRequest, events: Iterator[StreamEvent]) -> Iterator[dict]:
    """`chat.completion.chunk` objects for a streamed answer: role, text deltas, the
    sources, then a last chunk with `finish_reason` and the structured citations."""
    base = {
        "id": _completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }

    def chunk(delta: dict, finish: str | None = None, **extra) -> dict:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return {**base, "choices": [choice], **extra}

    yield chunk({"role": "assistant", "content": ""})
    for event in events:
        if event.type == "delta":
            yield chunk({"content": event.text})
        elif event.type == "done" and event.response is not None:
            sources = sources_text(event.response)
            if sources:
                yield chunk({"content": sources})
            yield chunk(
                {},
                "stop",
                citations=[c.model_dump() for c in event.response.citations],
                abstained=event.response.abstained,
            )
