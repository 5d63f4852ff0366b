"""Definition questions: recognised by their form in French and English, and answered from
a PDF indexed with the real embedder and Chroma, where an acronym is defined on one page
and used on another."""

from __future__ import annotations

import re

import pytest
from helpers import index_pdf_guide

from assistant.answering import definitions
from assistant.answering.definitions import definition_answer, definition_term
from assistant.query import build_query
from assistant.retrieval.fusion import Hit
from assistant.retrieval.store import StoredChunk

TITLE = "Schéma territorial du numérique"
DEFINED = (
    "Le Plan Local de Sobriété Numérique (PLSN) fixe les objectifs de la commune en matière "
    "d'usages numériques."
)
PAGES = [
    f"{TITLE}\n\n{DEFINED} Il est suivi par la Direction des Données Partagées (DDP).",
    "Mise en oeuvre\n\nLe PLSN est révisé tous les trois ans. Chaque service transmet son "
    "bilan annuel à l'équipe chargée du PLSN. Le suivi est confié à l'Agence Régionale du "
    "Numérique ou ARN.",
    "Gouvernance\n\nLe comité des usages numériques est une instance qui réunit les élus et "
    "les agents chaque trimestre. La commune publie un rapport annuel.",
    "Engagements\n\nLa commune a signé la charte pour un accueil numérique inclusif, dite "
    "« CANI », en 2024. La CANI prévoit un point d'accueil dans chaque mairie.",
]


@pytest.mark.parametrize(
    "question, term",
    [
        ("C'est quoi le RGAA ?", "RGAA"),
        ("Qu'est-ce que la loi REEN ?", "loi REEN"),
        ("qu’est-ce que le numérique responsable ?", "numérique responsable"),
        ("Qu'est-ce que c'est, le RGAA ?", "RGAA"),
        ("le DPO c'est qui ?", "DPO"),
        ("RGAA, c'est quoi ?", "RGAA"),
        ("que veut dire DSP ?", "DSP"),
        ("Que veut dire l'acronyme DSP ?", "DSP"),
        ("Que signifie « SDIT » ?", "SDIT"),
        ("Quelle est la définition du numérique responsable ?", "numérique responsable"),
        ("What is NIS 2?", "NIS 2"),
        ("What's the GDPR?", "GDPR"),
        ("What does RGAA stand for?", "RGAA"),
    ],
)
def test_definition_questions_are_recognised_and_their_term_extracted(question, term):
    assert definition_term(question) == term


@pytest.mark.parametrize(
    "question",
    [
        "Qu'est-ce que la collectivité doit faire ?",
        "Qu'est-ce que la commune risque ?",
        "Qu'est-ce qu'on risque ?",
        "Qu'est-ce qui s'applique à nous ?",
        "c'est quoi ça ?",
        "Quelles communes doivent ouvrir leurs données ?",
        "Quand le RGAA est-il entré en vigueur ?",
        "How many municipalities answered the survey?",
        "What are the two main issues it highlights?",
    ],
)
def test_other_questions_are_not_definition_questions(question):
    assert definition_term(question) is None


def test_the_tagger_is_only_loaded_for_a_term_that_may_be_a_clause(monkeypatch):
    def no_tagger():
        raise AssertionError("spaCy loaded")

    monkeypatch.setattr(definitions, "french_tagger", no_tagger)

    assert definition_term("C'est quoi le numérique responsable ?") == "numérique responsable"
    assert definition_term("Qu'est-ce que la loi REEN ?") == "loi REEN"
    with pytest.raises(AssertionError, match="spaCy loaded"):
        definition_term("Qu'est-ce que la commune risque ?")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    root = tmp_path_factory.mktemp("definitions-corpus")
    return index_pdf_guide(root, "schema.pdf", PAGES, TITLE)


