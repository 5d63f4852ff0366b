"""Crash safety: an ingestion killed (SIGKILL) at any step leaves the published index usable,
and the next run finishes the work with no duplicate and no orphan."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import make_settings

from assistant.core import build_assistant
from assistant.errors import IndexMissingError
from assistant.settings import Settings
from ingest.index import (
    LEXICAL_DIR,
    PENDING,
    IndexBusyError,
    current_lexical_dir,
    index_meta,
    ingest,
    load_state,
    open_store,
    writer_lock,
)

# The child ingests through the real CLI. Only there, and only for these tests, the hash
# embedder is slowed down and each step of interest prints a marker, so that the parent
# can kill the child right after the Nth occurrence of a step.
CHILD = r"""
import sys, time
import ingest.index as index
from assistant.retrieval.embeddings import HashEmbeddings
from assistant.retrieval.lexical import Bm25Index
from assistant.retrieval.store import ChromaIndex

PAUSE = float(sys.argv[2])

def marked(name, function, before=False):
    def wrapper(*args, **kwargs):
        if before:
            print(name, flush=True)
            time.sleep(PAUSE)
        result = function(*args, **kwargs)
        if not before:
            print(name, flush=True)
            time.sleep(PAUSE)
        return result
    return wrapper

HashEmbeddings.embed_documents = marked("embedded", HashEmbeddings.embed_documents)
ChromaIndex.add_vectors = marked("written", ChromaIndex.add_vectors)
ChromaIndex.delete = marked("deleting", ChromaIndex.delete, before=True)
Bm25Index.save = marked("lexical-saved", Bm25Index.save)
index._save_state = marked("state-saved", index._save_state)

from assistant.cli import app
app(["ingest", sys.argv[1]], prog_name="assistant")
"""

# Filler words; none of the questions' words, so that BM25 finds the facts without doubt.
_VOCABULARY = """
commune intercommunalité numérique données ouverture accessibilité schéma directeur
cybersécurité archivage délibération usagers démarche service public agents formation
hébergement logiciel libre mutualisation syndicat territoire réseau inclusion
médiation sobriété matériel reconditionné achat marché investissement conseil
élus habitants association département région État guichet portail
"""
WORDS = _VOCABULARY.split()
FIBRE_FACT = (
    "Le budget du plan fibre de la communauté de communes du Val de Brenne est de "
    "4 200 000 euros pour 2026."
)
FIBRE_QUESTION = "Quel est le budget du plan fibre du Val de Brenne ?"
LIBRARY_FACT = "La médiathèque de Saint-Aubin ouvrira son espace numérique en mars 2027."
LIBRARY_QUESTION = "Quand la médiathèque de Saint-Aubin ouvrira-t-elle son espace numérique ?"


def _document(rng: random.Random, n_sections: int, fact: tuple[str, str] | None = None) -> str:
    """Markdown with `n_sections` sections of about one chunk each; `fact` (heading,
    sentence) in a section of its own."""
    parts = [f"# Rapport {rng.randint(1, 10**6)}"]
    if fact:
        parts.append(f"## {fact[0]}\n\n{fact[1]}")
    for s in range(n_sections):
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))).capitalize() + "."
            for _ in range(rng.randint(5, 8))
        ]
        parts.append(f"## Section {s + 1} {rng.choice(WORDS)}\n\n" + " ".join(sentences))
    return "\n\n".join(parts) + "\n"


def write_corpus(folder: Path, version: int = 1) -> Path:
    """Version 1: ten documents (about 300 chunks). Version 2: two edited, one deleted,
    one new large one."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [70, 8, 12, 90, 6, 40, 10, 25, 15, 20]
    texts = {
        f"doc{i:02d}.md": _document(
            rng, n, ("Plan fibre du Val de Brenne", FIBRE_FACT) if i == 2 else None
        )
        for i, n in enumerate(sizes)
    }
    if version == 2:
        texts["doc03.md"] = texts["doc03.md"].replace("## Section 5", "## Section cinq")
        texts["doc05.md"] += "\n## Annexe\n\nUne annexe ajoutée sur la sobriété numérique.\n"
        del texts["doc07.md"]
        texts["doc10.md"] = _document(rng, 80, ("Médiathèque de Saint-Aubin", LIBRARY_FACT))
    for old in folder.glob("*.md"):
        if old.name not in texts:
            old.unlink()
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _settings(root: Path, **values) -> Settings:
    return make_settings(
        data_dir=root / "data", corpus_dir=root / "corpus", embedder="hash", **values
    )


