"""The composition root: wires index, retriever and answerer into one `Assistant`."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from assistant.answering.brief import asks_who_is, named_speakers
from assistant.answering.definitions import definition_answer
from assistant.answering.extractive import Answerer, Draft, ExtractiveAnswerer
from assistant.answering.rules import RULES_FILE, Rulebook
from assistant.errors import ConfigurationError, IndexMissingError, InvalidQuestionError
from assistant.obligations import obligations_answer
from assistant.query import Query, asks_to_compare, build_query
from assistant.retrieval.embeddings import build_embeddings, embedder_name
from assistant.retrieval.fusion import (
    CrossEncoderReranker,
    Hit,
    HybridRetriever,
    NoopReranker,
    Reranker,
)
from assistant.retrieval.lexical import Bm25Index
from assistant.retrieval.passage_rank import PassageRanker
from assistant.retrieval.sentence_index import SentenceIndex
from assistant.schemas import AskResponse, Filters, Message, Profile
from assistant.settings import Settings
from assistant.sources import named_documents, without_names

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)


@dataclass
class StreamEvent:
    """One step of a streamed answer: text `delta`s, then `citations`, then `done`."""

    type: Literal["delta", "citations", "done"]
    text: str = ""
    response: AskResponse | None = None


@runtime_checkable
class StreamingAnswerer(Protocol):
    """An answerer that can show its answer while writing it (a generative model)."""

    name: str

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[str | Draft]:
        """Text pieces as they come, then the finished `Draft`."""
        ...


# Passages taken from each document a comparing question names, before the others.
PER_DOCUMENT = 2

# Pieces of a streamed answer: a line, or a sentence of a long line.
_STREAM_PIECE = re.compile(r"[^\n]*?(?:[.!?;:](?=\s)|\n|$)\s*")


class Assistant:
    """Answers questions over the indexed corpus."""

    def __init__(
        self,
        retriever: HybridRetriever,
        answerer: Answerer,
        *,
        top_k: int,
        max_question_chars: int,
        embedder: str,
        rulebook: Rulebook | None = None,
    ):
        self.retriever = retriever
        self.answerer = answerer
        self.top_k = top_k
        self.max_question_chars = max_question_chars
        self.embedder = embedder
        self.rulebook = rulebook or Rulebook.of([])

    @property
    def extractive(self) -> ExtractiveAnswerer | None:
        """The extractive answerer: the answerer itself, or the one a generative answerer
        falls back on (None without either)."""
        answerer = self.answerer
        if isinstance(answerer, ExtractiveAnswerer):
            return answerer
        return getattr(answerer, "fallback", None)

    def _validate(self, question: str) -> str:
        if not isinstance(question, str):
            raise InvalidQuestionError("La question doit être une chaîne de caractères.")
        question = question.strip()
        if not question:
            raise InvalidQuestionError("La question est vide : écrivez une question.")
        if len(question) > self.max_question_chars:
            raise InvalidQuestionError(
                f"La question fait {len(question)} caractères ; la limite est "
                f"{self.max_question_chars}. Raccourcissez-la."
            )
        return question

    def ask(
        self,
        question: str,
        history: list[Message | dict] | None = None,
        filters: Filters | dict | None = None,
        profile: Profile | dict | None = None,
        include_passages: bool = False,
        brief: bool = False,
        debug: bool = False,
    ) -> AskResponse:
        """Answer one question, with citations, or abstain.

        `brief` asks for a facilitator's brief: what each speaker said, grouped by speaker.
        `debug` adds the answer's trace: the best sentences' features and probabilities,
        the confidence and the refusal threshold.
        """
        started = time.perf_counter()
        query, hits = self._prepare(question, history, filters, profile, brief)
        retrieved = time.perf_counter()
        # « Qu'est-ce qui s'applique à nous ? » is answered from the rules, cited;
        # « C'est quoi X ? » from the corpus's definition of X.
        draft = (
            obligations_answer(query, self.rulebook, self.retriever.lexical.acronyms)
            or definition_answer(query, hits, self.retriever, filters)
            or self.answerer.answer(query, hits)
        )
        response = self._response(query, hits, draft, (started, retrieved), include_passages)
        if debug:
            response.trace = draft.trace
        return response

    def _prepare(
        self,
        question: str,
        history: list[Message | dict] | None,
        filters: Filters | dict | None,
        profile: Profile | dict | None,
        brief: bool,
    ) -> tuple[Query, list[Hit]]:
        """Check the question, make it standalone and retrieve its passages."""
        question = self._validate(question)
        history = [m if isinstance(m, Message) else Message(**m) for m in history or []]
        if isinstance(filters, dict):
            filters = Filters(**filters)
        if isinstance(profile, dict):
            profile = Profile(**profile)
        query = build_query(question, history, profile, brief)
        if asks_to_compare(query.question) and not (filters and filters.document_id):
            catalog = self.retriever.catalog()
            named = named_documents(query.question, catalog, self.retriever.lexical)
            query.documents = tuple(named) if len(named) >= 2 else ()
        speakers = self.retriever.speakers() if brief else []
        if speakers and not (filters and filters.speaker):
            filters = (filters or Filters()).model_copy(update={"speaker": speakers})
        return query, self._retrieve(query, filters)

    def _response(
        self,
        query: Query,
        hits: list[Hit],
        draft: Draft,
        times: tuple[float, float],
        include_passages: bool,
    ) -> AskResponse:
        """The API's answer shape from a draft, with timings since `times` (start, retrieved).

        Quotes are shown with the corpus's OCR misreadings read as the words meant; the
        passages and citations keep the text as stored."""
        started, retrieved = times
        done = time.perf_counter()
        readable = self.retriever.lexical.readable
        return AskResponse(
            answer=draft.answer if draft.generated else readable(draft.answer),
            abstained=draft.abstained,
            language=query.language,
            citations=draft.citations,
            timings_ms={
                "retrieval": round((retrieved - started) * 1000, 1),
                "answer": round((done - retrieved) * 1000, 1),
                "total": round((done - started) * 1000, 1),
            },
            passages=[h.to_passage() for h in hits] if include_passages else None,
            answerer=draft.answerer,
        )

    def ask_stream(
        self,
        question: str,
        history: list[Message | dict] | None = None,
        filters: Filters | dict | None = None,
        profile: Profile | dict | None = None,
        include_passages: bool = False,
        brief: bool = False,
    ) -> Iterator[StreamEvent]:
        """The answer of `ask` as events: text pieces, the citations, then the response.

        The question is checked and its passages retrieved before this returns, so an
        invalid question raises here rather than in the middle of a stream. An answerer
        that generates (the LLM) streams its text as it comes; the extractive answer,
        ready at once, is streamed line by line (a long line sentence by sentence).
        """
        started = time.perf_counter()
        query, hits = self._prepare(question, history, filters, profile, brief)
        times = (started, time.perf_counter())
        draft = obligations_answer(
            query, self.rulebook, self.retriever.lexical.acronyms
        ) or definition_answer(query, hits, self.retriever, filters)
        if draft is not None:
            return self._events(self._response(query, hits, draft, times, include_passages))
        if isinstance(self.answerer, StreamingAnswerer):
            return self._live(
                self.answerer.stream(query, hits), query, hits, times, include_passages
            )
        draft = self.answerer.answer(query, hits)
        return self._events(self._response(query, hits, draft, times, include_passages))

    def _live(
        self,
        pieces: Iterator[str | Draft],
        query: Query,
        hits: list[Hit],
        times: tuple[float, float],
        include_passages: bool,
    ) -> Iterator[StreamEvent]:
        draft = None
        for piece in pieces:
            if isinstance(piece, Draft):
                draft = piece
            elif piece:
                yield StreamEvent("delta", text=piece)
        if draft is None:  # an answerer must end its stream with the draft
            raise RuntimeError("the answerer's stream ended without its draft")
        response = self._response(query, hits, draft, times, include_passages)
        yield StreamEvent("citations", response=response)
        yield StreamEvent("done", response=response)

    @staticmethod
    def _events(response: AskResponse) -> Iterator[StreamEvent]:
        for piece in _STREAM_PIECE.findall(response.answer):
            if piece:
                yield StreamEvent("delta", text=piece)
        yield StreamEvent("citations", response=response)
        yield StreamEvent("done", response=response)

    def _retrieve(self, query: Query, filters: Filters | None) -> list[Hit]:
        """Passages for the query; a question naming a speaker looks at their words first."""
        named = named_speakers(query.text, self.retriever.speakers())
        if named and not (filters and filters.speaker) and not asks_who_is(query.question):
            narrowed = (filters or Filters()).model_copy(update={"speaker": named})
            vector = self.retriever.store.embeddings.embed_query(query.text)
            hits = self.retriever.retrieve(
                query.text, self.top_k, narrowed, lexical_query=query.lexical, vector=vector
            )
            if len(hits) >= self.top_k:
                return hits
            if hits:
                # Few passages are tagged as their words (an interview goes on untagged):
                # the best of the others fill the rest.
                ids = {h.chunk.id for h in hits}
                overall = self.retriever.retrieve(
                    query.text, self.top_k, filters, lexical_query=query.lexical, vector=vector
                )
                return [*hits, *(h for h in overall if h.chunk.id not in ids)][: self.top_k]
        if query.documents:
            return self._retrieve_each(query, filters)
        return self.retriever.retrieve(query.text, self.top_k, filters, lexical_query=query.lexical)

    def _retrieve_each(self, query: Query, filters: Filters | None) -> list[Hit]:
        """Passages for a question comparing the documents it names: the best of each first.

        Each named document is searched on its own, so that one whose wording is further
        from the question's still brings its passages; its best ones come in turn, then
        the passages of the search over the whole corpus.
        """
        vector = self.retriever.store.embeddings.embed_query(query.text)
        overall = self.retriever.retrieve(
            query.text, self.top_k, filters, lexical_query=query.lexical, vector=vector
        )
        rank = {h.chunk.metadata.get("doc_id"): i for i, h in reversed(list(enumerate(overall)))}
        documents = sorted(query.documents, key=lambda d: rank.get(d, len(overall)))
        # Inside one document the words naming it tell nothing: look for the topic alone.
        named = {d: m for d, m in self.retriever.catalog().items() if d in documents}
        topic = Query(without_names(query.question, named), query.language, query.context)
        each = []
        for document in documents:
            # The question's one vector serves inside each document too: filtered to one
            # document, the names in it no longer pull towards another.
            only = (filters or Filters()).model_copy(update={"document_id": [document]})
            each.append(
                self.retriever.retrieve(
                    topic.text, PER_DOCUMENT, only, lexical_query=topic.lexical, vector=vector
                )
            )
        turns = [hits[i] for i in range(PER_DOCUMENT) for hits in each if i < len(hits)]
        merged: dict[str, Hit] = {}
        for hit in [*turns, *overall]:
            merged.setdefault(hit.chunk.id, hit)
        return list(merged.values())[: self.top_k]

    def health(self) -> dict:
        """Counts and components, for `/api/health`: `degraded`, with the reason, when the
        vector store lacks passages the published index lists (its files were lost)."""
        chunks = self.retriever.store.count()
        published = len(self.retriever.lexical.ids)
        reason = None
        if chunks < published:
            reason = (
                f"L'index vectoriel ne contient que {chunks} passage(s) sur les {published} "
                "publiés : relancez assistant ingest."
            )
        return {
            "status": "degraded" if reason else "ok",
            "reason": reason,
            "documents": len(self.retriever.document_ids()),
            "chunks": chunks,
            "embedder": self.embedder,
            "answerer": self.answerer.name,
        }


def _reranker(settings: Settings) -> Reranker:
    if settings.reranker == "cross-encoder":
        if settings.reranker_model is None:
            raise ConfigurationError(
                "ASSISTANT_RERANKER=cross-encoder demande ASSISTANT_RERANKER_MODEL "
                "(chemin d'un dossier CrossEncoder local)."
            )
        return CrossEncoderReranker(settings.reranker_model)
    return NoopReranker()


def _passage_ranker(settings: Settings) -> PassageRanker | None:
    if settings.fusion == "rrf":
        return None
    try:
        return PassageRanker.load(settings.passage_ranker)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"Modèle de classement des passages illisible ({settings.passage_ranker}) : {exc}. "
            "Lancez make train, ou ASSISTANT_FUSION=rrf."
        ) from exc


def build_assistant(settings: Settings) -> Assistant:
    """The assistant described by the settings, on the index in the data directory."""
    from ingest.index import current_lexical_dir, open_store

    lexical_dir = current_lexical_dir(settings.index_dir)  # one published version, resolved once
    if lexical_dir is None:
        raise IndexMissingError(
            f"Aucun index dans {settings.index_dir}. "
            f"Lancez : assistant ingest {settings.corpus_dir}"
        )
    embeddings = build_embeddings(settings)
    store = open_store(settings, embeddings)
    lexical = Bm25Index.load(lexical_dir)
    retriever = HybridRetriever(
        store,
        lexical,
        candidates=settings.candidates,
        rrf_k=settings.rrf_k,
        reranker=_reranker(settings),
        sentences=SentenceIndex.load(lexical_dir),
        passage_ranker=_passage_ranker(settings),
    )
    # Read from the published passages on first use, cached by content in rules.json.
    rulebook = Rulebook(
        lambda ids=frozenset(lexical.ids): [c for c in store.all() if c.id in ids],
        cache=settings.index_dir / RULES_FILE,
    )
    extractive = ExtractiveAnswerer(lexical, rulebook=rulebook)
    answerer: Answerer = extractive
    if settings.answerer == "openai":
        from assistant.answering.generative import OpenAIAnswerer

        answerer = OpenAIAnswerer.from_settings(settings, fallback=extractive)
    return Assistant(
        retriever,
        answerer,
        top_k=settings.top_k,
        max_question_chars=settings.max_question_chars,
        embedder=embedder_name(embeddings),
        rulebook=rulebook,
    )
