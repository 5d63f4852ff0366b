"""Verdicts only where they belong: which questions get one, whose figures count, and the
verdicts an answer gives from the rules of a new PDF indexed with the real embedder and
Chroma, for several profiles."""

from __future__ import annotations

import dataclasses
import re

import pytest
from helpers import index_pdf_guide

from assistant.answering.conditions import asker_figures, contradicted, profile_from
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.rank import SentenceRanker
from assistant.answering.rules import Rulebook
from assistant.answering.verdict import (
    Cited,
    asks_for_verdict,
    rule_for,
    verdict_for,
)
from assistant.query import build_query
from assistant.retrieval.fusion import Hit
from assistant.retrieval.lexical import Bm25Index
from assistant.retrieval.store import StoredChunk
from assistant.schemas import Message, Profile

INVENTORY = (
    "Les communes de plus de 5 000 habitants doivent tenir un inventaire public de leurs "
    "algorithmes de décision."
)
ENCOURAGED = "Les communes de moins de 5 000 habitants sont encouragées à tenir un tel inventaire."
ARCHIVES = (
    "Les intercommunalités de plus de 30 agents sont tenues de désigner un référent pour "
    "l'archivage électronique."
)
PAGES = [
    "Vade-mecum des algorithmes et des archives publics\n\n"
    "Ce vade-mecum a été rédigé par le réseau des secrétaires de mairie en 2025.",
    f"Algorithmes publics\n\n{INVENTORY}\n\n{ENCOURAGED}",
    f"Archivage électronique\n\n{ARCHIVES}",
]
# A verdict line opens the answer: yes, no, or it depends, in either language.
VERDICT = re.compile(r"^(?:Oui|Non|Cela dépend|Yes|No|It depends)\b", re.MULTILINE)


@pytest.mark.parametrize(
    ("question", "profile", "expected"),
    [
        ("Devons-nous tenir un inventaire des algorithmes ?", None, True),
        ("Une commune de 2 000 habitants doit-elle publier ses données ?", None, True),
        ("Les communes doivent-elles publier leurs données ?", Profile(kind="commune"), True),
        (  # a category set apart by its own threshold, not the asker of the profile
            "Les communes de plus de 3 500 habitants doivent-elles ouvrir leurs données ?",
            Profile(kind="commune", population=2_500),
            False,
        ),
        ("Does our town have to publish open data?", None, True),
        ("Les communes doivent-elles publier leurs données ?", None, False),  # no asker
        ("Quelles communes doivent ouvrir leurs données ?", None, False),
        ("Quelles communes doivent ouvrir leurs données ?", Profile(population=12_000), False),
        ("Quelles amendes pour le RGAA ?", Profile(population=12_000), False),
        ("Devons-nous payer une amende si le site n'est pas accessible ?", None, False),
        ("Quand devons-nous publier la déclaration ?", None, False),
        ("C'est quoi le RGAA ?", Profile(kind="commune"), False),
        ("Qui a rédigé le guide ?", Profile(kind="commune"), False),
    ],
)
def test_only_a_yes_or_no_obligation_question_about_the_asker_gets_a_verdict(
    question, profile, expected
):
    assert asks_for_verdict(build_query(question, [], profile)) is expected


def test_a_follow_up_on_sanctions_gets_no_verdict_but_one_on_another_asker_does():
    history = [
        Message(
            role="user", content="Notre commune doit-elle tenir un inventaire des algorithmes ?"
        ),
        Message(role="assistant", content="Cela dépend de votre collectivité…"),
    ]

    assert not asks_for_verdict(build_query("Et les sanctions ?", history))
    assert asks_for_verdict(build_query("Et pour une commune de 12 000 habitants ?", history))


