"""The indexed documents: list them, show a passage in its context, upload, delete, re-index."""

from __future__ import annotations

import hmac
import json
import os
import re
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, Field

from assistant.errors import (
    AdminDisabledError,
    DocumentConflictError,
    DocumentError,
    DocumentNotFoundError,
    IndexUnreadableError,
    PermissionDeniedError,
    UploadTooLargeError,
)
from assistant.retrieval.store import ChromaIndex, StoredChunk
from assistant.settings import Settings
from ingest.clean import clean_text
from ingest.index import (
    UPLOADS_DIR,
    IngestReport,
    index_version,
    ingest,
    load_state,
    open_store,
    remove_document,
)
from ingest.load import (
    MANIFEST_NAME,
    SUPPORTED_SUFFIXES,
    assign_doc_ids,
    held_ids,
    id_holder,
    list_sources,
    load_document,
)

_CONTEXT_CHARS = 900  # around a passage of a text file (a PDF shows its whole page)
_HEAD_WORDS = 6


class DocumentInfo(BaseModel):
    """An indexed document: its metadata and how many passages it has in the index."""

    id: str = Field(examples=["001_449a94d9e4de7beb"])
    title: str
    kind: str = Field(examples=["meeting-report"])
    date: str | None = Field(None, examples=["2025-06-19"])
    publisher: str | None = None
    file: str = Field(description="Nom du fichier source")
    pages: int | None = Field(None, description="Pages (PDF), sinon null")
    chunks: int = Field(description="Passages dans l'index")
    uploaded: bool = Field(False, description="Ajouté par téléversement")
    flagged: list[str] = Field(
        default_factory=list,
        description="Lignes qui donnent des ordres à un assistant (« ignorez les instructions "
        "précédentes… ») : signalées, jamais citées dans une réponse",
    )


class PassageSummary(BaseModel):
    """One passage of a document, numbered in reading order from 1."""

    n: int
    chunk_id: str
    locator: str
    page: int | None = None
    preview: str = Field(description="Début du passage")


class DocumentDetail(DocumentInfo):
    """A document and the list of its passages."""

    passages: list[PassageSummary]


class PassageInContext(BaseModel):
    """A passage with the text around it in its document (for a PDF: its whole page)."""

    document_id: str
    title: str
    kind: str
    date: str | None = None
    n: int = Field(description="Numéro du passage dans le document (1 = premier)")
    total: int = Field(description="Nombre de passages du document")
    chunk_id: str
    locator: str
    page: int | None = None
    text: str = Field(description="Le passage tel qu'indexé")
    before: str = Field(description="Texte qui précède le passage")
    passage: str = Field(description="Le passage tel qu'il figure dans le document")
    after: str = Field(description="Texte qui suit le passage")
    context: str = Field(
        description="`page` (page entière du PDF), `surrounding` (texte autour) ou "
        "`neighbours` (passages voisins, quand le fichier source n'est plus lisible)"
    )


class DeleteResult(BaseModel):
    """What a deletion removed."""

    id: str
    chunks_removed: int
    file_deleted: bool
    message: str


class UploadResult(BaseModel):
    """The document an upload added (or updated) and the ingestion summary."""

    document: DocumentInfo
    chunks_embedded: int
    summary: str


def check_admin_key(settings: Settings, key: str | None) -> None:
    """Raise unless `key` is the configured admin key; writes are off without one."""
    expected = settings.admin_key.get_secret_value() if settings.admin_key else ""
    if not expected:
        raise AdminDisabledError(
            "Les modifications sont désactivées : aucune clé d'administration n'est "
            "configurée. Définissez ASSISTANT_ADMIN_KEY puis redémarrez le serveur."
        )
    if not key or not hmac.compare_digest(key.encode(), expected.encode()):
        raise PermissionDeniedError(
            "Clé d'administration absente ou incorrecte : donnez la valeur de "
            "ASSISTANT_ADMIN_KEY (API : en-tête « Authorization: Bearer <clé> »)."
        )