def run_child(
    settings: Settings,
    kill_after: tuple[str, int] | None = None,
    pause_s: float = 0.02,
    timeout_s: float = 90.0,
) -> dict[str, int]:
    """`assistant ingest` in a child process, SIGKILLed after the Nth `kill_after` marker.

    Returns how many times each marker was seen. Fails if the child was to be killed but
    ended first, or if it failed on its own.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_DATA_DIR=str(settings.data_dir),
        ASSISTANT_CORPUS_DIR=str(settings.corpus_dir),
        ASSISTANT_EMBEDDER=settings.embedder,
        ASSISTANT_CHUNK_SIZE=str(settings.chunk_size),
        ASSISTANT_CHUNK_OVERLAP=str(settings.chunk_overlap),
    )
    stderr = settings.data_dir.parent / "child-stderr.txt"
    with stderr.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(settings.corpus_dir), str(pause_s)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            cwd=settings.data_dir.parent,  # no .env file there
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            for line in child.stdout:
                lines.put(line.strip())
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        seen: dict[str, int] = {}
        deadline = time.monotonic() + timeout_s
        killed = False
        try:
            while True:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                if line is None:
                    break
                seen[line] = seen.get(line, 0) + 1
                if kill_after and seen.get(kill_after[0]) == kill_after[1]:
                    child.send_signal(signal.SIGKILL)
                    killed = True
                    break
        finally:
            if child.poll() is None and not killed:
                child.kill()
            child.wait(timeout=30)
    if kill_after:
        assert killed, f"the child ended before {kill_after}: {seen}\n{stderr.read_text()}"
        assert child.returncode == -signal.SIGKILL
    else:
        assert child.returncode == 0, stderr.read_text()
    return seen


def _lexical_ids(settings: Settings) -> list[str]:
    folder = current_lexical_dir(settings.index_dir)
    assert folder is not None
    return json.loads((folder / "ids.json").read_text(encoding="utf-8"))["ids"]


def assert_complete(settings: Settings, expected: set[str]) -> None:
    """Store, state and BM25 hold exactly the expected chunks, each once; nothing pending."""
    store = open_store(settings)
    stored = store.ids()
    documents = load_state(settings.index_dir)["documents"]
    owned = [i for entry in documents.values() for i in entry["chunk_ids"]]
    lexical = _lexical_ids(settings)
    assert [d for d, e in documents.items() if e["digest"] == PENDING] == []
    assert stored == set(owned) == set(lexical) == expected
    assert len(owned) == len(lexical) == store.count() == len(expected)  # no duplicates
    assert index_meta(settings.index_dir)["collection"] == store.name
    leftovers = [p.name for p in settings.index_dir.glob(f".{LEXICAL_DIR}*")]
    assert leftovers == []


def assert_served(settings: Settings, served: set[str], question: str, fact: str) -> None:
    """The published index is the expected one, whole, and answers."""
    lexical = set(_lexical_ids(settings))
    assert lexical == served
    assert served <= open_store(settings).ids()  # every published chunk is still stored
    assistant = build_assistant(settings)
    response = assistant.ask(question)
    hits = [(h.chunk.id, h.dense, h.lexical) for h in assistant.retriever.retrieve(question, 8)]
    assert not response.abstained, (response.answer, assistant.retriever.store.count(), hits)
    assert fact in response.answer
    assert {c.chunk_id for c in response.citations} <= served


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[int, set[str]]:
    """Chunk ids of each corpus version, from an uninterrupted in-process ingestion."""
    ids = {}
    for version in (1, 2):
        root = tmp_path_factory.mktemp(f"reference-{version}")
        settings = _settings(root)
        write_corpus(settings.corpus_dir, version)
        report = ingest(settings.corpus_dir, settings, progress=False)
        assert report.errors == []
        ids[version] = open_store(settings).ids()
    return ids


@pytest.fixture
def indexed_v1(tmp_path, reference) -> Settings:
    """Corpus version 1, fully indexed; the corpus folder then holds version 2."""
    settings = _settings(tmp_path)
    write_corpus(settings.corpus_dir, 1)
    ingest(settings.corpus_dir, settings, progress=False)
    assert_complete(settings, reference[1])
    write_corpus(settings.corpus_dir, 2)
    return settings


@pytest.mark.parametrize("kill_after", [("embedded", 1), ("written", 3)])
def test_first_ingestion_killed_is_finished_by_the_next_run(tmp_path, reference, kill_after):
    settings = _settings(tmp_path)
    write_corpus(settings.corpus_dir, 1)

    run_child(settings, kill_after)

    with pytest.raises(IndexMissingError):  # nothing was ever published
        build_assistant(settings)
    documents = load_state(settings.index_dir)["documents"]
    owned = {i for entry in documents.values() for i in entry["chunk_ids"]}
    written = open_store(settings).ids()
    assert written <= owned  # every chunk written was claimed first
    assert bool(written) == (kill_after[0] == "written")
    report = ingest(settings.corpus_dir, settings, progress=False)
    assert report.recovered
    assert report.chunks_embedded == len(reference[1]) - len(written)  # none embedded twice
    assert_complete(settings, reference[1])
    assert_served(settings, reference[1], FIBRE_QUESTION, "4 200 000")


@pytest.mark.parametrize(
    "kill_after",
    [
        ("state-saved", 1),  # the claims are recorded, nothing written yet
        ("written", 2),  # in the middle of a document
        ("lexical-saved", 1),  # the new BM25 written but not published
        ("deleting", 1),  # published; unowned chunks not deleted yet
    ],
)
def test_update_killed_keeps_the_index_usable_and_is_finished_next(
    indexed_v1, reference, kill_after
):
    settings = indexed_v1

    run_child(settings, kill_after)

    published = kill_after[0] == "deleting"
    if published:
        assert_served(settings, reference[2], LIBRARY_QUESTION, "mars 2027")
    else:
        assert_served(settings, reference[1], FIBRE_QUESTION, "4 200 000")
    report = ingest(settings.corpus_dir, settings, progress=False)
    assert_complete(settings, reference[2])
    assert_served(settings, reference[2], LIBRARY_QUESTION, "mars 2027")
    if kill_after[0] in ("lexical-saved", "deleting"):
        assert report.chunks_embedded == 0  # all the work was done before the kill
    if published:
        assert report.orphans == len(reference[1] - reference[2])
        assert report.chunks_deleted == report.orphans
    second = ingest(settings.corpus_dir, settings, progress=False)
    assert (second.chunks_embedded, second.chunks_deleted, second.indexed) == (0, 0, [])


def test_repeated_kills_still_converge(indexed_v1, reference):
    settings = indexed_v1

    for _ in range(3):
        run_child(settings, ("written", 1))
        assert_served(settings, reference[1], FIBRE_QUESTION, "4 200 000")
    run_child(settings)  # the fourth run is left to finish

    assert_complete(settings, reference[2])


def test_embedder_change_killed_keeps_serving_the_previous_collection(indexed_v1, reference):
    settings = indexed_v1
    write_corpus(settings.corpus_dir, 1)
    before = index_meta(settings.index_dir)["collection"]
    smaller = settings.model_copy(update={"chunk_size": 500, "chunk_overlap": 50})

    run_child(smaller, ("written", 3))

    # The settings still name the old chunker: the old collection serves, whole.
    assert index_meta(settings.index_dir)["collection"] == before
    assert_served(settings, reference[1], FIBRE_QUESTION, "4 200 000")
    report = ingest(smaller.corpus_dir, smaller, progress=False)
    after = index_meta(settings.index_dir)["collection"]
    assert after != before
    assert report.chunks_total > len(reference[1])  # smaller chunks, more of them
    expected = open_store(smaller).ids()
    assert_complete(smaller, expected)
    assert_served(smaller, expected, FIBRE_QUESTION, "4 200 000")


def test_queries_are_served_while_another_process_ingests(indexed_v1, reference):
    settings = indexed_v1
    assistant = build_assistant(settings)
    answers, failures = [], []
    stop = threading.Event()

    def ask_in_a_loop() -> None:
        while not stop.is_set():
            try:
                answers.append(assistant.ask(FIBRE_QUESTION).answer)
            except Exception as exc:  # any failure while the other process writes counts
                failures.append(repr(exc))

    reader = threading.Thread(target=ask_in_a_loop)
    reader.start()
    try:
        run_child(settings, pause_s=0.05)
    finally:
        stop.set()
        reader.join()

    assert failures == []
    assert len(answers) > 5 and all("4 200 000" in a for a in answers)
    assert_complete(settings, reference[2])
    # A reader rebuilt after the ingestion sees the new version.
    assert_served(settings, reference[2], LIBRARY_QUESTION, "mars 2027")


def test_a_second_writer_is_refused_while_one_holds_the_lock(hash_settings):
    busy = pytest.raises(IndexBusyError, match=f"processus {os.getpid()}")
    with writer_lock(hash_settings.index_dir), busy:
        ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    # Released: the next ingestion runs.
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)


def test_orphans_are_deleted_and_documents_missing_chunks_are_redone(indexed_v1, reference):
    settings = indexed_v1
    write_corpus(settings.corpus_dir, 1)
    store = open_store(settings)
    store.add(["doc99:x"], ["Un passage que personne ne possède."], ["x"], [{"doc_id": "doc99"}])
    lost = sorted(load_state(settings.index_dir)["documents"]["doc04"]["chunk_ids"])[:2]
    store.delete(lost)

    report = ingest(settings.corpus_dir, settings, progress=False)

    assert report.orphans == 1 and report.recovered == ["doc04"]
    assert report.chunks_embedded == 2 and report.chunks_deleted == 1
    assert "reprise d'une indexation interrompue" in report.summary()
    assert_complete(settings, reference[1])


def test_an_index_from_the_previous_layout_is_used_as_is(indexed_v1, reference):
    # Before versioned folders: BM25 in a plain `bm25/` folder, chunks in collection "chunks",
    # no collection named in the state.
    settings = indexed_v1
    write_corpus(settings.corpus_dir, 1)
    index_dir = settings.index_dir
    open_store(settings).collection.modify(name="chunks")
    state = load_state(index_dir)
    del state["collection"]
    (index_dir / "state.json").write_text(json.dumps(state), encoding="utf-8")
    published = current_lexical_dir(index_dir)
    (index_dir / LEXICAL_DIR).unlink()
    published.rename(index_dir / LEXICAL_DIR)
    (index_dir / LEXICAL_DIR / "index.json").unlink()
    assert_served(settings, reference[1], FIBRE_QUESTION, "4 200 000")

    unchanged = ingest(settings.corpus_dir, settings, progress=False)
    write_corpus(settings.corpus_dir, 2)
    updated = ingest(settings.corpus_dir, settings, progress=False)

    assert unchanged.chunks_embedded == 0
    assert updated.chunks_embedded == len(reference[2] - reference[1])
    assert (index_dir / LEXICAL_DIR).is_symlink()
    assert index_meta(index_dir)["collection"] == "chunks"
    assert_complete(settings, reference[2])