def cited_markers(answer: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", answer)}


@pytest.mark.integration
def test_an_acronym_is_answered_with_its_expansion_cited_to_the_page_defining_it(assistant):
    response = assistant.ask("C'est quoi le PLSN ?")

    assert response.answerer == "definition" and not response.abstained
    lead, quote = response.answer.split("\n")
    assert lead == "PLSN : Plan Local de Sobriété Numérique [1]"
    assert DEFINED in " ".join(quote.split())
    assert [c.page for c in response.citations] == [1]
    assert cited_markers(response.answer) == {c.n for c in response.citations}


@pytest.mark.integration
def test_an_english_question_gets_an_english_lead_and_the_french_quote(assistant):
    response = assistant.ask("What does PLSN stand for?")

    assert response.language == "en" and response.answerer == "definition"
    assert response.answer.startswith(
        "PLSN stands for “Plan Local de Sobriété Numérique” (quoted in French) [1]"
    )
    assert "- “Le Plan Local de Sobriété Numérique (PLSN)" in response.answer
    assert response.citations[0].page == 1


@pytest.mark.integration
def test_an_expansion_opening_on_a_small_word_gets_its_first_word_back(assistant):
    # Schwartz–Hearst's shortest match for DDP is "des Données Partagées".
    response = assistant.ask("Que veut dire DDP ?")

    assert response.answer.startswith("DDP : Direction des Données Partagées [1]")


@pytest.mark.integration
def test_an_acronym_named_after_or_is_answered_with_its_expansion(assistant):
    response = assistant.ask("C'est quoi l'ARN ?")

    assert response.answerer == "definition"
    assert response.answer.startswith("ARN : Agence Régionale du Numérique [1]")
    assert [c.page for c in response.citations] == [2]


@pytest.mark.integration
def test_a_term_is_answered_from_the_sentence_introducing_it(assistant):
    response = assistant.ask("Qu'est-ce que le comité des usages numériques ?")

    assert response.answerer == "definition"
    assert response.answer.startswith("D'après les documents :\n- Le comité des usages")
    assert "est une instance qui réunit" in response.answer
    assert "rapport annuel" not in response.answer
    assert [c.page for c in response.citations] == [3]


@pytest.mark.integration
def test_an_acronym_named_after_its_description_is_answered_from_that_sentence(assistant):
    response = assistant.ask("C'est quoi la CANI ?")

    assert response.answerer == "definition"
    assert "dite « CANI »" in response.answer.split("\n")[1]
    assert [c.page for c in response.citations] == [4]


@pytest.mark.integration
def test_a_term_the_document_does_not_define_goes_to_the_normal_answerer(assistant):
    question = "C'est quoi le SQRT ?"
    query = build_query(question, [], None)
    hits = assistant.retriever.retrieve(query.text, 5, lexical_query=query.lexical)

    assert definition_answer(query, hits, assistant.retriever) is None
    assert assistant.ask(question).answerer != "definition"


@pytest.mark.integration
def test_one_named_thing_of_a_kind_is_not_defined_by_what_the_kind_stands_for(assistant):
    # « la DDP Nord » is one DDP, named Nord: « Direction des Données Partagées » does not
    # say which, or what it does.
    assert assistant.ask("C'est quoi la DDP ?").answerer == "definition"
    assert assistant.ask("C'est quoi la DDP Nord ?").answerer != "definition"


@pytest.mark.integration
def test_a_question_on_what_the_acronym_requires_is_no_definition(assistant):
    response = assistant.ask("Qu'est-ce que le PLSN impose aux services ?")

    assert response.answerer != "definition"


@pytest.mark.integration
def test_the_streamed_definition_is_the_same(assistant):
    events = list(assistant.ask_stream("C'est quoi le PLSN ?"))

    assert events[-1].response.answerer == "definition"
    assert "".join(e.text for e in events if e.type == "delta") == events[-1].response.answer


@pytest.mark.parametrize("speakers", ["Marie Dupont", ""])
def test_a_speaker_s_words_are_no_glossary_line_of_their_name(speakers):
    text = "Marie Dupont : nous avons lancé la démarche en 2020 avec les communes."
    hit = Hit(StoredChunk("pv", text, {"doc_id": "d", "speakers": speakers}), 0.1, 0.9)

    draft = definition_answer(build_query("Marie Dupont, c'est qui ?", []), [hit])

    # Said by her, the line reports her words; in a glossary, it would define the name.
    assert (draft is None) == bool(speakers)
