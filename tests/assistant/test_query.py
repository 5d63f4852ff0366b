"""Question analysis: follow-up detection and the conversation carried into a query."""

import pytest

from assistant.query import build_query, next_in_sequence
from assistant.retrieval.lexical import tokenize
from assistant.schemas import Message, Profile


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


@pytest.mark.parametrize(
    ("question", "asks_else"),
    [
        ("Et qu'a-t-il dit d'autre ?", True),
        ("Quoi d'autre ?", True),
        ("What else did he say?", True),
        ("Et combien de personnes avaient été sollicitées ?", False),
    ],
)
def test_a_follow_up_asking_what_else_keeps_the_previous_answer_to_leave_out(question, asks_else):
    answer = "D'après les documents :\n- 120 réponses retenues. [1]"
    history = [
        Message(role="user", content="Combien de réponses l'étude a-t-elle retenues ?"),
        Message(role="assistant", content=answer),
    ]

    assert build_query(question, history).said == (answer if asks_else else "")


@pytest.mark.parametrize(
    "refusal",
    [
        "Je n'ai pas trouvé de réponse directe à « montant de l'amende » dans les documents.",
        "Le corpus ne permet pas de répondre à cette question.",  # an earlier version's wording
    ],
)
def test_a_refusal_is_not_recalled(refusal):
    history = [
        Message(role="user", content="Quel est le montant de l'amende ?"),
        Message(role="assistant", content=refusal),
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


@pytest.mark.parametrize(
    ("reply", "population", "agents"),
    [
        ("2500", 2500, None),
        ("environ 12 000 hab.", 12000, None),
        ("on a 70 000 habitants", 70000, None),
        ("Nous sommes 3 200.", 3200, None),
        ("8 000 habitants et 40 agents", 8000, 40),
    ],
)
def test_a_figure_answering_the_assistants_question_asks_the_question_again_with_it(
    reply, population, agents
):
    asked = "Notre commune doit-elle ouvrir ses données ?"
    history = [
        Message(role="user", content=asked),
        Message(role="assistant", content="Cela dépend… Combien d'habitants compte-t-elle ?"),
    ]

    query = build_query(reply, history, Profile(kind="commune"))

    assert query.question == asked
    assert query.profile == Profile(kind="commune", population=population, agents=agents)
    assert query.context == ""


@pytest.mark.parametrize(
    ("reply", "profile"),
    [
        ("une communauté de communes", Profile(kind="communauté de communes")),
        ("a commune", Profile(kind="commune")),
        ("Une commune de 4 000 habitants.", Profile(kind="commune", population=4000)),
    ],
)
def test_the_kind_answering_the_assistants_question_asks_the_question_again_with_it(reply, profile):
    asked = "Do we have to publish our data as open data?"
    history = [
        Message(role="user", content=asked),
        Message(
            role="assistant",
            content="It depends… What kind of collectivity is it? How many inhabitants "
            "does it have?",
        ),
    ]

    query = build_query(reply, history)

    assert query.question == asked
    assert query.profile == profile


def test_replies_to_the_assistants_questions_in_a_row_add_up():
    asked = "Must we adopt a REEN strategy?"
    history = [
        Message(role="user", content=asked),
        Message(
            role="assistant",
            content="What kind of collectivity is it? How many inhabitants does it have?",
        ),
        Message(role="user", content="we have 60000 inhabitants"),
        Message(role="assistant", content="It depends… What kind of collectivity is it?"),
    ]

    query = build_query("a communauté de communes", history)

    assert query.question == asked
    assert query.profile == Profile(kind="communauté de communes", population=60000)


def test_a_kind_the_assistant_did_not_ask_for_stays_a_follow_up():
    history = [
        Message(role="user", content="Doit-on publier nos données ?"),
        Message(role="assistant", content="Cela dépend… Combien d'habitants compte-t-elle ?"),
    ]

    query = build_query("une commune", history)

    assert query.question == "une commune"
    assert query.profile is None


def test_a_bare_figure_after_an_answer_that_asked_nothing_stays_a_follow_up():
    history = [
        Message(role="user", content="Combien de collectivités font de l'open data ?"),
        Message(role="assistant", content="600 collectivités [1]."),
    ]

    query = build_query("2017", history)

    assert query.question == "2017"
    assert query.context == "Combien de collectivités font de l'open data ?"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("ADULLACT c koi ?", "ADULLACT c'est quoi ?"),
        ("c qui Pascal Chammas", "c'est qui Pascal Chammas"),
        ("C obligatoire pr nous ?", "C'est obligatoire pour nous ?"),
        ("Pk le RGAA ?", "Pourquoi le RGAA ?"),
        ("kel seuil qd on a 3 agents ?", "quel seuil quand on a 3 agents ?"),
        # Capitals are names and acronyms, a lone letter ending a sentence is a letter.
        ("L'annexe C du rapport DS", "L'annexe C du rapport DS"),
        ("le point c.", "le point c."),
    ],
)
def test_chat_spellings_are_written_out(typed, read):
    assert build_query(typed, []).question == read


def test_an_earlier_question_in_chat_spelling_is_written_out_for_the_follow_up():
    history = [
        Message(role="user", content="c koi le RGAA ?"),
        Message(role="assistant", content="…"),
    ]

    query = build_query("Et pr les communes ?", history)

    assert query.question == "Et pour les communes ?"
    assert query.context == "c'est quoi le RGAA ?"
