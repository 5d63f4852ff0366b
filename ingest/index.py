"""Incremental, idempotent and crash-safe ingestion: content hashes decide what to (re)embed.

State, in `<data_dir>/index/state.json`: which file produced which chunk ids. Chunks live
in a Chroma collection (one per embedder and chunker); the version readers load is
published by `ingest/publish.py` (a lexical index folder naming its collection).

A kill at any point leaves the published index whole, and the next run finishes the work:
- a document is first claimed in the state (digest "", its old and new chunk ids), then
  its new chunks are written; chunks nobody owns any more are deleted only after the new
  version is published;
- each run starts by reconciling the state with the store: stored chunks no document owns
  (orphans) are deleted once the run publishes, documents still claimed or missing chunks
  are done again (their stored chunks are reused, not embedded again);
- a new embedder or chunker fills a new collection, published only once complete.
One writer at a time (a lock file): a second ingestion fails at once with IndexBusyError.

State that cannot be read is repaired, never lost: an embedded Chroma store whose
database is damaged is renamed `chroma.broken-<time>` and filled again; an invalid
`state.json` is renamed `state.json.broken-<time>` and rebuilt by reading the documents
again (of the folder and of the uploads), their stored chunks found by content id.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from assistant.errors import AssistantError, DocumentError, IndexUnreadableError
from assistant.injection import flagged_lines
from assistant.retrieval.embeddings import build_embeddings, embedder_name
from assistant.retrieval.lexical import Bm25Index
from assistant.retrieval.sentence_index import SentenceIndex, sentence_backend_for
from assistant.retrieval.store import COLLECTION, ChromaIndex, chroma_client
from assistant.retrieval.units import passage_sentences
from assistant.settings import Settings
from ingest.chunk import CHUNKER_VERSION, Chunk, chunk_document, locator
from ingest.load import (
    LoadLimits,
    SourceDocument,
    assign_doc_ids,
    check_size,
    doc_id_for,
    file_digest,
    held_ids,
    id_holder,
    id_taken_message,
    list_sources,
    load_document,
    read_manifest,
)
from ingest.publish import LEXICAL_DIR as LEXICAL_DIR  # re-exported for readers
from ingest.publish import current_lexical_dir as current_lexical_dir
from ingest.publish import (
    index_meta,
    publish_lexical,
    published_ids,
    set_aside,
    write_atomic,
)
from ingest.publish import index_version as index_version

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
LOCK_FILE = "ingest.lock"
CHROMA_DIR = "chroma"  # the embedded store, under the index folder
UPLOADS_DIR = "uploads"  # files added through the API, under the data folder
PENDING = ""  # the digest of a document whose indexing has not finished
_FLAGGED, _FLAGGED_CHARS = 20, 300  # flagged lines kept per document, characters per line
_SAVE_EVERY_S = 5.0  # finished documents are recorded at most this often (and at the end)


class IndexBusyError(AssistantError):
    """Another ingestion is writing to the same index."""

    code = "index_busy"


@dataclass
class IngestReport:
    """What an ingestion run did, for the CLI and the API to print."""

    files: int = 0
    indexed: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_kept: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    recovered: list[str] = field(default_factory=list)  # documents an interrupted run left
    orphans: int = 0  # stored chunks no document owned when the run started
    repairs: list[str] = field(default_factory=list)  # unreadable state set aside and rebuilt
    sentences_embedded: int = 0  # sentence units whose vector was computed in this run
    sentences_total: int = 0
    sentences_seconds: float = 0.0  # building the sentence index (its vectors, its BM25)

    def summary(self) -> str:
        """One line a person can read."""
        line = (
            f"{self.files} fichier(s) : {len(self.indexed)} indexé(s), "
            f"{self.unchanged} inchangé(s), "
            f"{len(self.removed)} retiré(s) ; {self.chunks_embedded} passage(s) vectorisé(s), "
            f"{self.chunks_kept} réutilisé(s), {self.chunks_deleted} supprimé(s) ; "
            f"{self.chunks_total} passage(s) dans l'index ; {self.seconds:.1f} s"
        )
        if self.sentences_total:
            line += (
                f" ; {self.sentences_total} phrase(s) indexée(s), dont "
                f"{self.sentences_embedded} vectorisée(s)"
            )
        if self.recovered or self.orphans:
            line += (
                f" ; reprise d'une indexation interrompue : {len(self.recovered)} document(s) "
                f"repris, {self.orphans} passage(s) orphelin(s)"
            )
        if self.errors:
            line += f" ; {len(self.errors)} fichier(s) ignoré(s)"
        for repair in self.repairs:
            line += f" ; {repair}"
        return line


def load_state(index_dir: Path) -> dict:
    """The ingestion state (which file produced which chunks), or an empty one.

    A state that cannot be read raises IndexUnreadableError (an ingestion run rebuilds it).
    """
    path = index_dir / STATE_FILE
    if not path.is_file():
        return {"documents": {}}
    try:
        return _read_state(path)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise IndexUnreadableError(
            f"L'état de l'index ({path}) est illisible ({exc}). Relancez : assistant ingest "
            "(il le met de côté et le reconstruit à partir des documents)."
        ) from exc


def _read_state(path: Path) -> dict:
    state = json.loads(path.read_text(encoding="utf-8"))
    documents = state.get("documents") if isinstance(state, dict) else None
    if not isinstance(documents, dict):
        raise ValueError("pas de liste de documents")
    for doc_id, entry in documents.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("source"), str)
            and isinstance(entry.get("digest"), str)
            and isinstance(entry.get("chunk_ids"), list)
        ):
            raise ValueError(f"entrée incomplète pour {doc_id}")
    return state


def _save_state(index_dir: Path, state: dict) -> None:
    write_atomic(index_dir / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1))


def open_store(settings: Settings, embeddings=None) -> ChromaIndex:
    """The published index's Chroma collection, as stored now, with the configured embedder."""
    embeddings = embeddings or build_embeddings(settings)
    index_dir = settings.index_dir
    name = index_meta(index_dir).get("collection")
    if name is None:
        with contextlib.suppress(IndexUnreadableError):  # reported by whoever reads the state
            name = load_state(index_dir).get("collection")
    client = chroma_client(index_dir / CHROMA_DIR, settings.chroma_url, fresh=True)
    return ChromaIndex(client, embeddings, name or COLLECTION)


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock (released by the system if the process dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = (index_dir / LOCK_FILE).open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise IndexBusyError(
            f"Une indexation est déjà en cours sur {index_dir} (processus {holder}). "
            "Attendez qu'elle se termine, puis relancez."
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _metadata(document: SourceDocument, chunk: Chunk) -> dict:
    return {
        "doc_id": document.doc_id,
        "title": document.title,
        "kind": document.kind,
        "date": document.date or "",
        "publisher": document.publisher or "",
        "source": document.path.name,
        "heading": chunk.heading,
        "locator": locator(document.kind, chunk, document.paged),
        "segment": chunk.segment,
        "page": chunk.page if chunk.page is not None else -1,
        "start": chunk.start,
        "end": chunk.end,
        "ordinal": chunk.ordinal,
        "speakers": "; ".join(chunk.speakers),
        "organisations": "; ".join(chunk.organisations),
    }


def _signature(settings: Settings, embedder: str) -> dict:
    return {
        "embedder": embedder,
        "chunker": CHUNKER_VERSION,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
    }


def _collection_for(signature: dict) -> str:
    digest = hashlib.sha256(json.dumps(signature, sort_keys=True).encode()).hexdigest()
    return f"{COLLECTION}-{digest[:10]}"


def _limits(settings: Settings) -> LoadLimits:
    return LoadLimits(settings.max_file_mb, settings.max_pdf_pages, settings.pdf_timeout_s)


def _owned(state: dict) -> set[str]:
    return {i for entry in state["documents"].values() for i in entry["chunk_ids"]}


def reconcile(store: ChromaIndex, state: dict) -> tuple[set[str], set[str], list[str]]:
    """Compare the state with the store: (stored ids, orphan ids, documents to redo).

    Orphans are stored chunks no document owns; they are deleted when the run publishes.
    A document that is still claimed, or whose chunks are not all stored, is marked to be
    done again.
    """
    stored = store.ids()
    redo = []
    for doc_id, entry in state["documents"].items():
        if entry["digest"] == PENDING or not set(entry["chunk_ids"]) <= stored:
            entry["digest"] = PENDING
            redo.append(doc_id)
    return stored, stored - _owned(state), redo


@dataclass
class _Job:
    doc_id: str
    source: Path
    meta: dict


def _jobs(
    path: Path, state: dict, report: IngestReport, claimed: dict[str, Path] | None = None
) -> list[_Job]:
    """The files of this run; for a folder, also documents an interrupted run left elsewhere
    (a single file, e.g. an upload, is ingested alone).

    A file whose id another existing file holds (an upload and a corpus file of the same
    name), in the state or in `claimed` (ids given earlier in this run), is skipped and
    reported: one never silently replaces the other.
    """
    claimed = claimed or {}
    folder = path if path.is_dir() else path.parent
    sources = list_sources(path) if path.is_dir() else [path]
    report.files += len(sources)
    manifest = read_manifest(folder)
    # Ids come from the whole folder, so a single file gets the id a folder run gives it.
    documents = state["documents"]
    ids = assign_doc_ids(list_sources(folder), held_ids(documents))
    jobs = []
    for source in sources:
        doc_id = ids.get(source) or doc_id_for(source)
        holder = id_holder(documents, doc_id, source) or claimed.get(doc_id)
        if holder is not None:
            report.errors.append((source.name, id_taken_message(source, doc_id, holder)))
            log.warning("%s", report.errors[-1][1])
            continue
        jobs.append(_Job(doc_id, source, manifest.get(source.name) or {}))
    if not path.is_dir():
        return jobs
    seen = {job.doc_id for job in jobs}
    for doc_id, entry in list(state["documents"].items()):
        if doc_id in seen or entry["digest"] != PENDING:
            continue
        source = Path(entry["source"])
        if not source.is_file():  # its file is gone: nothing to finish
            del state["documents"][doc_id]
            report.removed.append(doc_id)
            continue
        try:
            meta = read_manifest(source.parent).get(source.name) or {}
        except DocumentError as exc:
            report.errors.append((source.name, str(exc)))
            continue
        jobs.append(_Job(doc_id, source, meta))
    return jobs


def ingest(
    path: Path | None,
    settings: Settings,
    *,
    progress: bool = True,
    store: ChromaIndex | None = None,
) -> IngestReport:
    """Bring the index up to date with a folder (add, update, remove) or a single file.

    Unchanged files are skipped on their hash; a changed file re-embeds only the chunks
    whose text changed; a file that cannot be read is reported and its previous chunks kept.
    Work an interrupted run left is finished first (see the module docstring).
    """
    started = time.perf_counter()
    path = Path(path or settings.corpus_dir)
    if not path.exists():
        raise DocumentError(f"Chemin introuvable : {path}. Indiquez un dossier ou un fichier.")
    with writer_lock(settings.index_dir):
        repairs: list[str] = []
        store = _writable_store(settings, store, repairs)
        report = _ingest_locked(path, settings, store, progress, repairs)
    report.seconds = time.perf_counter() - started
    return report


def _writable_store(
    settings: Settings, store: ChromaIndex | None, repairs: list[str]
) -> ChromaIndex:
    """The store to write through, as on disk now; an embedded store that cannot be read
    is set aside (and the repair noted) and started again empty."""
    try:
        return _current_store(settings, store)
    except IndexUnreadableError as exc:
        if settings.chroma_url:  # a server's database is not ours to move
            raise
        aside = set_aside(settings.index_dir / CHROMA_DIR)
        repairs.append(
            f"stockage des passages illisible ({exc.__cause__ or exc}) : mis de côté dans "
            f"{aside}, puis reconstruit"
        )
        log.warning("%s", repairs[-1])
        return _current_store(settings, store)


def _current_store(settings: Settings, store: ChromaIndex | None) -> ChromaIndex:
    if store is None:
        store = open_store(settings)
    else:
        store.refresh()  # write through a current view, never a stale one
    store.count()  # a damaged database may open, then fail at the first read
    return store


def _readable_state(settings: Settings, repairs: list[str]) -> tuple[dict, bool]:
    """The ingestion state, and whether it was unreadable (then set aside; an empty one is
    returned and the repair noted)."""
    try:
        return load_state(settings.index_dir), False
    except IndexUnreadableError as exc:
        aside = set_aside(settings.index_dir / STATE_FILE)
        repairs.append(
            f"état de l'index illisible ({exc.__cause__}) : mis de côté dans {aside}, puis "
            "reconstruit en relisant les documents"
        )
        log.warning("%s", repairs[-1])
        return {"documents": {}}, True


def _ingest_locked(
    path: Path, settings: Settings, store: ChromaIndex, progress: bool, repairs: list[str]
) -> IngestReport:
    index_dir = settings.index_dir
    state, state_lost = _readable_state(settings, repairs)
    signature = _signature(settings, embedder_name(store.embeddings))
    rebuild = state.get("signature") != signature
    if rebuild:
        if state.get("documents"):
            log.warning("Embedder or chunker changed: re-indexing everything.")
        state = _fresh_state(state, signature)
    store.use_collection(state.get("collection", COLLECTION))
    stored, orphans, redo = reconcile(store, state)
    report = IngestReport(
        orphans=0 if state_lost else len(orphans),  # a lost state owned them: not orphans
        recovered=[] if rebuild or repairs else redo,
        repairs=repairs,
    )
    jobs = _jobs(path, state, report)
    uploads = settings.data_dir / UPLOADS_DIR
    if state_lost and path.is_dir() and uploads.is_dir() and uploads.resolve() != path.resolve():
        # The lost state also listed the uploads: read them again too, in the same run, so
        # their stored chunks are kept (a run over the corpus alone would delete them).
        jobs += _jobs(uploads, state, report, {job.doc_id: job.source for job in jobs})
    changed = _changed(jobs, state, settings, report, rebuild)
    # Claim: before any chunk is written, the state owns it (and still owns the old ones).
    for document, _, chunks in changed:
        ids = [c.content_id(document.title) for c in chunks]
        old = state["documents"].get(document.doc_id, {}).get("chunk_ids", [])
        entry = _entry(document, PENDING, ids + [i for i in old if i not in set(ids)])
        state["documents"][document.doc_id] = entry
    if changed:
        _save_state(index_dir, state)
    _embed(changed, store, stored, state, index_dir, report, progress)
    if path.is_dir():
        _forget_deleted_files(path, {job.doc_id for job in jobs}, state, report)
    if (
        report.indexed
        or report.removed
        or orphans
        or index_meta(index_dir).get("collection") != store.name
        or published_ids(index_dir) != _owned(state) & stored
        or index_meta(index_dir).get("sentences") is None  # published before sentence units
    ):
        report.chunks_deleted = _commit(store, index_dir, state, settings.embedder, report)
    report.chunks_total = store.count()
    return report


def _fresh_state(state: dict, signature: dict) -> dict:
    """A state for a new collection: every known document is to be done again.

    The published index keeps serving until the new collection is complete.
    """
    documents = {
        doc_id: {**entry, "digest": PENDING, "chunk_ids": []}
        for doc_id, entry in state.get("documents", {}).items()
    }
    return {
        "signature": signature,
        "collection": _collection_for(signature),
        "documents": documents,
    }


Changed = list[tuple[SourceDocument, str, list[Chunk]]]


def _changed(
    jobs: list[_Job], state: dict, settings: Settings, report: IngestReport, rebuild: bool
) -> Changed:
    """Documents whose file or metadata changed (or that are to be redone), chunked."""
    documents_state = state["documents"]
    limits = _limits(settings)
    changed: Changed = []
    for job in jobs:
        try:
            check_size(job.source, limits)  # before hashing a 10 GB file
            digest = hashlib.sha256(
                (file_digest(job.source) + json.dumps(job.meta, sort_keys=True)).encode()
            ).hexdigest()
            previous = documents_state.get(job.doc_id)
            if previous and previous["digest"] == digest:
                report.unchanged += 1
                continue
            document = load_document(job.source, job.meta, limits)
            document.doc_id = job.doc_id
            chunks = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
        except DocumentError as exc:
            report.errors.append((job.source.name, str(exc)))
            log.warning("%s", exc)
            if rebuild and job.doc_id in documents_state:  # it cannot follow into the new index
                del documents_state[job.doc_id]
                report.removed.append(job.doc_id)
            continue
        changed.append((document, digest, chunks))
    return changed


def _embed(
    changed: Changed,
    store: ChromaIndex,
    stored: set[str],
    state: dict,
    index_dir: Path,
    report: IngestReport,
    progress: bool,
) -> None:
    """Embed and store the chunks not stored yet; record each document once done."""
    to_embed = sum(
        len({c.content_id(d.title) for c in chunks} - stored) for d, _, chunks in changed
    )
    bar = tqdm(
        total=to_embed, desc="Vectorisation", unit="passage", disable=not progress or to_embed == 0
    )
    last_save = time.monotonic()
    for document, digest, chunks in changed:
        ids = [c.content_id(document.title) for c in chunks]
        metas = [_metadata(document, c) for c in chunks]
        new = [i for i, chunk_id in enumerate(ids) if chunk_id not in stored]
        kept = [i for i, chunk_id in enumerate(ids) if chunk_id in stored]
        store.add(
            [ids[i] for i in new],
            [chunks[i].embed_text(document.title) for i in new],
            [chunks[i].text for i in new],
            [metas[i] for i in new],
            on_progress=bar.update,
        )
        stored.update(ids)
        store.update_metadata([ids[i] for i in kept], [metas[i] for i in kept])
        state["documents"][document.doc_id] = _entry(document, digest, ids)
        report.indexed.append(document.doc_id)
        report.chunks_embedded += len(new)
        report.chunks_kept += len(kept)
        if time.monotonic() - last_save > _SAVE_EVERY_S:  # a claim covers the rest
            _save_state(index_dir, state)
            last_save = time.monotonic()
    bar.close()


def _forget_deleted_files(folder: Path, seen: set[str], state: dict, report: IngestReport) -> None:
    """Drop documents whose file under `folder` was deleted (their chunks become orphans)."""
    root = str(folder.resolve())
    documents_state = state["documents"]
    for doc_id in sorted(set(documents_state) - seen):
        source = documents_state[doc_id]["source"]
        if source.startswith(root + os.sep) and not Path(source).exists():
            report.removed.append(doc_id)
            del documents_state[doc_id]


def _entry(document: SourceDocument, digest: str, chunk_ids: list[str]) -> dict:
    return {
        "source": str(document.path.resolve()),
        "digest": digest,
        "title": document.title,
        "kind": document.kind,
        "date": document.date,
        "publisher": document.publisher,
        "pages": len(document.pages) if document.paged else None,
        "chunk_ids": chunk_ids,
        # Lines giving orders to an assistant: shown to admins, never quoted in answers.
        "flagged": [line[:_FLAGGED_CHARS] for line in flagged_lines(document.text)][:_FLAGGED],
    }


def _commit(
    store: ChromaIndex,
    index_dir: Path,
    state: dict,
    embedder: str,
    report: IngestReport | None = None,
) -> int:
    """Record the state, publish the lexical and sentence indexes, then delete unowned
    chunks.

    Returns how many chunks were deleted. A new collection (new embedder) is published
    only once no document is left to redo: until then the previous index serves. Sentence
    vectors of the published version are reused by content hash; only new sentences are
    embedded (counted in `report`).
    """
    _save_state(index_dir, state)
    served = index_meta(index_dir).get("collection")
    documents = state["documents"].values()
    if served not in (None, store.name) and any(e["digest"] == PENDING for e in documents):
        return 0
    owned = _owned(state)
    chunks = store.all()
    keep = [c for c in chunks if c.id in owned]
    lexical = Bm25Index.build(
        [c.id for c in keep],
        [f"{c.metadata.get('title', '')}\n{c.metadata.get('heading', '')}\n{c.text}" for c in keep],
    )
    units = [
        unit
        for c in keep
        for unit in passage_sentences(
            c.id, c.text, str(c.metadata.get("title", "")), str(c.metadata.get("heading", ""))
        )
    ]
    started = time.perf_counter()
    previous = SentenceIndex.load(current_lexical_dir(index_dir), with_embedder=False)
    sentences, embedded = SentenceIndex.build(units, sentence_backend_for(embedder), previous)
    if report is not None:
        report.sentences_embedded, report.sentences_total = embedded, len(units)
        report.sentences_seconds = time.perf_counter() - started
    meta = {
        "collection": store.name,
        "signature": state.get("signature"),
        "chunks": len(keep),
        "sentences": len(units),
    }
    publish_lexical(index_dir, lexical, meta, sentences)
    garbage = [c.id for c in chunks if c.id not in owned]
    store.delete(garbage)
    store.drop_collections(keep={store.name, served or store.name})
    return len(garbage)


def remove_document(doc_id: str, settings: Settings, store: ChromaIndex | None = None) -> int:
    """Delete a document's chunks from the index; returns how many were removed."""
    with writer_lock(settings.index_dir):
        if store is None:
            store = open_store(settings)
        else:
            store.refresh()
        state = load_state(settings.index_dir)
        entry = state.get("documents", {}).pop(doc_id, None)
        if entry is None:
            raise DocumentError(f"Document inconnu : {doc_id}. Voir la liste : GET /api/documents.")
        store.use_collection(state.get("collection", COLLECTION))
        _commit(store, settings.index_dir, state, settings.embedder)
    return len(entry["chunk_ids"])
