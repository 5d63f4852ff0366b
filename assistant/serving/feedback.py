"""Thumbs up/down on answers, kept in SQLite in the data directory, exportable as CSV."""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from assistant.errors import FeedbackUnavailableError, InvalidQuestionError
from assistant.schemas import Citation
from ingest.publish import set_aside

log = logging.getLogger(__name__)
T = TypeVar("T")

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
# SQLite's companions of a database in WAL mode, moved with it.
_COMPANIONS = ("-wal", "-shm")
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
    """Verdicts in `<data_dir>/feedback.sqlite3`; one short connection per operation.

    The file may go while the server runs: a deleted one is created again, a corrupted
    one is renamed `feedback.sqlite3.broken-<time>` (kept, never deleted) and replaced.
    An operation that still fails raises FeedbackUnavailableError: never a silent loss.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FeedbackStore:
        """The store of a data directory."""
        return cls(Path(data_dir) / FEEDBACK_FILE)

    def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run `operation` in one transaction; once more after repairing a lost file."""
        with self._lock:
            try:
                return self._attempt(operation)
            except sqlite3.DatabaseError as exc:
                failure = exc
            except (sqlite3.Error, OSError) as exc:
                raise self._unavailable(exc) from exc
            try:
                if not self._repair(failure):
                    raise self._unavailable(failure) from failure
                return self._attempt(operation)
            except (sqlite3.Error, OSError) as exc:
                raise self._unavailable(exc) from exc

    def _attempt(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        if not self.path.exists():  # first use, or deleted while running
            self._ready = False
            for leftover in self._companions():  # they belonged to the deleted database
                set_aside(leftover)
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            if not self._ready:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(_SCHEMA)
                self._ready = True
            with connection:  # commits, or rolls back on error
                return operation(connection)
        finally:
            connection.close()

    def _companions(self) -> list[Path]:
        return [
            p for p in (self.path.with_name(self.path.name + s) for s in _COMPANIONS) if p.exists()
        ]

    def _repair(self, exc: sqlite3.DatabaseError) -> bool:
        """Make the next attempt possible after `exc`; False when nothing can be done."""
        if exc.sqlite_errorcode in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            aside = set_aside(self.path)
            for companion in self._companions():
                set_aside(companion)
            log.warning(
                "%s is corrupted (%s): kept as %s, a new one is created.", self.path, exc, aside
            )
            self._ready = False
            return True
        if "no such table" in str(exc):  # replaced by an empty file
            self._ready = False
            return True
        return False

    def _unavailable(self, exc: Exception) -> FeedbackUnavailableError:
        return FeedbackUnavailableError(
            f"L'avis n'a pas pu être lu ou enregistré : la base des avis ({self.path}) est "
            f"inutilisable ({exc}). Vérifiez ce fichier et le dossier de données (droits, "
            "espace disque), puis réessayez."
        )

    def add(self, feedback: FeedbackIn, source: str = "") -> FeedbackRecord:
        """Store a verdict; `source` says where it came from ("ui", "api")."""
        if not feedback.question.strip():
            raise InvalidQuestionError("L'avis doit porter sur une question : elle est vide.")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        citations = json.dumps([c.model_dump() for c in feedback.citations], ensure_ascii=False)
        row = (
            created,
            feedback.rating,
            feedback.comment.strip(),
            feedback.question,
            feedback.answer,
            citations,
            feedback.answerer,
            source,
        )
        new_id = self._run(
            lambda db: int(
                db.execute(
                    "INSERT INTO feedback (created_at, rating, comment, question, answer, "
                    "citations, answerer, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                ).lastrowid
            )
        )
        return FeedbackRecord(id=new_id, created_at=created, source=source, **feedback.model_dump())

    def set_comment(self, feedback_id: int, comment: str) -> None:
        """Attach (or replace) the comment of a stored verdict."""
        self._run(
            lambda db: db.execute(
                "UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip(), feedback_id)
            )
        )

    def set_rating(self, feedback_id: int, rating: Literal["up", "down"]) -> None:
        """Change a verdict (a person switching from thumbs up to down)."""
        self._run(
            lambda db: db.execute(
                "UPDATE feedback SET rating = ? WHERE id = ?", (rating, feedback_id)
            )
        )

    def all(self) -> list[FeedbackRecord]:
        """Every verdict, oldest first."""
        rows = self._run(
            lambda db: db.execute(
                "SELECT id, created_at, rating, comment, question, answer, citations, "
                "answerer, source FROM feedback ORDER BY id"
            ).fetchall()
        )
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
