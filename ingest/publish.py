"""Published versions of the index: what readers load, swapped atomically.

`<index_dir>/bm25.<n>/` holds one version of the lexical index, its sentence index
(`sentences/`: BM25 and vectors of the sentence units) and `index.json` (its Chroma
collection, generation, chunk count); `<index_dir>/bm25` is a symbolic link to the
current version. A writer builds a new version in a hidden folder, renames it, then
replaces the link (a rename, atomic on POSIX). A reader resolves the link once and loads
that folder: it always sees one complete version, never a mix of two.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from assistant.retrieval.lexical import TOKENIZER_VERSION, Bm25Index
from assistant.retrieval.sentence_index import SentenceIndex
from assistant.retrieval.store import COLLECTION

LEXICAL_DIR = "bm25"
INDEX_META = "index.json"


def write_atomic(path: Path, text: str) -> None:
    """Write-then-rename, synced: a crash leaves the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def set_aside(path: Path) -> Path:
    """Rename a file or folder that cannot be read to `<name>.broken-<time>`, kept for a
    person to inspect; returns the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    os.replace(path, target)
    fsync_dir(path.parent)
    return target


def current_lexical_dir(index_dir: Path) -> Path | None:
    """The published lexical index folder (the `bm25` link resolved), or None."""
    link = index_dir / LEXICAL_DIR
    if not (link / "ids.json").is_file():
        return None
    return link.resolve()


def index_meta(index_dir: Path) -> dict:
    """What the published version says of itself: its collection, generation, chunks."""
    folder = current_lexical_dir(index_dir)
    if folder is None:
        return {}
    path = folder / INDEX_META
    meta = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return {"collection": COLLECTION, **meta}  # a version from before index.json: "chunks"


def index_version(index_dir: Path) -> str | None:
    """Name of the published version (changes at every publication), for readers to poll."""
    folder = current_lexical_dir(index_dir)
    return folder.name if folder else None


def published_ids(index_dir: Path) -> set[str] | None:
    """Chunk ids of the published lexical index, None if absent or built by older code."""
    folder = current_lexical_dir(index_dir)
    if folder is None:
        return None
    meta = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
    return set(meta["ids"]) if meta.get("tokenizer") == TOKENIZER_VERSION else None


def publish_lexical(
    index_dir: Path, lexical: Bm25Index, meta: dict, sentences: SentenceIndex | None = None
) -> Path:
    """Write a new version folder, then point the `bm25` link at it (atomic rename).

    The previous version is kept for readers that resolved the link just before; older
    ones, and folders a crash left half-written, are removed.
    """
    link = index_dir / LEXICAL_DIR
    if link.is_dir() and not link.is_symlink():  # layout of earlier releases: a plain folder
        os.replace(link, index_dir / f"{LEXICAL_DIR}.000000")
        os.symlink(f"{LEXICAL_DIR}.000000", link)
    previous = os.readlink(link) if link.is_symlink() else None
    generation = max((int(p.suffix[1:]) for p in _versions(index_dir)), default=0) + 1
    final = index_dir / f"{LEXICAL_DIR}.{generation:06d}"
    tmp = index_dir / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    lexical.save(tmp)
    if sentences is not None:
        sentences.save(tmp)
    (tmp / INDEX_META).write_text(json.dumps({**meta, "generation": generation}), "utf-8")
    for file in (p for p in tmp.rglob("*") if p.is_file()):
        with file.open("rb") as handle:
            os.fsync(handle.fileno())
    os.replace(tmp, final)
    tmp_link = index_dir / f".{LEXICAL_DIR}.link.tmp"
    tmp_link.unlink(missing_ok=True)
    os.symlink(final.name, tmp_link)
    os.replace(tmp_link, link)
    fsync_dir(index_dir)
    for folder in [*_versions(index_dir), *index_dir.glob(f".{LEXICAL_DIR}.*.tmp")]:
        if folder.name not in (final.name, previous) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    return final


def _versions(index_dir: Path) -> list[Path]:
    return [
        p
        for p in index_dir.glob(f"{LEXICAL_DIR}.*")
        if p.is_dir() and p.suffix[1:].isdigit() and not p.is_symlink()
    ]
