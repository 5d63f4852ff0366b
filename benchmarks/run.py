"""Benchmarks: ingestion of corpus/, query latency on the gold questions, and scale.

Prints tables and writes `<data_dir>/bench/results.json`. Numbers, not pass/fail: they
show where time goes (the embedder), what a re-run costs, how latency and memory grow.
`python -m benchmarks.run [--quick] [--scales 1000,10000] [--questions 50]`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from langchain_core.embeddings import Embeddings

from assistant.retrieval.embeddings import build_embeddings, embedder_name
from assistant.settings import PROJECT_ROOT, Settings
from benchmarks.scale import latency_ms, peak_rss_mb
from ingest.index import ingest, open_store

SCALES = (1_000, 10_000, 100_000)


class TimedEmbeddings(Embeddings):
    """An embedder that adds up the time spent embedding passages: the ingestion's floor."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.name = embedder_name(inner)
        self.seconds = 0.0
        self.passages = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages, timed."""
        started = time.perf_counter()
        vectors = self.inner.embed_documents(texts)
        self.seconds += time.perf_counter() - started
        self.passages += len(texts)
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed a question (not timed)."""
        return self.inner.embed_query(text)


def bench_ingestion(settings: Settings) -> dict:
    """Cold ingestion of the corpus into an empty index, then a run with nothing changed."""
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    started = time.perf_counter()
    embeddings = TimedEmbeddings(build_embeddings(settings))
    embeddings.embed_query("chargement du modèle")  # model loading is not ingestion
    load_s = time.perf_counter() - started
    cold = ingest(
        settings.corpus_dir, settings, progress=False, store=open_store(settings, embeddings)
    )
    rerun = ingest(
        settings.corpus_dir, settings, progress=False, store=open_store(settings, embeddings)
    )
    return {
        "embedder": embeddings.name,
        "model_load_s": load_s,
        "files": cold.files,
        "chunks": cold.chunks_total,
        "cold_s": cold.seconds,
        "cold_chunks_per_s": cold.chunks_embedded / cold.seconds,
        "embedding_s": embeddings.seconds,
        "embedding_chunks_per_s": embeddings.passages / embeddings.seconds,
        "other_s": cold.seconds - embeddings.seconds,
        "rerun_s": rerun.seconds,
        "rerun_chunks_embedded": rerun.chunks_embedded,
        "sentences": cold.sentences_total,
        "sentences_embedded": cold.sentences_embedded,
        "sentences_s": cold.sentences_seconds,
        "cold_over_floor": cold.seconds / embeddings.seconds,
        "rerun_sentences_embedded": rerun.sentences_embedded,
    }


def bench_queries(settings: Settings, baseline_dir: Path) -> dict:
    """Latency of retrieval alone and of full answers on every gold question, and the
    naive baseline's on the same questions in the same process."""
    from assistant.core import build_assistant
    from evals.baseline import load_baseline
    from evals.gold import load_gold

    cases = load_gold()
    assistant = build_assistant(settings)
    for case in cases[:3]:  # warm-up: first calls load models and caches
        assistant.ask(case.question)
    retrieval, answers = [], []
    for case in cases:
        history = [t.model_dump() for t in case.history] or None
        profile = case.profile.model_dump() if case.profile else None
        started = time.perf_counter()
        assistant.retriever.retrieve(case.question, settings.top_k)
        retrieval.append(time.perf_counter() - started)
        started = time.perf_counter()
        assistant.ask(case.question, history=history, profile=profile)
        answers.append(time.perf_counter() - started)
    naive = load_baseline(settings.corpus_dir, baseline_dir)
    naive.ask(cases[0].question)
    naive_retrieval, naive_answers = [], []
    for case in cases:
        started = time.perf_counter()
        response = naive.ask(case.question)
        naive_answers.append(time.perf_counter() - started)
        naive_retrieval.append(response["timings_ms"]["retrieve"] / 1000)
    return {
        "questions": len(cases),
        "assistant": {"retrieval_ms": latency_ms(retrieval), "answer_ms": latency_ms(answers)},
        "baseline": {
            "retrieval_ms": latency_ms(naive_retrieval),
            "answer_ms": latency_ms(naive_answers),
        },
    }


