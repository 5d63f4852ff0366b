"""The noun a question asks about, and whether quoted sentences name it."""

import pytest

from assistant.answering.focus import mentions_focus, named_subjects, question_focus, terms
from assistant.glossary import query_concepts
from assistant.retrieval.fusion import Hit
from assistant.retrieval.lexical import Bm25Index
from assistant.retrieval.store import StoredChunk


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
        ("Quels sont les 3 dispositifs de l'ANCT ?", "dispositifs", False),
        ("What are the main schemes?", "schemes", False),
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
        "Quels sont les 10 étapes de la feuille de route ?",  # "sont" is no noun
        "Quelles sont-elles ?",
    ],
)
def test_question_focus_ignores_value_nouns_and_open_questions(question):
    assert question_focus(question) is None


def _quote(text: str, heading: str = "", publisher: str = "") -> tuple[str, Hit]:
    meta = {"doc_id": "d", "title": "Rapport", "heading": heading, "publisher": publisher}
    return text, Hit(StoredChunk("c", text, meta), 1.0, 0.9)


LEXICAL = Bm25Index.build(
    ["a", "b"],
    [
        "Le conseil a pris trois décisions sur le budget.",
        "600 collectivités publient leurs données ; 50 000 habitants au moins.",
    ],
)


def test_a_quote_naming_the_focus_noun_mentions_it():
    quotes = [_quote("Le conseil a pris trois décisions sur le budget.")]

    assert mentions_focus("Quelles décisions le conseil a-t-il prises ?", "fr", quotes, LEXICAL)


def test_a_quote_about_the_topic_only_does_not_mention_the_focus():
    quotes = [_quote("Le budget du numérique augmente chaque année.")]

    assert not mentions_focus("Quelles décisions le conseil a-t-il prises ?", "fr", quotes, LEXICAL)


def test_the_heading_of_the_quoted_passage_counts():
    quotes = [_quote("Informer et conseiller le conseil.", heading="Les décisions")]

    assert mentions_focus("Quelles décisions le conseil a-t-il prises ?", "fr", quotes, LEXICAL)


def test_a_count_question_needs_a_count_of_the_focus_noun():
    question = "Combien de collectivités publient leurs données ?"

    assert mentions_focus(question, "fr", [_quote("600 collectivités publient.")], LEXICAL)
    assert not mentions_focus(
        question, "fr", [_quote("Les collectivités de 50 000 habitants publient.")], LEXICAL
    )


def test_a_question_without_focus_noun_is_always_met():
    assert mentions_focus("Depuis quand la loi s'applique-t-elle ?", "fr", [], LEXICAL)


@pytest.mark.parametrize(
    ("question", "subjects"),
    [
        ("Quelle amende risque une collectivité qui ne respecte pas NIS 2 ?", ["NIS 2"]),
        ("Quelles sanctions prévoit le RGAA ou le RGPD ?", ["RGAA", "RGPD"]),
        ("Ma CC de 32 000 habitants est-elle concernée ?", []),  # a kind, not a subject
        ("Quelles décisions ont été prises ?", []),
    ],
)
def test_named_subjects_are_the_acronyms_of_regulations_and_bodies(question, subjects):
    assert named_subjects(question) == subjects


def test_the_focus_about_another_regulation_does_not_count():
    question = "Quelle amende risque une collectivité qui ne respecte pas NIS 2 ?"
    rgaa_fine = "En cas de manquement, l'Arcom peut imposer des amendes de 50 000 €."

    assert not mentions_focus(question, "fr", [_quote(rgaa_fine, heading="RGAA")], LEXICAL)
    assert mentions_focus(question, "fr", [_quote(rgaa_fine, heading="NIS 2")], LEXICAL)


def test_a_subject_naming_the_document_is_met_by_its_publisher():
    question = "Quelles décisions le Flash de l'ANPP rapporte-t-il ?"
    quote = "Le conseil a pris trois décisions sur le budget."

    assert mentions_focus(question, "fr", [_quote(quote, publisher="ANPP")], LEXICAL)
    assert not mentions_focus(question, "fr", [_quote(quote, publisher="CNAM")], LEXICAL)


def test_passage_terms_read_an_acronym_whose_i_ocr_took_for_an_l():
    # "l'lA" is how OCR renders "l'IA": the sentence speaks of artificial intelligence.
    assert {"ia", "intelligent", "artificiel"} <= terms("Expérimentation sur l'lA (Delibia)")
    assert "ia" not in terms("la ville de Nancy")


def test_ia_and_its_expansion_form_one_concept():
    (concept,) = [c for c in query_concepts("intelligence artificielle") if "ia" in c]
    assert {"intelligent", "artificiel"} <= concept
