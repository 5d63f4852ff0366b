"""Document endpoints over HTTP: list, detail, passage in context, upload, delete, re-index."""

from pathlib import Path

import pytest
from admin_http import admin

from assistant.errors import DocumentError
from assistant.serving.documents import safe_filename

NEW_DOC = (
    "# Guide de la sobriété numérique\n\n"
    "## Matériel\n\n"
    "Les communes allongent la durée de vie des ordinateurs portables à sept ans.\n"
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rapport.pdf", "rapport.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\évolution 2025.MD", "evolution-2025.md"),
        (".cache.txt", "cache.txt"),
        ("<script>.txt", "script.txt"),
        ("....md", "document.md"),
    ],
)
def test_upload_names_cannot_leave_the_uploads_folder(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["rapport.docx", "archive.pdf.exe", "sans-extension"])
def test_unsupported_upload_names_are_refused(name):
    with pytest.raises(DocumentError, match="Formats acceptés"):
        safe_filename(name)


@pytest.mark.integration
class TestReading:
    def test_list_gives_metadata_and_chunk_counts(self, client):
        documents = client.get("/api/documents").json()
        health = client.get("/api/health").json()

        assert len(documents) == 5
        assert sum(d["chunks"] for d in documents) == health["chunks"]
        report = next(d for d in documents if d["kind"] == "meeting-report")
        assert report["title"] == "Compte-rendu de la 1re réunion plénière du 19 juin 2025"
        assert report["date"] == "2025-06-19"
        assert report["file"] == "001_449a94d9e4de7beb.txt"
        assert report["uploaded"] is False

    def test_detail_lists_passages_in_reading_order(self, client):
        detail = client.get("/api/documents/001_449a94d9e4de7beb").json()

        assert [p["n"] for p in detail["passages"]] == list(range(1, detail["chunks"] + 1))
        assert all(p["preview"] and p["locator"] for p in detail["passages"])

    def test_a_cited_passage_opens_in_its_context(self, client):
        answer = client.post("/api/ask", json={"question": "Quelles amendes pour le RGAA ?"}).json()
        citation = answer["citations"][0]
        detail = client.get(f"/api/documents/{citation['document_id']}").json()
        n = next(p["n"] for p in detail["passages"] if p["chunk_id"] == citation["chunk_id"])

        context = client.get(f"/api/documents/{citation['document_id']}/passages/{n}").json()

        assert context["chunk_id"] == citation["chunk_id"]
        assert context["context"] == "surrounding"
        assert " ".join(context["text"].split())[:80] in " ".join(context["passage"].split())
        assert len(context["before"]) + len(context["after"]) > 200
        assert context["total"] == detail["chunks"]

    @pytest.mark.parametrize(
        ("path", "message"),
        [
            ("/api/documents/inconnu", "inconnu"),
            ("/api/documents/inconnu/passages/1", "inconnu"),
            ("/api/documents/001_449a94d9e4de7beb/passages/0", "entre 1 et"),
            ("/api/documents/001_449a94d9e4de7beb/passages/9999", "entre 1 et"),
        ],
    )
    def test_unknown_documents_and_passages_are_404(self, client, path, message):
        response = client.get(path)

        assert response.status_code == 404
        assert response.json()["detail"]["code"] == "document_not_found"
        assert message in response.json()["detail"]["message"]


