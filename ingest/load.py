"""Load PDF, TXT and MD files into documents with their metadata and pages."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import json
import logging
import math
import re
import resource
import select
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, LimitReachedError

from assistant.errors import DocumentError
from assistant.safe_text import SURROGATE

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md")
MANIFEST_NAME = "manifest.json"
# In text extracted from PDFs, a line that starts with exactly one space marks a page
# (or a slide) break: the extraction replaced the form feed by a space.
_PAGE_BREAK = re.compile(r"\n(?= \S)")
# What the PDF-reading child process may allocate (address space, so generous).
_PDF_MEMORY_BYTES = 2 << 30


@dataclass
class SourceDocument:
    """A document as loaded: metadata plus the text of each page (one page for TXT/MD)."""

    doc_id: str
    path: Path
    title: str
    kind: str
    date: str | None = None
    publisher: str | None = None
    pages: list[str] = field(default_factory=list)
    paged: bool = False  # True when pages are real PDF pages

    @property
    def text(self) -> str:
        """The whole text, pages joined by blank lines."""
        return "\n\n".join(self.pages)


def read_manifest(directory: Path) -> dict[str, dict]:
    """Metadata by file name from `manifest.json`, or {} when there is none."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path} n'est pas un JSON valide ({exc}). Corrigez-le.") from exc
    return {entry["file"]: entry for entry in data.get("documents", []) if "file" in entry}


def list_sources(directory: Path) -> list[Path]:
    """Supported files under a folder, sorted, hidden files excluded."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    )


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def doc_id_for(path: Path) -> str:
    """A stable identifier from the file name: its stem, made URL-safe."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-") or "document"


def assign_doc_ids(paths: list[Path], held: dict[Path, str] | None = None) -> dict[Path, str]:
    """Identifiers for the files of a folder; "rapport.pdf" and "rapport.txt" stay apart.

    `held` gives the id each already indexed file holds (by resolved path): such a file
    keeps it, so "rapport.md" added beside an indexed "rapport.txt" does not take its id.
    """
    held = held or {}
    ids = {path: held[path.resolve()] for path in paths if path.resolve() in held}
    taken = set(ids.values())
    for path in paths:
        if path in ids:
            continue
        doc_id = base = doc_id_for(path)
        if doc_id in taken:
            doc_id = base = f"{base}-{path.suffix.lstrip('.').lower()}"
        n = 1
        while doc_id in taken:
            n += 1
            doc_id = f"{base}-{n}"
        ids[path] = doc_id
        taken.add(doc_id)
    return ids


def held_ids(documents: dict[str, dict]) -> dict[Path, str]:
    """The id each indexed file holds (`documents`: the ingestion state's), by resolved path."""
    return {Path(entry["source"]): doc_id for doc_id, entry in documents.items()}


def id_holder(documents: dict[str, dict], doc_id: str, source: Path) -> Path | None:
    """The other file, still present, that holds `doc_id` in `documents`; None if it is free."""
    entry = documents.get(doc_id)
    if entry is None:
        return None
    holder = Path(entry["source"])
    return holder if holder != source.resolve() and holder.is_file() else None


def id_taken_message(source: Path, doc_id: str, holder: Path) -> str:
    """Why a file is skipped: its id belongs to another file, and how to fix it."""
    return (
        f"{source.name} : ignoré, son identifiant {doc_id} est déjà celui de {holder}. "
        "Renommez l'un des deux fichiers, puis relancez l'indexation."
    )


@dataclass(frozen=True)
class LoadLimits:
    """Bounds on what one file may cost: its size, a PDF's pages and reading time."""

    max_file_mb: int = 50
    max_pdf_pages: int = 2000
    pdf_timeout_s: float = 300.0


# What a binary file really is, from its first bytes, to say so in the message.
_MAGIC = {
    b"\x89PNG": "une image PNG",
    b"\xff\xd8\xff": "une image JPEG",
    b"GIF8": "une image GIF",
    b"PK\x03\x04": "une archive ZIP (document Word, OpenDocument…)",
    b"\xd0\xcf\x11\xe0": "un ancien document Office (.doc, .xls)",
    b"%PDF-": "un PDF",
}


def _kind_of(head: bytes) -> str | None:
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