@pytest.mark.parametrize(
    ("question", "figures"),
    [
        ("Notre commune compte 4 200 habitants : doit-elle… ?", {"population": 4_200}),
        (
            "We have 12,000 inhabitants and 80 staff: must we…?",
            {"population": 12_000, "agents": 80},
        ),
        ("Les communes de plus de 3 500 habitants doivent-elles… ?", {}),
        ("Do towns with more than 3,500 inhabitants have to…?", {}),
        ("Are municipalities over 10,000 inhabitants required to…?", {}),
        ("Les communes de 10 000 habitants sont-elles tenues de… ?", {}),
        ("Une communauté de communes de 9 000 habitants peut-elle… ?", {"population": 9_000}),
    ],
)
def test_only_figures_describing_the_asker_are_theirs(question, figures):
    assert asker_figures(question) == figures


SLIDE = StoredChunk(
    "slide",
    "Accompagnement personnalisé des territoires (APT)\n\n"
    "• Communes de moins de 3 500 habitants\n\n"
    "• Intercommunalités de moins de 15000 habitants\n\n"
    "La plateforme partagée\n\n• Outils communs",
    {"doc_id": "slides", "ordinal": 0},
)


@pytest.mark.parametrize(
    ("asker", "expected"),
    [
        ("Une commune de 1 200 habitants", "Oui : avec 1 200 habitants"),
        ("Une communauté de communes de 9 000 habitants", "Oui : avec 9 000 habitants"),
        ("Une commune de 4 000 habitants", "Non : avec 4 000 habitants"),
    ],
)
def test_a_bare_condition_line_answers_an_eligibility_question_for_the_askers_kind(asker, expected):
    query = build_query(f"{asker} peut-elle bénéficier de l'accompagnement personnalisé ?", [])
    cited = [Cited("slide", "Communes de moins de 3 500 habitants", "[1]")]

    line = verdict_for(query, cited, None, [SLIDE]).line.replace("\u202f", " ")

    assert line.startswith(expected)
    wanted = "moins de 15 000" if "communauté" in asker else "moins de 3 500"
    assert wanted in line and len(VERDICT.findall(line)) == 1


def test_a_bare_condition_line_is_no_obligation():
    query = build_query("Une commune de 1 200 habitants doit-elle utiliser la plateforme ?", [])

    assert verdict_for(query, [Cited("slide", "Outils communs", "[1]")], None, [SLIDE]).line is None


def test_a_collectivity_of_another_kind_is_told_so_before_its_population():
    rule = StoredChunk(
        "reen",
        "A compter de 2025, les intercommunalités de plus de 50 000 habitants doivent élaborer "
        "une stratégie numérique responsable.",
        {"doc_id": "reen", "ordinal": 0},
    )
    query = build_query(
        "Devons-nous élaborer une stratégie numérique responsable ?",
        [],
        Profile(kind="commune", population=8_000),
    )
    cited = [Cited("reen", rule.text, "[1]")]

    line = verdict_for(query, cited, None, [rule]).line

    assert line.startswith("Non, pas en tant que telle : cela vise les intercommunalités de plus")
    assert line.endswith("et vous êtes une commune.")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    root = tmp_path_factory.mktemp("verdict-corpus")
    title = "Vade-mecum des algorithmes et des archives publics"
    return index_pdf_guide(root, "vade-mecum.pdf", PAGES, title)


def _verdicts(answer: str) -> list[str]:
    return [line.replace("\u202f", " ") for line in answer.splitlines() if VERDICT.match(line)]


