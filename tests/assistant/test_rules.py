"""Rules read from sentences: what binds and whom, thresholds, deadlines, sanctions, themes;
what only encourages, allows or describes is not a rule; the cache by passage content."""

from __future__ import annotations

import json

import pytest

from assistant.answering.rules import (
    RULES_FILE,
    Rulebook,
    deadline_in,
    extract_rules,
    kinds_in,
    theme_of,
)
from assistant.retrieval.store import StoredChunk


def only_rule(text: str):
    rules = extract_rules(text)
    assert len(rules) == 1, [r.sentence for r in rules]
    return rules[0]


@pytest.mark.parametrize(
    "sentence, kinds, thresholds, asks",
    [
        (
            "Les communes de plus de 10 000 habitants doivent publier leur schéma de sobriété.",
            ["commune"],
            [(True, 10_000, "habitants")],
            "Publier leur schéma de sobriété.",
        ),
        (
            "Les départements sont tenus de désigner un référent pour la cybersécurité.",
            ["département"],
            [],
            "Désigner un référent pour la cybersécurité.",
        ),
        (
            "Les établissements publics de moins de 50 agents ont l'obligation de tenir un "
            "registre des traitements.",
            [],
            [(False, 50, "agents")],
            "Tenir un registre des traitements.",
        ),
        (
            "La déclaration d'accessibilité est obligatoire pour les régions.",
            ["région"],
            [],
            "La déclaration d'accessibilité est obligatoire pour les régions.",
        ),
        (
            "Le règlement s'applique aux communautés de communes de plus de 20 000 habitants.",
            ["communauté de communes"],
            [(True, 20_000, "habitants")],
            "Le règlement s'applique aux communautés de communes de plus de 20 000 habitants.",
        ),
        (
            "Local authorities must publish an accessibility statement.",
            [],
            [],
            "Publish an accessibility statement.",
        ),
    ],
)
def test_a_binding_sentence_becomes_a_rule_with_whom_and_what(sentence, kinds, thresholds, asks):
    rule = only_rule(sentence)

    assert rule.kinds == kinds
    assert [(t.more_than, t.value, t.unit) for t in rule.thresholds] == thresholds
    assert rule.asks == asks
    assert sentence[rule.start : rule.end] == rule.sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Les communes de moins de 10 000 habitants sont encouragées à ouvrir leurs données.",
        "Les collectivités peuvent adopter une charte de la donnée.",
        "Il est recommandé aux communes de nommer un référent numérique.",
        "Les intercommunalités pourront mutualiser leur délégué à la protection des données.",
        "Cette obligation ne s'applique pas aux communes de moins de 3 500 habitants.",
        "La publication n'est pas obligatoire pour les départements.",
        "Quelles collectivités doivent ouvrir leurs données ?",
        "Le numérique doit aller de pair avec une présence physique sur les territoires.",
        "Ce sont les défis auxquels les collectivités doivent répondre.",
        "Les collectivités devraient mieux partager leurs données.",
        "600 collectivités publient des données ouvertes.",
        "Selon Jeanne Martin, les communes doivent mutualiser leurs achats.",
        "Les élus estiment que les intercommunalités doivent porter la stratégie.",
        "Les acteurs publics locaux doivent prendre garde à contenir les effets des réformes.",
        "Les communes doivent rester vigilantes sur le coût des logiciels.",
    ],
)
def test_what_encourages_allows_negates_asks_reports_describes_or_cautions_is_no_rule(sentence):
    assert extract_rules(sentence) == []


def test_what_a_law_says_is_a_rule_whoever_reports_it():
    rules = extract_rules(
        "Selon la loi, les communes de plus de 3 500 habitants doivent publier leurs données."
    )

    assert [r.asks for r in rules] == ["Publier leurs données."]


def test_a_sentence_binding_some_and_encouraging_others_keeps_only_the_binding_clause():
    rule = only_rule(
        "Les communes de plus de 10 000 habitants doivent publier un schéma ; celles de moins "
        "de 10 000 habitants sont encouragées à le faire."
    )

    assert [(t.more_than, t.value) for t in rule.thresholds] == [(True, 10_000)]


def test_a_lead_in_with_actions_gives_one_rule_per_action_with_the_lead_ins_threshold():
    text = (
        "Les collectivités de plus de 3 500 habitants doivent :\n"
        "• Ouvrir leurs données publiques\n"
        "• Héberger leurs données sur le territoire\n\n"
        "Ce mouvement est ancien."
    )

    rules = extract_rules(text)

    assert [r.asks for r in rules] == [
        "Ouvrir leurs données publiques",
        "Héberger leurs données sur le territoire",
    ]
    assert all(r.thresholds[0].value == 3_500 for r in rules)


def test_the_deadline_is_read_as_written_and_as_a_date():
    rule = only_rule(
        "À compter du 1er janvier 2026, les régions doivent publier leur stratégie de données."
    )

    assert rule.deadline == "À compter du 1er janvier 2026"
    assert rule.deadline_date == "2026-01-01"


