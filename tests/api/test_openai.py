"""`/v1/chat/completions` driven by the official `openai` client against the local server."""

import openai
import pytest

from assistant.serving.openai_compat import MODEL_ID

pytestmark = pytest.mark.integration

RGAA = "Quelles amendes risque une collectivité qui ne respecte pas le RGAA ?"


@pytest.fixture(scope="module")
def sdk(live_server):
    # Reads are open on localhost: any key is accepted, as Open WebUI always sends one.
    return openai.OpenAI(base_url=f"{live_server}/v1", api_key="sans-cle", max_retries=0)


def test_the_model_is_listed(sdk):
    assert [m.id for m in sdk.models.list()] == [MODEL_ID]


def test_completion_carries_the_answer_its_sources_and_structured_citations(sdk, client):
    completion = sdk.chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": RGAA}]
    )
    plain = client.post("/api/ask", json={"question": RGAA}).json()

    content = completion.choices[0].message.content
    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"
    assert content.startswith(plain["answer"])
    assert "\n\nSources :\n- [1] " in content
    citations = completion.model_extra["citations"]
    assert [c["n"] for c in citations] == [c["n"] for c in plain["citations"]]
    for citation in citations:
        assert f"[{citation['n']}] {citation['title']}" in content
        assert citation["text"] and citation["document_id"]
    assert completion.usage.total_tokens > 0


def test_streamed_completion_equals_the_plain_one(sdk):
    messages = [{"role": "user", "content": RGAA}]
    plain = sdk.chat.completions.create(model=MODEL_ID, messages=messages)

    chunks = list(sdk.chat.completions.create(model=MODEL_ID, messages=messages, stream=True))

    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    assert len(chunks) > 4
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == plain.model_extra["citations"]


def test_history_makes_a_follow_up_question_understood(sdk):
    completion = sdk.chat.completions.create(
        model=MODEL_ID,
        messages=[
            {"role": "system", "content": "Tu es un assistant."},
            {"role": "user", "content": "Qui doit adopter une stratégie numérique responsable ?"},
            {"role": "assistant", "content": "Les intercommunalités… [1]\n\nSources :\n- [1] x"},
            {"role": "user", "content": [{"type": "text", "text": "Et à partir de quand ?"}]},
        ],
    )

    assert "2025" in completion.choices[0].message.content


def test_english_question_gets_english_sources_heading(sdk):
    completion = sdk.chat.completions.create(
        model=MODEL_ID,
        messages=[
            {
                "role": "user",
                "content": "Which local authorities must adopt a responsible digital strategy?",
            }
        ],
    )

    assert "According to the documents" in completion.choices[0].message.content
    assert "\n\nSources:\n" in completion.choices[0].message.content


def test_errors_reach_the_sdk_as_openai_errors_with_the_french_message(sdk):
    with pytest.raises(openai.BadRequestError) as empty:
        sdk.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": " "}])
    with pytest.raises(openai.BadRequestError) as not_user:
        sdk.chat.completions.create(
            model=MODEL_ID, messages=[{"role": "assistant", "content": "Bonjour"}]
        )

    assert "La question est vide" in empty.value.message
    assert empty.value.code == "invalid_question"
    assert "role « user »" in not_user.value.message
