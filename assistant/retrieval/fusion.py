"""Hybrid retrieval: dense and lexical (BM25) rankings, their candidates ranked by a learned
model (or fused by reciprocal rank), then reranked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.errors import ConfigurationError, InvalidQuestionError
from assistant.retrieval.lexical import Bm25Index, tokenize
from assistant.retrieval.passage_rank import PassageRanker, Rankings, passage_features, word_pairs
from assistant.retrieval.sentence_index import SentenceIndex
from assistant.retrieval.store import ChromaIndex, ExactSearch, StoredChunk
from assistant.retrieval.units import announced, goes_on
from assistant.schemas import Filters, Passage


@dataclass
class Hit:
    """A retrieved chunk with the evidence of each ranking."""

    chunk: StoredChunk
    score: float  # the passage ranker's probability (or the fused score), higher is better
    dense: float | None = None  # cosine similarity to the question
    lexical: float | None = None  # BM25 score
    following: str = ""  # the document's next passage, when this one goes on there
    sections: tuple[str, ...] = ()  # headings of the sections this one announces ("trois…")

    def to_passage(self) -> Passage:
        """The public shape of a retrieved passage."""
        meta = self.chunk.metadata
        page = meta.get("page", -1)
        speakers = [s for s in str(meta.get("speakers", "")).split("; ") if s]
        return Passage(
            document_id=meta.get("doc_id", ""),
            title=meta.get("title", ""),
            locator=meta.get("locator", ""),
            page=page if isinstance(page, int) and page > 0 else None,
            text=self.chunk.text,
            score=round(self.score, 6),
            kind=meta.get("kind", ""),
            date=meta.get("date") or None,
            chunk_id=self.chunk.id,
            speakers=speakers,
        )


class Reranker(Protocol):
    """Reorders hits for a question; returns them best first."""

    def rerank(self, question: str, hits: list[Hit]) -> list[Hit]: ...


class NoopReranker:
    """Keeps the fused order (the default: no reranker ships offline)."""

    def rerank(self, question: str, hits: list[Hit]) -> list[Hit]:
        """Return the hits unchanged."""
        return hits


class CrossEncoderReranker:
    """A local sentence-transformers CrossEncoder scores (question, passage) pairs."""

    def __init__(self, model_path: Path):
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise ConfigurationError(
                "Le reranker demande l'extra sentence-transformers : "
                "pip install torch==2.13.0 && pip install '.[st]'"
            ) from exc
        if not Path(model_path).is_dir():
            raise ConfigurationError(f"Dossier de reranker introuvable : {model_path}.")
        self.model = CrossEncoder(str(model_path), device="cpu")

    def rerank(self, question: str, hits: list[Hit]) -> list[Hit]:
        """Sort hits by cross-encoder score."""
        if not hits:
            return hits
        scores = self.model.predict([(question, h.chunk.text) for h in hits])
        for hit, score in zip(hits, scores, strict=True):
            hit.score = float(score)
        return sorted(hits, key=lambda h: h.score, reverse=True)


class HybridRetriever:
    """Dense and BM25 rankings, their candidates ordered by a learned passage ranker (or by
    reciprocal-rank fusion without one), with metadata filters."""

    def __init__(
        self,
        store: ChromaIndex,
        lexical: Bm25Index,
        *,
        candidates: int = 30,
        rrf_k: int = 60,
        reranker: Reranker | None = None,
        sentences: SentenceIndex | None = None,
        passage_ranker: PassageRanker | None = None,
    ):
        self.store = store
        self.passage_ranker = passage_ranker
        self.lexical = lexical
        self.sentences = sentences
        # Which sentence rankings join the fusion: by words always, by meaning when the
        # sentence index has vectors.
        self.sentence_rankings: tuple[str, ...] = ()
        if sentences is not None:
            dense = sentences.vectors is not None and sentences.embeddings is not None
            self.sentence_rankings = ("lexical", "dense") if dense else ("lexical",)
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.reranker = reranker or NoopReranker()
        self._metadata = {c.id: c.metadata for c in store.all()}
        self.dense = ExactSearch.of(store)
        self._shapes: dict[str, tuple[int, set[tuple[str, str]]]] = {}
        # The metadata is a snapshot of the index: what is derived from it is derived once,
        # not on every question.
        self._speakers = sorted(
            {s for m in self._metadata.values() for s in str(m.get("speakers", "")).split("; ")}
            - {""}
        )
        self._catalog: dict[str, dict] = {}
        for meta in self._metadata.values():
            self._catalog.setdefault(meta.get("doc_id", ""), meta)
        # (document, ordinal) → chunk id: what comes after a passage in its document.
        self._by_position = {
            (m.get("doc_id"), m.get("ordinal")): i for i, m in self._metadata.items()
        }

    def _allowed(self, filters: Filters | None) -> set[str] | None:
        if filters is None or not (filters.document_id or filters.kind or filters.speaker):
            return None
        known_docs = {m.get("doc_id") for m in self._metadata.values()}
        unknown = set(filters.document_id or []) - known_docs
        if unknown:
            raise InvalidQuestionError(
                f"Document(s) inconnu(s) dans les filtres : {', '.join(sorted(unknown))}. "
                "Voir GET /api/documents."
            )
        wanted_speakers = {s.casefold() for s in filters.speaker or []}
        allowed = set()
        for chunk_id, meta in self._metadata.items():
            if filters.document_id and meta.get("doc_id") not in filters.document_id:
                continue
            if filters.kind and meta.get("kind") not in filters.kind:
                continue
            if wanted_speakers:
                speakers = {s.casefold() for s in str(meta.get("speakers", "")).split("; ")}
                if not speakers & wanted_speakers:
                    continue
            allowed.add(chunk_id)
        return allowed

    def retrieve(
        self,
        question: str,
        k: int,
        filters: Filters | None = None,
        lexical_query: str | None = None,
        vector: list[float] | None = None,
    ) -> list[Hit]:
        """The k best passages for a (standalone) question.

        `lexical_query` lets BM25 see the question with its acronyms expanded; `vector` is
        the question's embedding when the caller already has it.
        """
        allowed = self._allowed(filters)
        if allowed is not None and not allowed:
            return []
        if vector is None:
            vector = self.store.embeddings.embed_query(question)
        rankings = self.rankings(question, allowed, lexical_query, vector)
        cosine = self.dense.similarities(vector, rankings.candidates())
        if self.passage_ranker is None:
            scores = self._fused(rankings)
        else:
            candidates, rows = self.passage_features(rankings, lexical_query or question, cosine)
            scores = dict(zip(candidates, self.passage_ranker.probabilities(rows), strict=True))
        order = sorted(scores, key=scores.get, reverse=True)[: max(k, self.candidates)]
        chunks = self.store.get(order)
        lexical_of = dict(rankings.lexical)
        hits = [
            Hit(chunks[i], float(scores[i]), cosine[i], lexical_of.get(i))
            for i in order
            if i in chunks
        ]
        return self._with_following(self.reranker.rerank(question, hits)[:k])

    def rankings(
        self,
        question: str,
        allowed: set[str] | None,
        lexical_query: str | None,
        vector: list[float],
    ) -> Rankings:
        """Each ranking's best passages for the question."""
        words = lexical_query or question
        sentence: list[tuple[str, float]] = []
        others = []
        # A sentence that answers alone ranks its passage (a passage ranks as its best one).
        if "lexical" in self.sentence_rankings:
            sentence = self.sentences.lexical_ranking(words, self.candidates, allowed)
        if "dense" in self.sentence_rankings:
            others.append(self.sentences.dense_ranking(question, self.candidates, allowed))
        return Rankings(
            dense=self.dense.search(vector, self.candidates, allowed),
            lexical=self.lexical.search(words, self.candidates, allowed),
            sentence=sentence,
            others=tuple(others),
        )

    def passage_features(
        self, rankings: Rankings, words: str, cosine: dict[str, float]
    ) -> tuple[list[str], np.ndarray]:
        """The candidates of the rankings and the passage ranker's features for each, from
        their cosine similarities to the question (`ExactSearch.similarities`)."""
        missing = [i for i in rankings.candidates() if i not in self._shapes]
        for chunk_id, chunk in self.store.get(missing).items():
            self._shapes[chunk_id] = (len(chunk.text), word_pairs(tokenize(chunk.text)))
        return passage_features(rankings, cosine, self._shapes, word_pairs(tokenize(words)))

    def _fused(self, rankings: Rankings) -> dict[str, float]:
        """Reciprocal-rank fusion of every ranking."""
        fused: dict[str, float] = {}
        for ranking in (rankings.dense, rankings.lexical, rankings.sentence, *rankings.others):
            for rank, (chunk_id, _) in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        return fused

    def _with_following(self, hits: list[Hit]) -> list[Hit]:
        """Give each passage ending on a list or a lead-in the document's next passage: a
        list cut by the chunking goes on there, retrieved or not. A passage ending on a
        count ("… à travers trois dispositifs.") followed by as many sections gets their
        headings: they are the items it announces."""
        wanted: dict[str, list[Hit]] = {}
        for hit in hits:
            meta = hit.chunk.metadata
            following = self._by_position.get((meta.get("doc_id"), (meta.get("ordinal") or 0) + 1))
            if following is not None and goes_on(
                hit.chunk.text, meta.get("segment"), self._metadata[following].get("segment")
            ):
                wanted.setdefault(following, []).append(hit)
        for chunk_id, chunk in self.store.get(list(wanted)).items():
            for hit in wanted[chunk_id]:
                hit.following = chunk.text
        for hit in hits:
            hit.sections = self._announced_sections(hit)
        return hits

    def _announced_sections(self, hit: Hit) -> tuple[str, ...]:
        """The headings of the next sections when the passage announces that many."""
        count = announced(hit.chunk.text)
        if not count:
            return ()
        meta = hit.chunk.metadata
        document, ordinal = meta.get("doc_id"), meta.get("ordinal") or 0
        ids = [self._by_position.get((document, ordinal + n)) for n in range(1, count + 1)]
        if None in ids:
            return ()
        headings = [str(self._metadata[i].get("heading") or "") for i in ids]
        distinct = set(headings) - {"", meta.get("heading")}
        return tuple(headings) if len(distinct) == count else ()

    def speakers(self) -> list[str]:
        """Every speaker recorded in the chunks' metadata (meeting reports)."""
        return list(self._speakers)

    def catalog(self) -> dict[str, dict]:
        """Each indexed document's metadata (title, kind, date, publisher), by id."""
        return dict(self._catalog)

    def document_ids(self) -> list[str]:
        """Identifiers of the indexed documents."""
        return sorted({m.get("doc_id", "") for m in self._metadata.values()})