@pytest.mark.integration
class TestWriting:
    def test_writes_are_disabled_without_a_configured_key(self, client):
        upload = client.post(
            "/api/documents", files={"file": ("a.txt", b"x")}, headers=admin("nimporte")
        )
        delete = client.delete("/api/documents/001_449a94d9e4de7beb")

        for response in (upload, delete):
            assert response.status_code == 403
            assert response.json()["detail"]["code"] == "admin_disabled"
            assert "ASSISTANT_ADMIN_KEY" in response.json()["detail"]["message"]
        assert len(client.get("/api/documents").json()) == 5

    @pytest.mark.parametrize("headers", [{}, admin("mauvaise-cle"), {"Authorization": "Basic x"}])
    def test_writes_need_the_right_key(self, admin_server, headers):
        response = admin_server.client.post(
            "/api/documents", files={"file": ("a.txt", NEW_DOC.encode())}, headers=headers
        )

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"]["code"] == "unauthorized"

    def test_upload_then_ask_then_delete(self, admin_server):
        http = admin_server.client
        question = {"question": "Quelle durée de vie pour les ordinateurs portables des communes ?"}
        before = http.post("/api/ask", json=question).json()

        uploaded = http.post(
            "/api/documents",
            files={"file": ("../../Guide sobriété.md", NEW_DOC.encode(), "text/markdown")},
            data={"title": "Guide de la sobriété", "kind": "guide", "date": "2025-01-15"},
            headers=admin(),
        )

        assert uploaded.status_code == 201, uploaded.text
        document = uploaded.json()["document"]
        assert document == {
            "id": "Guide-sobriete",
            "title": "Guide de la sobriété",
            "kind": "guide",
            "date": "2025-01-15",
            "publisher": None,
            "file": "Guide-sobriete.md",
            "pages": None,
            "chunks": 1,
            "uploaded": True,
            "flagged": [],
        }
        stored = admin_server.settings.data_dir / "uploads" / "Guide-sobriete.md"
        assert stored.read_text(encoding="utf-8") == NEW_DOC
        after = http.post("/api/ask", json=question).json()
        assert "sept ans" not in before["answer"]
        assert "sept ans" in after["answer"]
        assert after["citations"][0]["document_id"] == "Guide-sobriete"

        deleted = http.delete("/api/documents/Guide-sobriete", headers=admin())

        assert deleted.status_code == 200
        assert deleted.json()["chunks_removed"] == 1
        assert deleted.json()["file_deleted"] is True
        assert not stored.exists()
        assert "sept ans" not in http.post("/api/ask", json=question).json()["answer"]
        assert http.get("/api/documents/Guide-sobriete").status_code == 404

    def test_a_pdf_upload_shows_its_passages_with_their_page(
        self, admin_server, make_pdf, tmp_path
    ):
        pages = [
            "Plan numérique communal\n\nLa commune forme ses agents au RGPD chaque année.",
            "Accessibilité\n\nLe site de la mairie sera audité selon le RGAA en 2026.\n"
            "Un schéma pluriannuel d'accessibilité sera publié.",
        ]
        pdf = make_pdf(tmp_path / "plan.pdf", pages, title="Plan numérique de Saint-Test")

        uploaded = admin_server.client.post(
            "/api/documents",
            files={"file": ("plan.pdf", pdf.read_bytes(), "application/pdf")},
            headers=admin(),
        )
        detail = admin_server.client.get("/api/documents/plan").json()
        second = next(p for p in detail["passages"] if p["page"] == 2)
        context = admin_server.client.get(f"/api/documents/plan/passages/{second['n']}").json()

        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["document"]["title"] == "Plan numérique de Saint-Test"
        assert uploaded.json()["document"]["pages"] == 2
        assert context["context"] == "page"
        assert context["page"] == 2
        assert "audité selon le RGAA" in context["before"] + context["passage"]
        assert "forme ses agents" not in context["before"] + context["after"]
        admin_server.client.delete("/api/documents/plan", headers=admin())

    def test_upload_errors_are_clear(self, admin_server):
        def upload(name, data):
            return admin_server.client.post(
                "/api/documents", files={"file": (name, data)}, headers=admin()
            )

        wrong_format = upload("note.docx", b"PK...")
        empty = upload("vide.txt", b"   \n")
        binary = upload("image.txt", b"\x00\x01\x02" * 100)
        too_large = upload("gros.txt", b"a" * (1024 * 1024 + 10))
        same_id = upload("etude.txt", b"Une autre etude sur les donnees.")

        assert (wrong_format.status_code, wrong_format.json()["detail"]["code"]) == (
            400,
            "document_unreadable",
        )
        assert "PDF, TXT, MD" in wrong_format.json()["detail"]["message"]
        assert empty.status_code == 400 and "vide" in empty.json()["detail"]["message"]
        assert binary.status_code == 400 and "image.txt" in binary.json()["detail"]["message"]
        assert too_large.status_code == 413
        assert "ASSISTANT_MAX_UPLOAD_MB" in too_large.json()["detail"]["message"]
        assert same_id.status_code == 409
        assert "etude.md" in same_id.json()["detail"]["message"]
        uploads = admin_server.settings.data_dir / "uploads"
        assert sorted(p.name for p in uploads.iterdir() if p.suffix != ".json") == []

    def test_deleting_a_corpus_document_keeps_its_file_until_reindexing(self, admin_server):
        http = admin_server.client
        source = Path(admin_server.settings.corpus_dir) / "diapos.txt"

        deleted = http.delete("/api/documents/diapos", headers=admin())
        listed = [d["id"] for d in http.get("/api/documents").json()]
        reindexed = http.post("/api/reindex", headers=admin())

        assert deleted.status_code == 200
        assert deleted.json()["file_deleted"] is False
        assert "réindexation" in deleted.json()["message"]
        assert source.exists()
        assert "diapos" not in listed
        assert reindexed.status_code == 200
        assert reindexed.json()["indexed"] == ["diapos"]
        assert "diapos" in [d["id"] for d in http.get("/api/documents").json()]
