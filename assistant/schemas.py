"""The answer contract shared by the library, the HTTP API and the evaluation harness."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """One earlier turn of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class Filters(BaseModel):
    """Restrict retrieval to some documents or kinds of document."""

    model_config = ConfigDict(extra="forbid")

    document_id: list[str] | None = Field(None, description="Identifiants de documents")
    kind: list[str] | None = Field(None, description="Types : slides, meeting-report, study…")
    speaker: list[str] | None = Field(None, description="Intervenants (compte-rendus)")


class Profile(BaseModel):
    """The collectivity asking, applied to every answer of a conversation."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(None, examples=["communauté de communes"])
    population: int | None = Field(None, ge=0, examples=[32000])


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
    history: list[Message] = Field(default_factory=list, max_length=50)
    filters: Filters | None = None
    profile: Profile | None = None
    include_passages: bool = Field(False, description="Renvoyer aussi les passages retrouvés")
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
