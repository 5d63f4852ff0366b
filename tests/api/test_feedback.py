"""Feedback: the SQLite store, `POST /api/feedback` and the CSV export."""

import csv
import io

import pytest
from admin_http import admin

from assistant.schemas import Citation
from assistant.serving.feedback import FeedbackIn, FeedbackStore

CITATION = Citation(
    n=1,
    document_id="doc",
    title="Étude",
    locator="p. 3",
    page=3,
    text="Les collectivités…",
    score=0.5,
    kind="study",
    chunk_id="doc:1",
)


def test_store_keeps_verdicts_across_instances_and_exports_them(tmp_path):
    store = FeedbackStore.in_data_dir(tmp_path)
    first = store.add(
        FeedbackIn(rating="up", question="Q1 ?", answer="R1 [1]", citations=[CITATION]), "ui"
    )
    store.add(FeedbackIn(rating="down", question='=HYPERLINK("x")', answer="R2"), "api")
    store.set_comment(first.id, "  Très clair  ")
    store.set_rating(first.id, "down")

    records = FeedbackStore(tmp_path / "feedback.sqlite3").all()
    rows = list(csv.DictReader(io.StringIO(store.export_csv())))

    assert [(r.rating, r.comment, r.source) for r in records] == [
        ("down", "Très clair", "ui"),
        ("down", "", "api"),
    ]
    assert records[0].citations == [CITATION]
    assert rows[0]["citations"] == "[1] Étude — p. 3 (doc)"
    assert rows[1]["question"] == '\'=HYPERLINK("x")'  # not run as a formula


@pytest.mark.integration
def test_feedback_is_open_and_its_export_needs_the_admin_key(admin_server):
    http = admin_server.client
    answer = http.post("/api/ask", json={"question": "Qui doit ouvrir ses données ?"}).json()
    payload = {
        "rating": "down",
        "question": "Qui doit ouvrir ses données ?",
        "answer": answer["answer"],
        "citations": answer["citations"],
        "comment": "Il manque la date.",
    }

    stored = http.post("/api/feedback", json=payload)
    refused = http.get("/api/feedback.csv")
    export = http.get("/api/feedback.csv", headers=admin())

    assert stored.status_code == 201
    assert stored.json()["id"] >= 1 and stored.json()["source"] == "api"
    assert refused.status_code == 401
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    row = next(r for r in rows if r["id"] == str(stored.json()["id"]))
    assert row["rating"] == "down" and row["comment"] == "Il manque la date."
    assert row["citations"].startswith("[1] ")


@pytest.mark.integration
def test_bad_feedback_is_refused(admin_server):
    http = admin_server.client

    wrong_rating = http.post(
        "/api/feedback", json={"rating": "bof", "question": "Q", "answer": "R"}
    )
    empty = http.post("/api/feedback", json={"rating": "up", "question": " ", "answer": "R"})

    assert wrong_rating.status_code == 422
    assert empty.status_code == 400
    assert empty.json()["detail"]["code"] == "invalid_question"


@pytest.mark.integration
def test_export_is_disabled_without_a_configured_key(client):
    response = client.get("/api/feedback.csv", headers=admin())

    assert response.status_code == 403
    assert "ASSISTANT_ADMIN_KEY" in response.json()["detail"]["message"]
