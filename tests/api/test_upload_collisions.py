"""An upload and a corpus file of the same name: neither silently replaces the other."""

import pytest
from admin_http import admin

pytestmark = pytest.mark.integration

UPLOAD = b"# Rapport\n\nLe rapport televerse traite de la fibre optique.\n"
CORPUS = "# Rapport\n\nLe rapport du corpus traite de l'archivage électronique.\n"


def _upload(http, name: str, data: bytes):
    return http.post("/api/documents", files={"file": (name, data)}, headers=admin())


def test_an_upload_named_like_a_corpus_file_is_refused(admin_server):
    response = _upload(admin_server.client, "etude.md", b"# Autre\n\nUne autre etude.\n")

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail["code"] == "document_conflict"
    assert "etude" in detail["message"] and "Renommez" in detail["message"]


def test_a_corpus_file_named_like_an_upload_is_skipped_by_reindex(admin_server):
    http, settings = admin_server.client, admin_server.settings
    assert _upload(http, "rapport.md", UPLOAD).status_code == 201
    corpus_file = settings.corpus_dir / "rapport.md"
    corpus_file.write_text(CORPUS, encoding="utf-8")
    try:
        report = http.post("/api/reindex", headers=admin()).json()

        assert report["indexed"] == []
        [error] = report["errors"]
        assert "rapport.md" in error and "uploads" in error and "Renommez" in error
        document = http.get("/api/documents/rapport").json()
        assert document["uploaded"] is True
        assert "fibre optique" in document["passages"][0]["preview"]
        # The upload itself can still be replaced: it holds the id.
        assert _upload(http, "rapport.md", UPLOAD + b"Un ajout.\n").status_code == 201
    finally:
        corpus_file.unlink()
        http.delete("/api/documents/rapport", headers=admin())
