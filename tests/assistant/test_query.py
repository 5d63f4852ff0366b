"""Question analysis: follow-up detection and the noun a question asks about."""

import pytest

from assistant.query import question_focus


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
