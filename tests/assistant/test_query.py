"""Question analysis: follow-up detection and the noun a question asks about."""

import pytest

from assistant.glossary import query_concepts
from assistant.lexical import tokenize
from assistant.query import build_query, question_focus
from assistant.schemas import Message


@pytest.mark.parametrize(
    ("question", "word", "counted"),
    [
        ("Quelles décisions ont été prises lors de la réunion ?", "décisions", False),
        ("Quelles sont les missions du DPO ?", "missions", False),
        ("Sur quels critères repose le baromètre ?", "critères", False),
        ("Quelles principales difficultés ressortent ?", "difficultés", False),
        ("Combien de conseillers numériques y a-t-il ?", "conseillers", True),
        ("À partir de combien d'habitants une commune est-elle concernée ?", "habitants", True),
        ("How many members sit on the commission?", "members", True),
    ],
)
def test_question_focus_finds_the_noun_asked_about(question, word, counted):
    focus = question_focus(question)

    assert focus is not None
    assert (focus.word, focus.counted) == (word, counted)


@pytest.mark.parametrize(
    "question",
    [
        "Quelle part des collectivités a un DPO ?",  # the answer is a value, not "part"
        "Quel organisme joue le rôle de DPO ?",
        "Combien de personnes ont été sollicitées ?",
        "Depuis quand la loi s'applique-t-elle ?",  # no noun asked about
        "What share of people are affected?",
    ],
)
def test_question_focus_ignores_value_nouns_and_open_questions(question):
    assert question_focus(question) is None


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
