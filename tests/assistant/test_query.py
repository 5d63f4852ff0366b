"""Question analysis: follow-up detection and the conversation carried into a query."""

from assistant.glossary import query_concepts
from assistant.lexical import tokenize
from assistant.query import build_query
from assistant.schemas import Message


def test_a_follow_up_recalls_the_start_of_the_previous_answer():
    history = [
        Message(role="user", content="Combien de réponses l'étude a-t-elle retenues ?"),
        Message(role="assistant", content="D'après les documents :\n- 120 réponses retenues. [1]"),
    ]

    query = build_query("Et combien de personnes avaient été sollicitées ?", history)

    assert query.context == "Combien de réponses l'étude a-t-elle retenues ?"
    assert query.recalled == "120 réponses retenues."
    assert "120" in query.lexical
    assert "120" not in query.text  # the dense query keeps the questions only


def test_a_refusal_is_not_recalled():
    history = [
        Message(role="user", content="Quel est le montant de l'amende ?"),
        Message(role="assistant", content="Le corpus ne permet pas de répondre à cette question."),
    ]

    assert build_query("Et pour une commune ?", history).recalled == ""


def test_query_concepts_group_synonyms_across_inflections():
    concepts = query_concepts("Combien de personnes avaient été sollicitées ?")

    assert any(
        set(tokenize("invitations")) <= c and set(tokenize("sollicité")) <= c for c in concepts
    )
