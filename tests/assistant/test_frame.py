"""The question frame: what kind of answer a question calls for."""

import pytest

from assistant.answering.brief import brief_topic
from assistant.answering.frame import frame_of
from assistant.query import build_query


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("Quand les collectivités doivent-elles être conformes à l'IA Act ?", "date"),
        ("Combien de collectivités font de l'open data ?", "number"),
        ("Quelles fonctions occupe Jeanne Martin ?", "role"),
        ("Ma communauté de communes doit-elle adopter une stratégie REEN ?", "condition"),
        ("Quels sont les critères du baromètre ?", "list"),
        ("Que disent les intervenants sur la mutualisation ?", "brief"),
        ("Parle-moi du numérique responsable.", "other"),
    ],
)
def test_the_answer_type_follows_what_the_question_asks(question, answer_type):
    assert frame_of(build_query(question, [])).answer_type == answer_type


def test_figures_the_question_gives_are_not_answers_and_its_claims_are_checked():
    frame = frame_of(build_query("L'amende de 10 000 € du RGAA date de 2017 ?", []))

    assert {"10 000", "2017"} <= frame.asked_figures
    assert frame.claimed_units == {"€"}
    assert not frame.follow_up


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("qui a dit quoi sur la donnée ?", "sur la donnée ?"),
        ("qui a parlé de mutualisation ?", "de mutualisation ?"),
        ("Who said what about open data?", "about open data?"),
        ("Qu'a dit Damien Bertrand sur les coûts ?", "Damien Bertrand sur les coûts ?"),
    ],
)
def test_a_brief_is_about_what_the_question_leaves_once_who_said_what_is_gone(question, topic):
    assert brief_topic(question) == topic
