"""Thumbs up/down on answers, kept in SQLite in the data directory, exportable as CSV."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.errors import InvalidQuestionError
from assistant.schemas import Citation

FEEDBACK_FILE = "feedback.sqlite3"
CSV_COLUMNS = [
    "id",
    "created_at",
    "rating",
    "comment",
    "question",
    "answer",
    "citations",
    "answerer",
    "source",
]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]',
    answerer TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT ''
)
"""
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FeedbackIn(BaseModel):
    """A person's verdict on one answer: the question, the answer and its citations."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rating": "up",
                    "question": "Ma communauté de communes doit-elle adopter une stratégie REEN ?",
                    "answer": "Oui, si elle compte plus de 50 000 habitants [1].",
                    "citations": [],
                    "comment": "Réponse claire.",
                }
            ]
        },
    )

    rating: Literal["up", "down"]
    question: str = Field(max_length=20_000)
    answer: str = Field(max_length=50_000)
    citations: list[Citation] = Field(default_factory=list, max_length=50)
    comment: str = Field("", max_length=5_000, description="Commentaire facultatif")
    answerer: str = ""


class FeedbackRecord(FeedbackIn):
    """A stored verdict."""

    model_config = ConfigDict(extra="forbid")

    id: int
    created_at: str
    source: str = ""


class FeedbackStore:
    """Verdicts in `<data_dir>/feedback.sqlite3`; one short connection per operation."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FeedbackStore:
        """The store of a data directory."""
        return cls(Path(data_dir) / FEEDBACK_FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10)
            try:
                if not self._ready:
                    connection.execute("PRAGMA journal_mode=WAL")
                    connection.execute(_SCHEMA)
                    self._ready = True
                with connection:  # commits, or rolls back on error
                    yield connection
            finally:
                connection.close()

    def add(self, feedback: FeedbackIn, source: str = "") -> FeedbackRecord:
        """Store a verdict; `source` says where it came from ("ui", "api")."""
        if not feedback.question.strip():
            raise InvalidQuestionError("L'avis doit porter sur une question : elle est vide.")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        citations = json.dumps([c.model_dump() for c in feedback.citations], ensure_ascii=False)
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, rating, comment, question, answer, "
                "citations, answerer, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    created,
                    feedback.rating,
                    feedback.comment.strip(),
                    feedback.question,
                    feedback.answer,
                    citations,
                    feedback.answerer,
                    source,
                ),
            )
            new_id = int(cursor.lastrowid)
        return FeedbackRecord(id=new_id, created_at=created, source=source, **feedback.model_dump())

    def set_comment(self, feedback_id: int, comment: str) -> None:
        """Attach (or replace) the comment of a stored verdict."""
        with self._connect() as db:
            db.execute(
                "UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip(), feedback_id)
            )

    def set_rating(self, feedback_id: int, rating: Literal["up", "down"]) -> None:
        """Change a verdict (a person switching from thumbs up to down)."""
        with self._connect() as db:
            db.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, feedback_id))

    def all(self) -> list[FeedbackRecord]:
        """Every verdict, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, created_at, rating, comment, question, answer, citations, "
                "answerer, source FROM feedback ORDER BY id"
            ).fetchall()
        return [
            FeedbackRecord(
                id=row[0],
                created_at=row[1],
                rating=row[2],
                comment=row[3],
                question=row[4],
                answer=row[5],
                citations=json.loads(row[6]),
                answerer=row[7],
                source=row[8],
            )
            for row in rows
        ]

    def export_csv(self) -> str:
        """Every verdict as CSV (one line per answer, citations as "[n] title — locator")."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for record in self.all():
            citations = " | ".join(
                f"[{c.n}] {c.title} — {c.locator} ({c.document_id})" for c in record.citations
            )
            row = [
                record.id,
                record.created_at,
                record.rating,
                record.comment,
                record.question,
                record.answer,
                citations,
                record.answerer,
                record.source,
            ]
            writer.writerow([_safe_cell(v) for v in row])
        return out.getvalue()


def _safe_cell(value: object) -> object:
    """A text cell a spreadsheet will show, not run (CSV formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
