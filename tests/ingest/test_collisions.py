"""Document ids: a file never silently takes the id another existing file holds."""

from pathlib import Path

import pytest

from ingest.index import ingest, load_state, open_store

UPLOAD = "# Rapport\n\nLe rapport téléversé traite de la fibre optique.\n"
CORPUS = "# Rapport\n\nLe rapport du corpus traite de l'archivage électronique.\n"


def _ingest(settings, path: Path):
    return ingest(path, settings, progress=False)


def _sources(settings) -> dict[str, str]:
    documents = load_state(settings.index_dir)["documents"]
    return {doc_id: Path(entry["source"]).name for doc_id, entry in documents.items()}


def _texts(settings, doc_id: str) -> list[str]:
    return [c.text for c in open_store(settings).all({"doc_id": doc_id})]


@pytest.fixture
def uploads(hash_settings) -> Path:
    folder = hash_settings.data_dir / "uploads"
    folder.mkdir(parents=True)
    return folder


def test_a_corpus_file_does_not_take_the_id_of_an_upload(hash_settings, uploads):
    (uploads / "rapport.md").write_text(UPLOAD, encoding="utf-8")
    _ingest(hash_settings, uploads / "rapport.md")
    (hash_settings.corpus_dir / "rapport.md").write_text(CORPUS, encoding="utf-8")

    report = _ingest(hash_settings, hash_settings.corpus_dir)

    assert report.indexed == []
    [(name, message)] = report.errors
    assert name == "rapport.md"
    assert "rapport" in message and str(uploads / "rapport.md") in message
    assert "Renommez" in message
    assert load_state(hash_settings.index_dir)["documents"]["rapport"]["source"] == str(
        (uploads / "rapport.md").resolve()
    )
    assert any("fibre optique" in text for text in _texts(hash_settings, "rapport"))
    # The uploads folder, ingested again (as /api/reindex does), still serves the upload.
    again = _ingest(hash_settings, uploads)
    assert again.indexed == [] and again.errors == []


def test_an_upload_does_not_take_the_id_of_a_corpus_file(hash_settings, uploads):
    (hash_settings.corpus_dir / "rapport.md").write_text(CORPUS, encoding="utf-8")
    _ingest(hash_settings, hash_settings.corpus_dir)
    (uploads / "rapport.md").write_text(UPLOAD, encoding="utf-8")

    report = _ingest(hash_settings, uploads)

    assert report.indexed == []
    assert [name for name, _ in report.errors] == ["rapport.md"]
    assert "corpus" in report.errors[0][1]
    assert _sources(hash_settings) == {"rapport": "rapport.md"}
    assert any("archivage" in text for text in _texts(hash_settings, "rapport"))
    assert _ingest(hash_settings, hash_settings.corpus_dir).errors == []


def test_an_id_whose_file_is_gone_can_be_taken(hash_settings, uploads):
    (uploads / "rapport.md").write_text(UPLOAD, encoding="utf-8")
    _ingest(hash_settings, uploads)
    (uploads / "rapport.md").unlink()
    (hash_settings.corpus_dir / "rapport.md").write_text(CORPUS, encoding="utf-8")

    report = _ingest(hash_settings, hash_settings.corpus_dir)

    assert report.indexed == ["rapport"] and report.errors == []
    assert all("archivage" in text for text in _texts(hash_settings, "rapport"))


def test_a_file_added_beside_an_indexed_one_does_not_take_its_id(hash_settings):
    corpus = hash_settings.corpus_dir
    (corpus / "rapport.txt").write_text("Le rapport texte traite du RGPD.", encoding="utf-8")
    _ingest(hash_settings, corpus)
    # "rapport.md" sorts first: without the state, it would get "rapport".
    (corpus / "rapport.md").write_text(CORPUS, encoding="utf-8")

    report = _ingest(hash_settings, corpus)

    assert report.errors == []
    assert report.indexed == ["rapport-md"]
    assert _sources(hash_settings) == {"rapport": "rapport.txt", "rapport-md": "rapport.md"}
    # A single-file run gives the file the same id as the folder run.
    (corpus / "rapport.md").write_text(CORPUS + "\nUn ajout.\n", encoding="utf-8")
    assert _ingest(hash_settings, corpus / "rapport.md").indexed == ["rapport-md"]
