"""One point of the scale benchmark, in a process of its own so that its memory is its own.

`python -m benchmarks.scale build N FOLDER` writes N synthetic chunks with random unit
vectors straight to Chroma (no embedder: the vectors stand for precomputed ones), builds
and publishes the BM25 index; `python -m benchmarks.scale query N FOLDER Q` loads the
assistant on it (hash embedder for the questions) and times Q gold questions. Each prints
one JSON object.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.retrieval.embeddings import HashEmbeddings
from assistant.retrieval.lexical import Bm25Index
from assistant.retrieval.store import ChromaIndex, chroma_client
from assistant.settings import PROJECT_ROOT, Settings
from ingest.load import load_corpus
from ingest.publish import publish_lexical

CHUNKS_PER_DOCUMENT = 50
COLLECTION = "chunks-bench"


def rss_mb(pid: int | str = "self", field_name: str = "VmRSS") -> float:
    """A memory figure of a process (this one by default), in MB, from /proc/<pid>/status.

    VmRSS is the resident memory now, VmHWM its highest so far.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """Highest resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latency_ms(samples: list[float]) -> dict[str, float]:
    """p50 and p95 of durations given in seconds, in milliseconds."""
    values = np.asarray(samples) * 1000
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


def synthetic_chunks(n: int, seed: int = 0) -> tuple[list[str], list[str], list[dict]]:
    """N passages of 60-120 words drawn from the corpus vocabulary at its frequencies."""
    counts = Counter(w for d in load_corpus(PROJECT_ROOT / "corpus") for w in d.text.split())
    words = np.array(list(counts))
    weights = np.array(list(counts.values()), dtype=float)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(60, 121, size=n)
    drawn = rng.choice(len(words), size=int(lengths.sum()), p=weights / weights.sum())
    texts, start = [], 0
    for length in lengths:
        texts.append(" ".join(words[drawn[start : start + length]]))
        start += length
    ids = [f"doc{i // CHUNKS_PER_DOCUMENT:05d}:{i:020x}" for i in range(n)]
    metas = [
        {
            "doc_id": f"doc{i // CHUNKS_PER_DOCUMENT:05d}",
            "title": f"Document {i // CHUNKS_PER_DOCUMENT}",
            "kind": "document",
            "heading": f"Section {i % CHUNKS_PER_DOCUMENT}",
            "locator": f"partie {i % CHUNKS_PER_DOCUMENT + 1}",
            "page": -1,
            "speakers": "",
        }
        for i in range(n)
    ]
    return ids, texts, metas


def build(n: int, folder: Path) -> dict:
    """Write the chunks and their vectors to Chroma, then the BM25 index; time each step."""
    ids, texts, metas = synthetic_chunks(n)
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((n, 384), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index_dir = folder / "index"
    store = ChromaIndex(chroma_client(index_dir / "chroma"), HashEmbeddings(), COLLECTION)
    started = time.perf_counter()
    store.add_vectors(ids, vectors, texts, metas)
    written = time.perf_counter()
    lexical = Bm25Index.build(
        ids, [f"{m['heading']}\n{t}" for m, t in zip(metas, texts, strict=True)]
    )
    publish_lexical(index_dir, lexical, {"collection": COLLECTION, "chunks": n})
    done = time.perf_counter()
    size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    return {
        "chunks": n,
        "chroma_write_s": written - started,
        "bm25_build_s": done - written,
        "build_s": done - started,
        "disk_mb": size / 1024 / 1024,
        "build_peak_rss_mb": peak_rss_mb(),
    }


def query(n: int, folder: Path, questions: int) -> dict:
    """Load the assistant on the built index and time retrieval and full answers."""
    from assistant.core import build_assistant
    from evals.gold import load_gold

    settings = Settings(_env_file=None, data_dir=folder, embedder="hash")
    baseline_rss = rss_mb()
    started = time.perf_counter()
    assistant = build_assistant(settings)
    load_s = time.perf_counter() - started
    cases = [c.question for c in load_gold()][:questions]
    assistant.ask(cases[0])  # the vector index is read from disk on first use
    loaded_rss = rss_mb()
    retrieval, answers = [], []
    for question in cases:
        started = time.perf_counter()
        assistant.retriever.retrieve(question, settings.top_k)
        retrieval.append(time.perf_counter() - started)
        started = time.perf_counter()
        assistant.ask(question)
        answers.append(time.perf_counter() - started)
    return {
        "chunks": n,
        "questions": len(cases),
        "load_s": load_s,
        "retrieval_ms": latency_ms(retrieval),
        "answer_ms": latency_ms(answers),
        "rss_mb": loaded_rss,
        "index_rss_mb": loaded_rss - baseline_rss,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str]) -> None:
    """Entry point of the child processes (see the module docstring)."""
    step, n, folder = argv[0], int(argv[1]), Path(argv[2])
    result = build(n, folder) if step == "build" else query(n, folder, int(argv[3]))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
