"""The vector store: a Chroma collection fed with our own embeddings."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb  # noqa: E402
import numpy as np  # noqa: E402
from chromadb.api.shared_system_client import SharedSystemClient  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402
from chromadb.errors import InternalError  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402

from assistant.errors import ConfigurationError, IndexUnreadableError  # noqa: E402

COLLECTION = "chunks"
# Collections this project owns: "chunks" (the first one) and "chunks-<signature hash>".
_OWN_COLLECTION = re.compile(rf"^{COLLECTION}(?:-[0-9a-f]{{10}})?$")
_WRITE_BATCH = 64  # chunks embedded, then written, at a time
_UPSERT_BATCH = 1000  # chunks with their vectors already computed, per upsert
_READ_BATCH = 5000  # below SQLite's limit on the variables of one statement

_CLIENTS: dict[str, chromadb.ClientAPI] = {}
_CLIENTS_LOCK = threading.Lock()


@dataclass
class StoredChunk:
    """A chunk as read back from the store."""

    id: str
    text: str
    metadata: dict


def chroma_client(path: Path, url: str | None = None, *, fresh: bool = False) -> chromadb.ClientAPI:
    """A Chroma client: the server at `url` when given, else the embedded store at `path`.

    With `fresh`, an embedded store is re-read from disk: Chroma keeps one in-memory
    vector index per folder and process and never reloads it, so without this a process
    would not see the vectors another process (`assistant ingest`) wrote meanwhile.
    An embedded store whose database cannot be read raises IndexUnreadableError.
    """
    with _CLIENTS_LOCK:
        if url:  # a server is always current: one client per URL serves the whole process
            client = _CLIENTS.get(url)
            if client is None:
                client = _CLIENTS[url] = _http_client(url)
            return client
        path.mkdir(parents=True, exist_ok=True)
        key = str(path.resolve())
        client = _CLIENTS.get(key)
        if client is None or fresh:
            client = _CLIENTS[key] = _own_persistent_client(key)
        return client


def _own_persistent_client(key: str) -> chromadb.ClientAPI:
    """A client on a System of its own, stopped once no object uses the client any more.

    Chroma caches Systems by folder; taking ours out of that cache lets an older System
    keep serving the objects that hold it (a stale but valid view) while newer ones read
    the folder again, and lets each be stopped (its memory freed) independently.
    """
    cache = SharedSystemClient._identifier_to_system
    refcounts = SharedSystemClient._identifier_to_refcount
    cache.pop(key, None)
    refcounts.pop(key, None)
    try:
        client = chromadb.PersistentClient(
            path=key, settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
    except InternalError as exc:  # the database is not one, or is damaged
        refcounts.pop(key, None)
        failed = cache.pop(key, None)
        if failed is not None:
            with contextlib.suppress(Exception):  # a half-started System: free what it holds
                failed.stop()
        raise unreadable_store(Path(key), exc) from exc
    system = cache.pop(key)
    refcounts.pop(key, None)
    weakref.finalize(client, system.stop)
    return client


def unreadable_store(folder: Path, exc: Exception) -> IndexUnreadableError:
    """The error for an embedded store whose database Chroma cannot read."""
    return IndexUnreadableError(
        f"Le stockage des passages ({folder}) est illisible ({exc}). Relancez : "
        "assistant ingest (il le met de côté et le reconstruit à partir des documents)."
    )


def _http_client(url: str) -> chromadb.ClientAPI:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(
            f"ASSISTANT_CHROMA_URL invalide : {url!r}. Exemple : http://127.0.0.1:8001"
        )
    ssl = parsed.scheme == "https"
    port = parsed.port or (443 if ssl else 8000)
    try:
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=port,
            ssl=ssl,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except Exception as exc:  # the client checks the server at once; any failure means "down"
        raise ConfigurationError(
            f"Serveur Chroma injoignable à {url} ({type(exc).__name__}). Démarrez-le "
            f"(chroma run --path <dossier> --host {parsed.hostname} --port {port}) ou "
            "retirez ASSISTANT_CHROMA_URL pour utiliser le stockage intégré."
        ) from exc


class ChromaIndex:
    """Chunks, their metadata and their vectors. Vectors always come from `embeddings`,
    never from Chroma's default model (which it would try to download).

    Reading an embedded store whose database is damaged or gone raises
    IndexUnreadableError (a server's errors are left as they are).
    """

    def __init__(self, client: chromadb.ClientAPI, embeddings: Embeddings, name: str = COLLECTION):
        self.client = client
        self.embeddings = embeddings
        self.name = name
        self.collection = self._open()

    def _open(self):
        with self._reading():
            return self.client.get_or_create_collection(
                self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Chroma's database errors on an embedded store, as IndexUnreadableError."""
        try:
            yield
        except InternalError as exc:
            settings = self.client.get_settings()
            if not settings.is_persistent:
                raise
            raise unreadable_store(Path(settings.persist_directory), exc) from exc

    def refresh(self) -> None:
        """See what other processes wrote: re-read an embedded store from disk.

        A writer must do this first: writing through a stale view would save a vector
        index that lacks the other process's vectors. A server needs no refresh.
        """
        settings = self.client.get_settings()
        if settings.is_persistent:
            self.client = chroma_client(Path(settings.persist_directory), fresh=True)
            self.collection = self._open()

    def use_collection(self, name: str) -> None:
        """Work on another collection of the same store (created if needed)."""
        if name != self.name:
            self.name = name
            self.collection = self._open()

    def drop_collections(self, keep: set[str]) -> list[str]:
        """Delete this project's collections other than `keep`; returns their names."""
        dropped = []
        for collection in self.client.list_collections():
            name = getattr(collection, "name", collection)
            if _OWN_COLLECTION.match(name) and name not in keep and name != self.name:
                self.client.delete_collection(name)
                dropped.append(name)
        return dropped

    def reset(self) -> None:
        """Drop every chunk of the current collection."""
        self.client.delete_collection(self.name)
        self.collection = self._open()

    def count(self) -> int:
        """Number of chunks stored."""
        with self._reading():
            return self.collection.count()

    def add(
        self,
        ids: list[str],
        embed_texts: list[str],
        documents: list[str],
        metadatas: list[dict],
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        """Embed `embed_texts` and store them under `ids` with display text and metadata."""
        for start in range(0, len(ids), _WRITE_BATCH):
            stop = start + _WRITE_BATCH
            vectors = self.embeddings.embed_documents(embed_texts[start:stop])
            self.add_vectors(ids[start:stop], vectors, documents[start:stop], metadatas[start:stop])
            if on_progress:
                on_progress(len(vectors))

    def add_vectors(
        self,
        ids: list[str],
        vectors: list[list[float]],
        documents: list[str],
        metadatas: list[dict],
    ) -> None:
        """Store chunks whose vectors are already computed."""
        for start in range(0, len(ids), _UPSERT_BATCH):
            stop = start + _UPSERT_BATCH
            self.collection.upsert(
                ids=ids[start:stop],
                embeddings=vectors[start:stop],
                documents=documents[start:stop],
                metadatas=metadatas[start:stop],
            )

    def update_metadata(self, ids: list[str], metadatas: list[dict]) -> None:
        """Rewrite metadata (positions, titles) of chunks whose text did not change."""
        for start in range(0, len(ids), _WRITE_BATCH):
            stop = start + _WRITE_BATCH
            self.collection.update(ids=ids[start:stop], metadatas=metadatas[start:stop])

    def delete(self, ids: Iterable[str]) -> None:
        """Remove chunks by id."""
        ids = list(ids)
        for start in range(0, len(ids), _WRITE_BATCH):
            self.collection.delete(ids=ids[start : start + _WRITE_BATCH])

    def existing(self, ids: list[str]) -> set[str]:
        """Which of `ids` are stored."""
        found: set[str] = set()
        for start in range(0, len(ids), _READ_BATCH):
            with self._reading():
                got = self.collection.get(ids=ids[start : start + _READ_BATCH], include=[])
            found.update(got["ids"])
        return found

    def ids(self) -> set[str]:
        """Every stored chunk id."""
        return {i for page in self._pages(None, []) for i in page["ids"]}

    def _pages(self, where: dict | None, include: list[str]) -> Iterator[dict]:
        """`get` page by page: one call for 100,000 chunks exceeds SQLite's variable limit."""
        offset = 0
        while True:
            with self._reading():
                page = self.collection.get(
                    where=where, include=include, limit=_READ_BATCH, offset=offset
                )
            yield page
            if len(page["ids"]) < _READ_BATCH:
                return
            offset += _READ_BATCH

    def get(self, ids: list[str]) -> dict[str, StoredChunk]:
        """Chunks by id (missing ids are absent from the result)."""
        if not ids:
            return {}
        with self._reading():
            got = self.collection.get(ids=ids, include=["documents", "metadatas"])
        return {
            i: StoredChunk(i, doc, meta or {})
            for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    def all(self, where: dict | None = None) -> list[StoredChunk]:
        """Every chunk (optionally filtered), in no particular order."""
        return [
            StoredChunk(i, doc, meta or {})
            for got in self._pages(where, ["documents", "metadatas"])
            for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Every chunk's id and vector (one row each, as stored)."""
        ids: list[str] = []
        rows: list[np.ndarray] = []
        for page in self._pages(None, ["embeddings"]):
            if page["ids"]:
                ids.extend(page["ids"])
                rows.append(np.asarray(page["embeddings"], dtype=np.float32))
        return ids, np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)


class ExactSearch:
    """Nearest chunks by cosine similarity, computed against every vector.

    Chroma's HNSW graph is approximate, and its neighbours depend on how the graph was
    built. At the size of a collectivity's corpus (10,000 passages of 384 dimensions: 15 MB,
    well under a millisecond a question) the exact answer costs nothing and is the same on
    every build.
    """

    def __init__(self, ids: list[str], vectors: np.ndarray):
        self.ids = ids
        self._rows = {chunk_id: row for row, chunk_id in enumerate(ids)}
        norms = np.linalg.norm(vectors, axis=1, keepdims=True) if len(ids) else 1.0
        self._unit = vectors / np.where(norms == 0, 1.0, norms)

    @classmethod
    def of(cls, store: ChromaIndex) -> ExactSearch:
        """The store's vectors as they are now (a snapshot)."""
        return cls(*store.vectors())

    def search(
        self, vector: list[float], k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """The k nearest chunks (among `allowed` when given) as (id, cosine), best first;
        ties keep the stored order."""
        if not self.ids:
            return []
        query = np.asarray(vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        scores = self._unit @ query
        if allowed is None:
            rows = np.arange(len(self.ids))
        else:
            rows = np.array(sorted(self._rows[i] for i in allowed if i in self._rows), dtype=int)
        if not len(rows):
            return []
        best = rows[np.argsort(-scores[rows], kind="stable")[:k]]
        return [(self.ids[row], float(scores[row])) for row in best]

    def similarities(self, vector: list[float], ids: list[str]) -> dict[str, float]:
        """The cosine similarity of each of `ids` to the vector (0 for an unknown id)."""
        query = np.asarray(vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        rows = [self._rows.get(i) for i in ids]
        known = [row for row in rows if row is not None]
        if not known:  # e.g. passages the lexical index has and the vector store lost
            return dict.fromkeys(ids, 0.0)
        scores = dict(zip(known, (self._unit[known] @ query).tolist(), strict=True))
        return {i: float(scores.get(row, 0.0)) for i, row in zip(ids, rows, strict=True)}