def bench_scale(n: int, folder: Path, questions: int) -> dict:
    """Build then query an index of `n` synthetic chunks, each step in its own process."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    result: dict = {}
    for step in (["build"], ["query", str(questions)]):
        command = [sys.executable, "-m", "benchmarks.scale", step[0], str(n), str(folder)]
        output = subprocess.run(
            command + step[1:], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
        )
        if output.returncode != 0:
            raise RuntimeError(f"benchmarks.scale {step[0]} {n} failed:\n{output.stderr}")
        result.update(json.loads(output.stdout.strip().splitlines()[-1]))
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def report(results: dict) -> str:
    """The results as Markdown tables."""
    parts = []
    if "ingestion" in results:
        i = results["ingestion"]
        parts.append(
            f"Ingestion of corpus/ ({i['files']} files, {i['chunks']} chunks, {i['embedder']}):\n\n"
            + _table(
                ["step", "seconds", "chunks/s"],
                [
                    ["cold ingestion", f"{i['cold_s']:.1f}", f"{i['cold_chunks_per_s']:.1f}"],
                    [
                        "of which embedding (the floor)",
                        f"{i['embedding_s']:.1f}",
                        f"{i['embedding_chunks_per_s']:.1f}",
                    ],
                    [
                        f"of which sentence units ({i['sentences']} sentences, "
                        f"{i['sentences_embedded']} vectors, and their BM25)",
                        f"{i['sentences_s']:.1f}",
                        "",
                    ],
                    [
                        "of which the rest (read, chunk, Chroma, BM25)",
                        f"{i['other_s'] - i['sentences_s']:.1f}",
                        "",
                    ],
                    [f"cold ingestion / floor: {i['cold_over_floor']:.2f}×", "", ""],
                    [
                        f"re-run, nothing changed ({i['rerun_chunks_embedded']} passages and "
                        f"{i['rerun_sentences_embedded']} sentences embedded)",
                        f"{i['rerun_s']:.2f}",
                        "",
                    ],
                    ["model loading (once per process)", f"{i['model_load_s']:.1f}", ""],
                ],
            )
        )
    if "queries" in results:
        q = results["queries"]
        rows = []
        for system in ("assistant", "baseline"):
            r, a = q[system]["retrieval_ms"], q[system]["answer_ms"]
            rows.append(
                [system, f"{r['p50']:.0f} / {r['p95']:.0f}", f"{a['p50']:.0f} / {a['p95']:.0f}"]
            )
        ratio = q["assistant"]["answer_ms"]["p50"] / q["baseline"]["answer_ms"]["p50"]
        parts.append(
            f"Query latency, {q['questions']} gold questions, in-process (ms, p50 / p95):\n\n"
            + _table(["system", "retrieval", "full answer"], rows)
            + f"\n\nFull answer p50: {ratio:.1f}× the naive baseline's (acceptance: ≤ 2.5×)."
        )
    if results.get("scale"):
        rows = []
        for s in results["scale"]:
            rows.append(
                [
                    f"{s['chunks']:,}".replace(",", " "),
                    f"{s['build_s']:.1f} ({s['chroma_write_s']:.1f} + {s['bm25_build_s']:.1f})",
                    f"{s['disk_mb']:.0f}",
                    f"{s['load_s']:.1f}",
                    f"{s['retrieval_ms']['p50']:.0f} / {s['retrieval_ms']['p95']:.0f}",
                    f"{s['answer_ms']['p50']:.0f} / {s['answer_ms']['p95']:.0f}",
                    f"{s['rss_mb']:.0f} (+{s['index_rss_mb']:.0f})",
                ]
            )
        parts.append(
            "Scale: synthetic chunks with random unit vectors written to Chroma, hash embedder "
            f"for the {results['scale'][0]['questions']} questions:\n\n"
            + _table(
                [
                    "chunks",
                    "build s (Chroma + BM25)",
                    "disk MB",
                    "load s",
                    "retrieval ms p50 / p95",
                    "answer ms p50 / p95",
                    "RSS MB (index)",
                ],
                rows,
            )
        )
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmarks, print the tables, write results.json; return the results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="scales 1k and 10k only")
    parser.add_argument("--scales", help="comma-separated chunk counts (default 1000,10000,100000)")
    parser.add_argument("--questions", type=int, default=50, help="questions per scale point")
    parser.add_argument("--skip-corpus", action="store_true", help="scale benchmark only")
    args = parser.parse_args(argv)
    settings = Settings()
    out_dir = settings.data_dir / "bench"
    scales = [int(s) for s in args.scales.split(",")] if args.scales else list(SCALES)
    if args.quick:
        scales = [s for s in scales if s <= 10_000]
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    started = time.perf_counter()
    if not args.skip_corpus:
        corpus_settings = settings.model_copy(
            update={"data_dir": out_dir / "corpus", "chroma_url": None}
        )
        print("Ingestion of corpus/ …", file=sys.stderr)
        results["ingestion"] = bench_ingestion(corpus_settings)
        print("Gold questions, assistant and baseline …", file=sys.stderr)
        results["queries"] = bench_queries(corpus_settings, settings.data_dir)
    results["scale"] = []
    for n in scales:
        print(f"Scale: {n} chunks …", file=sys.stderr)
        results["scale"].append(bench_scale(n, out_dir / f"scale-{n}", args.questions))
    results["seconds"] = time.perf_counter() - started
    results["peak_rss_mb"] = peak_rss_mb()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(report(results))
    print(f"\n{results['seconds']:.0f} s in all; results in {out_dir / 'results.json'}")
    return results


if __name__ == "__main__":
    main()