INVENTORY_QUESTION = "Devons-nous tenir un inventaire public de nos algorithmes de décision ?"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("profile", "opening", "says"),
    [
        (
            {"kind": "commune", "population": 12_000},
            "Oui : avec 12 000 habitants",
            "les communes de plus de 5 000 habitants",
        ),
        (
            {"kind": "commune", "population": 3_000},
            "Non : avec 3 000 habitants",
            "les communes de plus de 5 000 habitants",
        ),
        ({"kind": "département"}, "Non, pas en tant que telle", "les communes"),
        ({"kind": "commune"}, "Cela dépend de votre collectivité", "Combien d'habitants"),
    ],
)
def test_one_verdict_from_the_rule_the_question_is_about(assistant, profile, opening, says):
    response = assistant.ask(INVENTORY_QUESTION, profile=profile)

    verdicts = _verdicts(response.answer)
    assert len(verdicts) == 1, response.answer  # never a second, contradicting one
    assert verdicts[0].startswith(opening) and says in verdicts[0]
    assert "encouragées" not in verdicts[0] and "moins de 5 000" not in verdicts[0]
    assert response.citations[0].page == 2


@pytest.mark.integration
@pytest.mark.parametrize(
    ("reply", "opening"),
    [("8000", "Oui : avec 8 000"), ("on a 3 000 habitants", "Non : avec 3 000")],
)
def test_the_population_given_when_asked_decides_the_verdict(assistant, reply, opening):
    asked = assistant.ask(INVENTORY_QUESTION, profile={"kind": "commune"})
    history = [
        {"role": "user", "content": INVENTORY_QUESTION},
        {"role": "assistant", "content": asked.answer},
    ]

    response = assistant.ask(reply, history, profile={"kind": "commune"})

    assert "Combien d'habitants" in asked.answer
    verdicts = _verdicts(response.answer)
    assert len(verdicts) == 1 and verdicts[0].startswith(opening), response.answer


@pytest.mark.integration
def test_the_other_rule_decides_for_its_own_subject(assistant):
    response = assistant.ask(
        "Sommes-nous tenus de désigner un référent pour l'archivage électronique ?",
        profile={"kind": "communauté de communes", "agents": 45},
    )

    verdicts = _verdicts(response.answer)
    assert len(verdicts) == 1, response.answer
    assert verdicts[0].startswith("Oui : avec 45 agents")
    assert "intercommunalités de plus de 30 agents" in verdicts[0]


@pytest.mark.integration
def test_a_threshold_quoted_in_the_question_is_not_the_askers_population(assistant):
    response = assistant.ask(
        "Notre commune est-elle concernée par l'inventaire des algorithmes de décision "
        "imposé aux communes de plus de 5 000 habitants ?"
    )

    verdicts = _verdicts(response.answer)
    assert len(verdicts) == 1, response.answer
    assert verdicts[0].startswith("Cela dépend") and "Combien d'habitants" in verdicts[0]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "profile"),
    [
        ("Qui a rédigé le vade-mecum ?", {"kind": "commune", "population": 12_000}),
        (
            "Devons-nous publier notre budget participatif ?",
            {"kind": "commune", "population": 12_000},
        ),
        ("Quelles communes doivent tenir un inventaire de leurs algorithmes de décision ?", None),
    ],
)
def test_no_verdict_for_a_question_it_does_not_answer(assistant, question, profile):
    response = assistant.ask(question, profile=profile)

    assert _verdicts(response.answer) == [], response.answer
    assert "Combien d'habitants" not in response.answer


@pytest.mark.integration
def test_an_english_question_gets_an_english_verdict_and_french_quotes(assistant):
    response = assistant.ask(
        "We are a town of 12,000 inhabitants: must we keep a public inventory of our "
        "decision algorithms?"
    )

    verdicts = _verdicts(response.answer)
    assert len(verdicts) == 1, response.answer
    assert verdicts[0].startswith("Yes: with 12,000 inhabitants")
    assert "communes with more than 5,000 inhabitants" in verdicts[0]
    quote = response.answer.split("\n- ", 1)[1]
    assert quote.startswith("“") and "Les communes de plus de 5" in quote  # French, quoted