def check_size(path: Path, limits: LoadLimits) -> int:
    """The file's size in bytes; DocumentError when it is empty or over the limit."""
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(f"{path.name} : fichier vide.")
    if size > limits.max_file_mb * 1024 * 1024:
        raise DocumentError(
            f"{path.name} : fichier trop volumineux ({size / 1024 / 1024:.0f} Mo ; la limite "
            f"est {limits.max_file_mb} Mo, ASSISTANT_MAX_FILE_MB). Découpez-le ou relevez "
            "la limite."
        )
    return size


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(b"%PDF-"):
        raise DocumentError(
            f"{path.name} : c'est un PDF enregistré avec l'extension {path.suffix}. "
            "Renommez-le en .pdf."
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                f"{path.name} : texte UTF-16 invalide (octet {exc.start}). "
                "Réenregistrez le fichier en UTF-8."
            ) from exc
    if b"\x00" in raw[:4096]:
        kind = _kind_of(raw[:8])
        raise DocumentError(
            f"{path.name} : fichier binaire{f' ({kind})' if kind else ''}, pas du texte. "
            "Vérifiez son extension."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path.name} : texte non UTF-8 (octet invalide à la position {exc.start}). "
            "Réenregistrez le fichier en UTF-8."
        ) from exc


def _declared_pages(reader: PdfReader) -> int | None:
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]
    except Exception:  # a malformed page tree: the pages themselves will tell
        return None
    return int(count) if isinstance(count, int) else None


def _too_many_pages(name: str, pages: int, max_pages: int) -> DocumentError:
    count = f"{pages:,}".replace(",", " ")  # French thousands separator
    return DocumentError(
        f"{name} : PDF de {count} pages ; la limite est {max_pages} "
        "(ASSISTANT_MAX_PDF_PAGES). Découpez-le ou relevez la limite."
    )


def _has_eof_marker(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 2048))
        return b"%%EOF" in handle.read()


def read_pdf(path: Path, max_pages: int) -> tuple[list[str], str | None]:
    """Text of each page and the PDF's title, in this process (see `PdfExtractor`)."""
    name = path.name
    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        kind = _kind_of(head)
        raise DocumentError(
            f"{name} : PDF illisible : pas d'en-tête %PDF, ce n'est pas un PDF"
            f"{f' mais {kind}' if kind else ''}. Vérifiez l'extension du fichier."
        )
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{name} : PDF protégé par mot de passe. Fournissez-le déchiffré.")
        # The declared count first (free), then the real one (the page tree is walked, not
        # the pages read): a PDF of thousands of pages is refused before any text is read.
        for count in (_declared_pages(reader), len(reader.pages)):
            if count is not None and count > max_pages:
                raise _too_many_pages(name, count, max_pages)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except DocumentError:
        raise
    except DependencyError as exc:
        raise DocumentError(
            f"{name} : PDF chiffré (AES) ; l'ouvrir demande le paquet Python cryptography "
            "(pip install cryptography). Ou fournissez-le déchiffré."
        ) from exc
    except LimitReachedError as exc:
        raise DocumentError(
            f"{name} : PDF illisible : il dépasse une limite de sécurité du lecteur PDF "
            f"({exc}). Fichier piégé ou anormal : vérifiez-le."
        ) from exc
    except MemoryError as exc:
        raise DocumentError(f"{name} : {_OUT_OF_MEMORY}") from exc
    except RecursionError as exc:
        raise DocumentError(
            f"{name} : PDF illisible : objets imbriqués trop profondément (fichier malformé "
            "ou piégé). Vérifiez-le ou réexportez-le."
        ) from exc
    except Exception as exc:  # pypdf raises many types on malformed input; all mean "unreadable"
        if not _has_eof_marker(path):
            raise DocumentError(
                f"{name} : PDF illisible : fichier tronqué (pas de marqueur de fin %%EOF ; "
                "téléchargement ou copie incomplet ?). Récupérez-le à nouveau."
            ) from exc
        raise DocumentError(
            f"{name} : PDF illisible ({type(exc).__name__} : {exc}). Vérifiez le fichier."
        ) from exc
    if not any(p.strip() for p in pages):
        raise DocumentError(
            f"{name} : aucun texte extractible ({len(pages)} page(s) d'images). "
            "Passez-le d'abord dans un OCR (ex. ocrmypdf)."
        )
    return pages, title


def serve_pdf_reads() -> None:
    """The PDF-reading child's loop: one JSON request per stdin line, one answer per line."""
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    memory_bytes = int(sys.argv[1])
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    with contextlib.suppress(OSError, AttributeError):  # Linux: die with the parent
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        # A last resort, should the parent not kill this process in time.
        signal.alarm(math.ceil(request["timeout_s"]) + 5)
        try:
            pages, title = read_pdf(Path(request["path"]), request["max_pages"])
            answer = {"pages": pages, "title": title}
        except DocumentError as exc:
            answer = {"error": str(exc)}
        except MemoryError:
            answer = {"error": f"{Path(request['path']).name} : {_OUT_OF_MEMORY}"}
        signal.alarm(0)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


_OUT_OF_MEMORY = (
    "PDF illisible : sa lecture dépasse la mémoire permise (fichier piégé ou anormal). Vérifiez-le."
)
_STOPPED = (
    "PDF illisible : le lecteur PDF s'est arrêté en le lisant (mémoire dépassée ou fichier "
    "malformé). Vérifiez-le."
)
_WORKER = "from ingest.load import serve_pdf_reads; serve_pdf_reads()"
_START_TIMEOUT_S = 60