@pytest.mark.parametrize(
    "text, written, date",
    [
        ("avant le 30 juin 2027", "avant le 30 juin 2027", "2027-06-28"),
        ("d'ici mai 2018", "d'ici mai 2018", "2018-05-01"),
        ("depuis 2016", "depuis 2016", "2016-01-01"),
        ("trois ans après sa publication", "trois ans après sa publication", None),
        ("la loi pour une République numérique (2016)", None, None),
    ],
)
def test_deadlines_and_delays(text, written, date):
    assert deadline_in(text) == (written, date)


def test_the_sanction_comes_from_the_next_sentence_when_the_rule_has_none():
    rule = only_rule(
        "Les communes doivent rendre leurs sites accessibles. En cas de manquement, une "
        "amende de 20 000 € peut être prononcée."
    )

    assert rule.sanction is not None and "20 000 €" in rule.sanction


def test_the_next_rules_sanction_is_not_taken():
    rules = extract_rules(
        "Les communes doivent publier un schéma. Les régions doivent tenir un registre. "
        "Une amende de 5 000 € sanctionne l'absence de registre."
    )

    assert [r.sanction is None for r in rules] == [True, False]


def test_a_sentence_about_what_the_previous_rule_asks_goes_on_with_its_addressee():
    rules = extract_rules(
        "Les communes de plus de 3 500 habitants doivent publier un registre des traitements. "
        "Le registre doit être mis à jour trois ans après sa publication. "
        "Le projet doit permettre de grandir."
    )

    assert [r.asks for r in rules] == [
        "Publier un registre des traitements.",
        "Le registre doit être mis à jour trois ans après sa publication.",
    ]
    assert rules[1].kinds == ["commune"] and rules[1].thresholds[0].value == 3_500
    assert rules[1].deadline == "trois ans après sa publication"


def test_kinds_are_read_most_specific_first():
    assert kinds_in("les communautés de communes et les départements") == [
        "communauté de communes",
        "département",
    ]
    assert kinds_in("toutes les collectivités") == []


@pytest.mark.parametrize(
    "sentence, theme",
    [
        ("Publier une déclaration d'accessibilité.", "Accessibilité"),
        ("Désigner un délégué à la protection des données (RGPD).", "Données personnelles"),
        ("Ouvrir leurs données publiques en open data.", "Données publiques"),
        ("Notifier les incidents de cybersécurité.", "Sécurité"),
        ("Élaborer une stratégie numérique responsable.", "Numérique responsable"),
        ("Évaluer les systèmes d'intelligence artificielle.", "Intelligence artificielle"),
        ("Tenir les réunions du conseil.", "Autres obligations"),
    ],
)
def test_the_theme_comes_from_the_words_of_the_rule(sentence, theme):
    assert theme_of(sentence) == theme


def test_the_heading_decides_the_theme_when_the_sentence_names_none():
    assert theme_of("Publier le document avant juin.", heading="Accessibilité numérique") == (
        "Accessibilité"
    )


def chunk(chunk_id: str, text: str, ordinal: int, **meta) -> StoredChunk:
    return StoredChunk(
        chunk_id,
        text,
        {"doc_id": "guide", "title": "Guide", "ordinal": ordinal, "locator": "p. 1", **meta},
    )


def test_a_rulebook_reads_each_passage_once_and_caches_it_by_content(tmp_path, monkeypatch):
    cache = tmp_path / RULES_FILE
    chunks = [
        chunk("a", "Les communes doivent publier un schéma d'accessibilité.", 0, page=3),
        chunk("b", "Les régions doivent tenir un registre des traitements.", 1),
        chunk("c", "Marie Dupont : les régions doivent tout ouvrir.", 2, speakers="Marie Dupont"),
    ]

    rules = Rulebook(lambda: chunks, cache=cache).rules

    assert [(r.chunk_id, r.theme, r.page) for r in rules] == [
        ("a", "Accessibilité", 3),
        ("b", "Données personnelles", None),
    ]  # a participant's words in a meeting are not a rule
    stored = json.loads(cache.read_text(encoding="utf-8"))["passages"]
    assert len(stored) == 2  # one entry per passage read

    calls = []
    import assistant.answering.rules as rules_module

    real = rules_module.extract_rules
    monkeypatch.setattr(rules_module, "extract_rules", lambda *a: calls.append(a) or real(*a))
    changed = [chunks[0], chunk("b", "Les départements doivent tenir un registre.", 1)]

    again = Rulebook(lambda: changed, cache=cache).rules

    assert len(calls) == 1  # only the changed passage is read again
    assert [r.kinds for r in again] == [["commune"], ["département"]]
    assert len(json.loads(cache.read_text(encoding="utf-8"))["passages"]) == 2


def test_overlapping_passages_state_a_rule_once():
    sentence = "Les communes doivent publier un schéma d'accessibilité."
    chunks = [chunk("a", f"Intro. {sentence}", 0), chunk("b", sentence, 1)]

    assert len(Rulebook(lambda: chunks).rules) == 1


def test_an_unreadable_cache_is_read_again_not_fatal(tmp_path):
    cache = tmp_path / RULES_FILE
    cache.write_text("{not json", encoding="utf-8")

    rules = Rulebook(lambda: [chunk("a", "Les régions doivent publier un bilan.", 0)], cache).rules

    assert len(rules) == 1
    assert json.loads(cache.read_text(encoding="utf-8"))["version"]