@pytest.mark.integration
def test_an_obligation_question_the_sentences_leave_in_doubt_is_answered_from_its_rule(
    assistant, monkeypatch
):
    answerer = assistant.answerer
    confidence = dataclasses.replace(answerer.ranker.confidence, threshold=1.0)  # never sure
    monkeypatch.setattr(
        answerer, "ranker", dataclasses.replace(answerer.ranker, confidence=confidence)
    )

    ruled = assistant.ask(
        INVENTORY_QUESTION, profile={"kind": "commune", "population": 12_000}, debug=True
    )
    unruled = assistant.ask("Qui a rédigé le vade-mecum ?", profile={"kind": "commune"}, debug=True)

    assert not ruled.abstained
    assert _verdicts(ruled.answer)[0].startswith("Oui : avec 12 000 habitants")
    assert INVENTORY in ruled.answer.replace("\u202f", " ")
    assert ruled.citations[0].page == 2
    assert unruled.abstained  # no rule to answer from: the refusal stands
    assert (ruled.trace["decision"], unruled.trace["decision"]) == ("rule", "refusal")


@pytest.mark.integration
def test_an_english_verdict_names_the_askers_kind_in_the_singular(assistant):
    response = assistant.ask(
        "Must we appoint a referent for electronic archiving?", profile={"kind": "commune"}
    )

    verdicts = _verdicts(response.answer)
    assert len(verdicts) == 1, response.answer
    assert verdicts[0].startswith("No, not as such") and verdicts[0].endswith("you are a commune.")


def test_a_rule_is_found_by_the_name_the_line_before_it_gives():
    law = StoredChunk(
        "law",
        "Loi visant à réduire l'empreinte écologique du numérique ou « REEN » (2021)\n\n"
        "Les intercommunalités de plus de 50 000 habitants doivent élaborer une stratégie "
        "numérique responsable.",
        {"doc_id": "law", "ordinal": 0},
    )
    query = build_query(
        "Notre communauté de communes doit-elle adopter une stratégie REEN ?",
        [],
        Profile(kind="communauté de communes", population=60_000),
    )

    rule = rule_for(query, [law], Rulebook(lambda: [law]), None)

    assert rule is not None and "50 000 habitants" in rule.sentence


SLIDES_OPEN_DATA = (
    "Les collectivités de plus de 3 500 habitants doivent ouvrir leurs données publiques."
)


def _passage(name: str, text: str) -> StoredChunk:
    """The first passage of a document of its own."""
    return StoredChunk(name, text, {"doc_id": name, "ordinal": 0})


def test_no_verdict_ruling_the_asker_out_when_another_rule_on_the_subject_binds_them():
    study = _passage(
        "study", "Les communes de plus de 50 agents doivent ouvrir leurs données publiques."
    )
    slides = _passage("slides", SLIDES_OPEN_DATA)
    query = build_query(
        "Notre agglomération doit-elle ouvrir ses données publiques ?",
        [],
        Profile(kind="communauté d'agglomération", population=80_000),
    )
    cited = [Cited("study", study.text, "[1]")]

    alone = verdict_for(query, cited, Rulebook(lambda: [study]), [study]).line
    gainsaid = verdict_for(query, cited, Rulebook(lambda: [study, slides]), [study]).line

    assert alone.startswith("Non")
    assert gainsaid is None


@pytest.mark.parametrize(("agents", "opening"), [(30, None), (60, "Oui")])
def test_no_verdict_a_quoted_rule_on_the_subject_gainsays(agents, opening):
    slides = _passage("slides", SLIDES_OPEN_DATA)
    study = _passage(
        "study",
        "Les communes de plus de 50 agents et de 3 500 habitants doivent entrer dans une "
        "démarche d'ouverture de leurs données.",
    )
    question = (
        f"Ma commune de 8 000 habitants et {agents} agents doit-elle ouvrir ses données publiques ?"
    )
    query = build_query(question, [], None)
    both = Rulebook(lambda: [slides, study])
    cited = [Cited("slides", slides.text, "[1]"), Cited("study", study.text, "[2]")]

    alone = verdict_for(query, cited[:1], both, [slides]).line
    shown = verdict_for(query, cited, both, [slides, study]).line

    assert alone.startswith("Oui")  # the study's rule, not shown, names too little of it
    assert shown is None if opening is None else shown.startswith(opening)
    # The asker's own staff is no claim about the documents to correct.
    assert contradicted(question, study.text, profile_from(question, None)) == []