class PdfExtractor:
    """Reads PDFs in a child process, so that a hostile file costs bounded time and memory.

    The child may use at most `memory_bytes` of address space; past `timeout_s` it is
    killed, and the next PDF starts a new one. One child serves a whole ingestion (starting
    one takes ~0.2 s). A plain subprocess, not multiprocessing: nothing of the caller's
    main module is imported again.
    """

    def __init__(self, memory_bytes: int = _PDF_MEMORY_BYTES):
        self.memory_bytes = memory_bytes
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def extract(self, path: Path, max_pages: int, timeout_s: float) -> tuple[list[str], str | None]:
        """Pages and title of `path`; DocumentError naming the file when it can't be read."""
        request = {"path": str(path.resolve()), "max_pages": max_pages, "timeout_s": timeout_s}
        with self._lock:
            process = self._start(path)
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                ready, _, _ = select.select([process.stdout], [], [], timeout_s)
                answer = json.loads(process.stdout.readline()) if ready else None
            except (OSError, ValueError):  # the child died: a broken pipe, a cut answer
                self._stop()
                raise DocumentError(f"{path.name} : {_STOPPED}") from None
            if answer is None:
                self._stop()
                raise DocumentError(
                    f"{path.name} : lecture du PDF interrompue au bout de {timeout_s:g} s "
                    "(fichier trop complexe ou piégé). Vérifiez-le, ou relevez "
                    "ASSISTANT_PDF_TIMEOUT_S."
                )
        if "error" in answer:
            raise DocumentError(answer["error"])
        return answer["pages"], answer["title"]

    def _start(self, path: Path) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._stop()
            self._process = process = subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(self.memory_bytes)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
            )
            # Starting Python is not reading the PDF: the time limit starts once it is ready.
            ready, _, _ = select.select([process.stdout], [], [], _START_TIMEOUT_S)
            if not ready or process.stdout.readline().strip() != "ready":
                self._stop()
                raise DocumentError(
                    f"{path.name} : le lecteur PDF ({sys.executable} -c …) n'a pas démarré en "
                    f"{_START_TIMEOUT_S} s. Vérifiez l'installation, puis relancez."
                )
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
        self._process = None

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            self._stop()


_EXTRACTOR = PdfExtractor()
atexit.register(_EXTRACTOR.close)


def load_document(
    path: Path, meta: dict | None = None, limits: LoadLimits | None = None
) -> SourceDocument:
    """Read one file; raise DocumentError with the file name and a remedy when it can't be.

    Every failure (empty, too big, not UTF-8, wrong extension, encrypted, image-only,
    truncated or hostile PDF) is a DocumentError within bounded time and memory.
    """
    meta = meta or {}
    limits = limits or LoadLimits()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{path.name} : format non pris en charge. Formats acceptés : PDF, TXT, MD."
        )
    check_size(path, limits)
    pdf_title = None
    if suffix == ".pdf":
        pages, pdf_title = _EXTRACTOR.extract(path, limits.max_pdf_pages, limits.pdf_timeout_s)
        paged = True
    else:
        text = _read_text(path)
        if not text.strip():
            raise DocumentError(f"{path.name} : fichier vide.")
        pages = _PAGE_BREAK.split(text)
        paged = False
    # A PDF's extracted text may hold lone surrogates (a broken font map): one glyph lost,
    # not the document. Metadata typed by a person is refused with the file's name.
    pages = [SURROGATE.sub("\ufffd", page) for page in pages]
    pdf_title = SURROGATE.sub("\ufffd", pdf_title) if pdf_title else None
    for name, value in meta.items():
        if isinstance(value, str) and SURROGATE.search(value):
            raise DocumentError(
                f"{path.name} : le champ « {name} » du manifeste contient un caractère "
                "invalide (moitié de paire UTF-16) : corrigez-le dans manifest.json."
            )
    return SourceDocument(
        doc_id=doc_id_for(path),
        path=path,
        title=meta.get("title") or pdf_title or path.stem.replace("_", " "),
        kind=meta.get("kind") or ("pdf" if suffix == ".pdf" else "document"),
        date=meta.get("date"),
        publisher=meta.get("publisher"),
        pages=pages,
        paged=paged,
    )


def load_corpus(directory: Path, limits: LoadLimits | None = None) -> list[SourceDocument]:
    """Every readable document of a folder; unreadable ones are logged and skipped."""
    manifest = read_manifest(directory)
    documents = []
    for path in list_sources(directory):
        try:
            documents.append(load_document(path, manifest.get(path.name), limits))
        except DocumentError as exc:
            log.warning("%s", exc)
    return documents
