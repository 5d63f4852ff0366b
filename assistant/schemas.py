"""The answer contract shared by the library, the HTTP API and the evaluation harness."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

# A name sent as a filter or a profile: short, and echoed back in messages at this length.
Name = Annotated[str, Field(max_length=200)]


class Message(BaseModel):
    """One earlier turn of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class Filters(BaseModel):
    """Restrict retrieval to some documents or kinds of document."""

    model_config = ConfigDict(extra="forbid")

    document_id: list[Name] | None = Field(
        None, max_length=100, description="Identifiants de documents"
    )
    kind: list[Name] | None = Field(
        None, max_length=100, description="Types : slides, meeting-report, study…"
    )
    speaker: list[Name] | None = Field(
        None, max_length=100, description="Intervenants (compte-rendus)"
    )


class Profile(BaseModel):
    """The collectivity asking, applied to every answer of a conversation."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(None, max_length=100, examples=["communauté de communes"])
    # Strict: neither `true` nor "32000" is a number of inhabitants (lax mode reads 1, 32000).
    population: StrictInt | None = Field(None, ge=0, examples=[32000])
    agents: StrictInt | None = Field(None, ge=0, examples=[120], description="Nombre d'agents")


class AskRequest(BaseModel):
    """A question, with the conversation so far and optional filters."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "Ma communauté de communes doit-elle adopter une stratégie REEN ?"},
                {
                    "question": "Et quelle est la sanction ?",
                    "history": [
                        {"role": "user", "content": "Qui doit respecter le RGAA ?"},
                        {"role": "assistant", "content": "Les collectivités… [1]"},
                    ],
                    "filters": {"kind": ["slides"]},
                },
            ]
        },
    )

    question: str = Field(description="La question, 2 000 caractères au plus")
    # Its length is checked against ASSISTANT_MAX_HISTORY_TURNS (400 history_too_long), the
    # body size against ASSISTANT_MAX_REQUEST_KB.
    history: list[Message] = Field(
        default_factory=list, description="Les échanges précédents, 50 messages au plus"
    )
    filters: Filters | None = None
    profile: Profile | None = None
    include_passages: bool = Field(False, description="Renvoyer aussi les passages retrouvés")
    debug: bool = Field(
        False,
        description="Renvoyer aussi la trace de la réponse (phrases candidates, probabilités, "
        "seuil de refus) ; ignoré en flux",
    )
    brief: bool = Field(
        False, description="Note d'animation : les propos regroupés par intervenant"
    )


class Passage(BaseModel):
    """A retrieved passage and where it comes from."""

    document_id: str
    title: str
    locator: str
    page: int | None = None
    text: str
    score: float
    kind: str = ""
    date: str | None = None
    chunk_id: str = ""
    speakers: list[str] = Field(default_factory=list)


class Citation(Passage):
    """A passage that the answer cites with the marker `[n]`."""

    n: int


class AskResponse(BaseModel):
    """A grounded answer: every claim carries a `[n]` marker pointing to `citations`."""

    answer: str
    abstained: bool
    language: Literal["fr", "en"]
    citations: list[Citation]
    timings_ms: dict[str, float] = Field(default_factory=dict)
    passages: list[Passage] | None = None
    answerer: str = "extractive"
    # With `debug`: the best sentences' features and probabilities, confidence, threshold.
    trace: dict | None = None
