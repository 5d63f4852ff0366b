"""Question analysis: follow-up detection and the conversation carried into a query."""

from assistant.glossary import query_concepts
from assistant.query import build_query, next_in_sequence
from assistant.retrieval.lexical import tokenize
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


def test_the_next_one_is_the_item_after_the_one_just_discussed():
    history = [
        Message(role="user", content="Quand a lieu la deuxième plénière ?"),
        Message(role="assistant", content="Le 18 septembre 2025, de 9h à 11h."),
    ]

    query = build_query("Et la suivante, elle servira à quoi ?", history)

    assert query.context == "Quand a lieu la 3e plénière ?"
    assert query.recalled == ""  # the previous answer describes the second one
    assert "suiv" not in tokenize(query.lexical)  # resolved: "suivante" is no topic word
    assert tokenize("3e")[0] in tokenize(query.lexical)


def test_the_next_one_without_an_ordinal_keeps_the_previous_question():
    history = [
        Message(role="user", content="Quelles sont les missions du DPO ?"),
        Message(role="assistant", content="Informer et conseiller. [1]"),
    ]

    query = build_query("Et la suivante ?", history)

    assert query.context == "Quelles sont les missions du DPO ?"
    assert query.recalled == "Informer et conseiller."


def test_next_in_sequence_moves_spelled_and_numbered_ordinals():
    assert next_in_sequence("la première réunion") == "la 2e réunion"
    assert next_in_sequence("la 2e réunion") == "la 3e réunion"
    assert next_in_sequence("the second meeting", "en") == "the 3rd meeting"
    assert next_in_sequence("la dixième étape") == "la 11e étape"
    assert next_in_sequence("aucune étape") == "aucune étape"


def test_query_concepts_group_synonyms_across_inflections():
    concepts = query_concepts("Combien de personnes avaient été sollicitées ?")

    assert any(
        set(tokenize("invitations")) <= c and set(tokenize("sollicité")) <= c for c in concepts
    )