def safe_filename(name: str) -> str:
    """A file name that stays inside the uploads folder: no folders, dots or odd characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    suffix = PurePosixPath(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{base or name!r} : format non pris en charge. Formats acceptés : PDF, TXT, MD."
        )
    stem = unicodedata.normalize("NFKD", base[: -len(suffix)])
    stem = stem.encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:80] or "document"
    return f"{stem}{suffix}"


class DocumentLibrary:
    """The documents of the index, and the admin operations on them.

    `on_change` runs after every write so that the question-answering side reloads
    the index (the API passes `AssistantHolder.reload`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: ChromaIndex | None = None,
        on_change: Callable[[], None] | None = None,
    ):
        self.settings = settings
        self._store = store
        self._version = index_version(settings.index_dir)  # the one `_store` was read at
        self._store_lock = threading.Lock()
        self.on_change = on_change or (lambda: None)
        self._lock = threading.Lock()

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded files are kept: `<data_dir>/uploads`."""
        return self.settings.data_dir / UPLOADS_DIR

    def store(self) -> ChromaIndex:
        """The Chroma index, opened on first use and read again from disk once another
        process (`assistant ingest`) has published a new version, e.g. after a repair."""
        with self._store_lock:
            version = index_version(self.settings.index_dir)
            if self._store is None:
                self._store = open_store(self.settings)
            elif version != self._version:
                self._store.refresh()
            self._version = version
            return self._store

    def problem(self) -> str | None:
        """Why the index cannot serve the documents it lists, in French; None when it can."""
        try:
            documents = self._documents()
            if documents and self.store().count() == 0:
                return (
                    f"L'index ne contient aucun passage alors que {len(documents)} documents "
                    "sont enregistrés : relancez assistant ingest."
                )
        except IndexUnreadableError as exc:
            return str(exc)
        return None

    def _documents(self) -> dict[str, dict]:
        return load_state(self.settings.index_dir).get("documents", {})

    def _entry(self, doc_id: str) -> dict:
        entry = self._documents().get(doc_id)
        if entry is None:
            raise DocumentNotFoundError(
                f"Document inconnu : {doc_id!r}. Voir la liste : GET /api/documents."
            )
        return entry

    def _info(self, doc_id: str, entry: dict, chunks: int) -> DocumentInfo:
        source = Path(entry["source"])
        return DocumentInfo(
            id=doc_id,
            title=entry.get("title") or doc_id,
            kind=entry.get("kind") or "",
            date=entry.get("date") or None,
            publisher=entry.get("publisher") or None,
            file=source.name,
            pages=entry.get("pages"),
            chunks=chunks,
            uploaded=source.parent == self.uploads_dir.resolve(),
            flagged=entry.get("flagged") or [],
        )

    def list(self) -> list[DocumentInfo]:
        """Every indexed document with its passage count in the store, by title."""
        documents = self._documents()
        if not documents:
            return []
        counts: dict[str, int] = {}
        for chunk in self.store().all():
            doc_id = chunk.metadata.get("doc_id", "")
            counts[doc_id] = counts.get(doc_id, 0) + 1
        infos = [self._info(i, e, counts.get(i, 0)) for i, e in documents.items()]
        return sorted(infos, key=lambda d: (d.title.casefold(), d.id))

    def get(self, doc_id: str) -> DocumentDetail:
        """A document's metadata and its passages in reading order."""
        entry = self._entry(doc_id)
        chunk_ids = entry["chunk_ids"]
        stored = self.store().get(chunk_ids)
        passages = []
        for n, chunk_id in enumerate(chunk_ids, start=1):
            chunk = stored.get(chunk_id)
            if chunk is None:
                continue
            preview = " ".join(chunk.text.split())
            passages.append(
                PassageSummary(
                    n=n,
                    chunk_id=chunk_id,
                    locator=chunk.metadata.get("locator", ""),
                    page=_page(chunk.metadata),
                    preview=preview[:160] + ("…" if len(preview) > 160 else ""),
                )
            )
        info = self._info(doc_id, entry, len(passages))
        return DocumentDetail(**info.model_dump(), passages=passages)

    def locate(self, chunk_id: str) -> tuple[str, int]:
        """The (document id, passage number) of a chunk id, as cited in answers."""
        for doc_id, entry in self._documents().items():
            if chunk_id in entry["chunk_ids"]:
                return doc_id, entry["chunk_ids"].index(chunk_id) + 1
        raise DocumentNotFoundError(
            f"Passage inconnu : {chunk_id!r}. L'index a peut-être changé : reposez la question."
        )

    def passage(self, doc_id: str, n: int) -> PassageInContext:
        """Passage `n` (from 1) of a document, with the text around it."""
        entry = self._entry(doc_id)
        chunk_ids = entry["chunk_ids"]
        if not 1 <= n <= len(chunk_ids):
            raise DocumentNotFoundError(
                f"Le document {doc_id} a {len(chunk_ids)} passage(s) : "
                f"choisissez n entre 1 et {len(chunk_ids)} (reçu : {n})."
            )
        chunk = self.store().get([chunk_ids[n - 1]]).get(chunk_ids[n - 1])
        if chunk is None:
            raise DocumentNotFoundError(
                f"Le passage {n} de {doc_id} manque dans l'index. Relancez : assistant ingest."
            )
        before, passage, after, mode = self._context(entry, chunk, chunk_ids, n)
        meta = chunk.metadata
        return PassageInContext(
            document_id=doc_id,
            title=entry.get("title") or doc_id,
            kind=entry.get("kind") or "",
            date=entry.get("date") or None,
            n=n,
            total=len(chunk_ids),
            chunk_id=chunk.id,
            locator=meta.get("locator", ""),
            page=_page(meta),
            text=chunk.text,
            before=before,
            passage=passage,
            after=after,
            context=mode,
        )

    def _context(
        self, entry: dict, chunk: StoredChunk, chunk_ids: list[str], n: int
    ) -> tuple[str, str, str, str]:
        """(before, passage, after, mode) read from the source file, else the neighbours."""
        meta = chunk.metadata
        source = Path(entry["source"])
        try:
            document = load_document(source) if source.is_file() else None
        except DocumentError:
            document = None
        segment = int(meta.get("segment", 0) or 0)
        if document is not None and 1 <= segment <= len(document.pages):
            pages = [clean_text(page) for page in document.pages]
            span = _find_span(pages[segment - 1], chunk.text, int(meta.get("start", 0)))
            if span is not None and document.paged:
                start, end = span
                page = pages[segment - 1]
                return page[:start], page[start:end], page[end:], "page"
            if span is not None:
                # A text file: the text around the passage, across slides or sections.
                offset = sum(len(page) + 2 for page in pages[: segment - 1])
                text = "\n\n".join(pages)
                start, end = span[0] + offset, span[1] + offset
                before = text[max(0, start - _CONTEXT_CHARS) : start]
                after = text[end : end + _CONTEXT_CHARS]
                if start > _CONTEXT_CHARS and "\n" in before:
                    before = "…" + before[before.find("\n") :]
                if end + _CONTEXT_CHARS < len(text) and "\n" in after:
                    after = after[: after.rfind("\n")] + "\n…"
                return before, text[start:end], after, "surrounding"
        neighbours = self.store().get([i for i in chunk_ids[max(0, n - 2) : n + 1]])
        previous = neighbours.get(chunk_ids[n - 2]) if n >= 2 else None
        following = neighbours.get(chunk_ids[n]) if n < len(chunk_ids) else None
        return (
            previous.text if previous else "",
            chunk.text,
            following.text if following else "",
            "neighbours",
        )

    def upload(
        self,
        filename: str,
        data: bytes,
        *,
        admin_key: str | None,
        title: str | None = None,
        kind: str | None = None,
        date: str | None = None,
        publisher: str | None = None,
    ) -> UploadResult:
        """Save a PDF, TXT or MD file under `<data_dir>/uploads/` and index it."""
        check_admin_key(self.settings, admin_key)
        limit = self.settings.max_upload_mb
        if len(data) > limit * 1024 * 1024:
            raise UploadTooLargeError(
                f"{filename} fait {len(data) / 1024 / 1024:.1f} Mo ; la limite est {limit} Mo "
                "(ASSISTANT_MAX_UPLOAD_MB)."
            )
        if not data.strip():
            raise DocumentError(f"{filename} : fichier vide.")
        name = safe_filename(filename)
        folder = self.uploads_dir
        folder.mkdir(parents=True, exist_ok=True)
        target = (folder / name).resolve()
        if target.parent != folder.resolve():  # cannot happen after safe_filename; be sure
            raise DocumentError(f"Nom de fichier refusé : {filename!r}.")
        with self._lock:
            documents = self._documents()
            ids = assign_doc_ids(sorted({*list_sources(folder), target}), held_ids(documents))
            doc_id = ids[target]
            holder = id_holder(documents, doc_id, target)
            if holder is not None:
                raise DocumentConflictError(
                    f"Un autre document porte déjà l'identifiant {doc_id} ({holder.name}). "
                    "Renommez le fichier, ou supprimez d'abord ce document."
                )
            staging = folder / f".upload-{os.getpid()}-{threading.get_ident()}{target.suffix}"
            staging.write_bytes(data)
            try:
                load_document(staging)  # refuse an unreadable file before it replaces anything
            except DocumentError as exc:
                staging.unlink(missing_ok=True)
                raise DocumentError(str(exc).replace(staging.name, filename)) from exc
            os.replace(staging, target)
            self._write_manifest_entry(
                name, {"title": title, "kind": kind, "date": date, "publisher": publisher}
            )
            report = ingest(target, self.settings, progress=False, store=self.store())
            if report.errors:
                target.unlink(missing_ok=True)
                raise DocumentError(report.errors[0][1])
            self.on_change()
        info = next(d for d in self.list() if d.id == doc_id)
        return UploadResult(
            document=info, chunks_embedded=report.chunks_embedded, summary=report.summary()
        )

    def _write_manifest_entry(self, name: str, meta: dict) -> None:
        """Record an upload's title, kind, date and publisher in the uploads' manifest."""
        path = self.uploads_dir / MANIFEST_NAME
        manifest = {"documents": []}
        if path.is_file():
            manifest = json.loads(path.read_text(encoding="utf-8"))
        entries = [e for e in manifest.get("documents", []) if e.get("file") != name]
        values = {k: v.strip() for k, v in meta.items() if v and v.strip()}
        if values:
            entries.append({"file": name, **values})
        manifest["documents"] = entries
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)

    def delete(self, doc_id: str, *, admin_key: str | None) -> DeleteResult:
        """Remove a document from the index; an uploaded file is deleted too."""
        check_admin_key(self.settings, admin_key)
        with self._lock:
            entry = self._entry(doc_id)
            removed = remove_document(doc_id, self.settings, store=self.store())
            source = Path(entry["source"])
            uploaded = source.parent == self.uploads_dir.resolve()
            if uploaded:
                source.unlink(missing_ok=True)
                self._write_manifest_entry(source.name, {})
            self.on_change()
        if uploaded:
            message = f"{doc_id} supprimé : {removed} passage(s) et le fichier téléversé."
        else:
            message = (
                f"{doc_id} retiré de l'index ({removed} passage(s)). Le fichier {source.name} "
                "reste dans le dossier du corpus : retirez-le aussi, sinon la prochaine "
                "réindexation le remettra."
            )
        return DeleteResult(
            id=doc_id, chunks_removed=removed, file_deleted=uploaded, message=message
        )

    def reindex(self, *, admin_key: str | None, progress: bool = False) -> IngestReport:
        """Bring the index up to date with the corpus folder and the uploads."""
        check_admin_key(self.settings, admin_key)
        with self._lock:
            try:
                store = self.store()
            except IndexUnreadableError:  # the ingestion sets it aside and starts it again
                store = None
            report = ingest(self.settings.corpus_dir, self.settings, progress=progress, store=store)
            if self.uploads_dir.is_dir() and list_sources(self.uploads_dir):
                extra = ingest(
                    self.uploads_dir, self.settings, progress=progress, store=self.store()
                )
                report = _merge(report, extra)
            self.on_change()
        return report