def test_no_verdict_when_a_rule_naming_the_same_law_differs_and_it_is_shown():
    # The study's rule names part of what is asked (« données », not « ouvrir »: the noun
    # « ouverture ») and the same law as the slides, by its acronym.
    slides = _passage(
        "slides",
        "Loi pour la Transparence des Services Locaux (2016)\n" + SLIDES_OPEN_DATA,
    )
    study = _passage(
        "study",
        "Par la Loi pour la Transparence des Services Locaux (LTSL), les communes de plus de "
        "50 agents doivent entrer dans une démarche d'ouverture de leurs données.",
    )
    chunks = [slides, study]
    lexical = Bm25Index.build([c.id for c in chunks], [c.text for c in chunks])
    assert "LTSL" in dict(lexical.acronyms)
    query = build_query(
        "Sommes-nous obligés d'ouvrir nos données ?",
        [],
        Profile(kind="commune", population=5_000, agents=30),
    )
    cited = [Cited("slides", SLIDES_OPEN_DATA, "[1]")]

    alone = verdict_for(query, cited, Rulebook(lambda: [slides]), [slides], lexical)
    both = verdict_for(query, cited, Rulebook(lambda: chunks), [slides], lexical)

    assert alone.line.startswith("Oui")
    assert both.line is None and "50 agents" in both.differing.sentence


def test_an_answer_quoting_a_statistic_on_an_obligation_quotes_the_rule_for_its_verdict():
    chunks = [
        StoredChunk(
            "survey",
            "Aujourd'hui, 600 collectivités ouvrent leurs données publiques en open data, "
            "soit 12 % de celles qui y sont tenues.",
            {"doc_id": "survey", "ordinal": 0},
        ),
        StoredChunk(
            "law",
            "Les collectivités de plus de 3 500 habitants doivent ouvrir leurs données "
            "(open data).",
            {"doc_id": "law", "ordinal": 0},
        ),
    ]
    lexical = Bm25Index.build([c.id for c in chunks], [c.text for c in chunks])
    answerer = ExtractiveAnswerer(
        lexical, ranker=SentenceRanker.load().never_refusing(), rulebook=Rulebook(lambda: chunks)
    )
    hits = [
        Hit(c, score=1 / (61 + n), dense=0.88 - 0.1 * n, lexical=None) for n, c in enumerate(chunks)
    ]
    query = build_query(
        "Doit-on ouvrir nos données publiques en open data ?", [], Profile(population=5_000)
    )

    answer = answerer.answer(query, hits).answer.replace("\u202f", " ")

    assert "600 collectivités" in answer
    assert answer.startswith("Oui : avec 5 000 habitants"), answer
    assert "[2]" in answer.splitlines()[0]


@pytest.mark.parametrize(
    "question",
    [
        "Devons-nous tenir un inventaire de nos algorithmes ?",
        "Devons-nous aussi tenir un inventaire de nos algorithmes ?",
        "Doit-on vraiment tenir un inventaire de nos algorithmes ?",
    ],
)
def test_words_that_name_no_subject_do_not_hide_the_rule_asked_about(question):
    rule = StoredChunk("inventory", INVENTORY, {"doc_id": "guide", "ordinal": 0})
    query = build_query(question, [], Profile(kind="commune", population=8_000))

    lexical = Bm25Index.build(["inventory", "archives"], [INVENTORY, ARCHIVES])

    line = verdict_for(query, [Cited("inventory", INVENTORY, "[1]")], None, [rule], lexical).line

    assert line is not None and line.startswith("Oui : avec 8"), line