def _page(meta: dict) -> int | None:
    page = meta.get("page", -1)
    return page if isinstance(page, int) and page > 0 else None


def _words_pattern(words: list[str]) -> re.Pattern:
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def _find_span(cleaned: str, text: str, hint: int) -> tuple[int, int] | None:
    """Where a chunk's text lies in its cleaned segment (whitespace may differ)."""
    words = text.split()
    if not words:
        return None
    head = _words_pattern(words[:_HEAD_WORDS])
    match = head.search(cleaned, max(0, hint - 2)) or head.search(cleaned)
    if match is None:
        return None
    start = match.start()
    tail = _words_pattern(words[-_HEAD_WORDS:])
    end = None
    for found in tail.finditer(cleaned, start):
        end = found.end()
        if end - start >= len(" ".join(words)) * 0.8:
            break
    return start, end if end is not None else min(len(cleaned), start + len(text))


def _merge(first: IngestReport, second: IngestReport) -> IngestReport:
    """Two ingestion reports as one (corpus folder, then uploads)."""
    return IngestReport(
        files=first.files + second.files,
        indexed=first.indexed + second.indexed,
        unchanged=first.unchanged + second.unchanged,
        removed=first.removed + second.removed,
        chunks_embedded=first.chunks_embedded + second.chunks_embedded,
        chunks_kept=first.chunks_kept + second.chunks_kept,
        chunks_deleted=first.chunks_deleted + second.chunks_deleted,
        chunks_total=second.chunks_total,
        errors=first.errors + second.errors,
        seconds=first.seconds + second.seconds,
        repairs=first.repairs + second.repairs,
    )
