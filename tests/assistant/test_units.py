"""Sentence units: the segmenter, and each sentence's context (title, heading, lead-in)."""

import pytest

from assistant.retrieval.units import passage_sentences, sentence_units, split_sentences


@pytest.mark.parametrize(
    "text",
    [
        "Conformément à l'art. L. 1112-23 du CGCT, le maire publie les actes.",
        "Le rapport le rappelle p. 12 et cf. annexe n° 3 pour le détail.",
        "M. Dupont et Mme Martin représentent la commune.",
        "Les communes de moins de 3 500 hab. en 2020 sont exemptées.",
    ],
)
def test_an_abbreviation_does_not_end_the_sentence(text):
    assert split_sentences(text) == [text]


def test_sentences_are_cut_at_their_ends():
    text = (
        "Selon l'art. L. 1112-23 du CGCT, le maire publie. Le seuil est de 50 000 habitants. "
        "« La loi REEN » s'applique en 2025. Voir aussi etc. La suite !"
    )

    assert split_sentences(text) == [
        "Selon l'art. L. 1112-23 du CGCT, le maire publie.",
        "Le seuil est de 50 000 habitants.",
        "« La loi REEN » s'applique en 2025.",
        "Voir aussi etc.",
        "La suite !",
    ]


def test_a_figure_alone_on_its_line_joins_its_label():
    text = "Chiffres clés\n45 %\nCommunes équipées d'un DPO\n\nTaux de couverture\n78 %"

    assert sentence_units(text) == [
        "Chiffres clés",
        "45 % Communes équipées d'un DPO",
        "Taux de couverture 78 %",
    ]


def test_a_sentence_the_page_layout_broke_with_a_blank_line_is_whole_again():
    text = (
        "* Les sites doivent être accessibles (moteur, sensoriel, cognitif,\n\npsychique)\n\n"
        "* Publier une déclaration,\n\nAfficher le niveau de conformité"
    )

    assert sentence_units(text) == [
        "* Les sites doivent être accessibles (moteur, sensoriel, cognitif, psychique)",
        "* Publier une déclaration,",
        "Afficher le niveau de conformité",  # a capital opens a new line: not mended
    ]


def test_each_sentence_keeps_its_title_heading_and_list_lead_in():
    text = (
        "Les collectivités de plus de 3 500 habitants doivent :\n"
        "• publier leurs données ;\n"
        "• désigner un délégué.\n"
        "Le calendrier suit."
    )

    units = passage_sentences("doc:1", text, "Guide de l'open data", "Obligations")

    assert [u.text for u in units] == [
        "Les collectivités de plus de 3 500 habitants doivent :",
        "publier leurs données ;",
        "désigner un délégué.",
        "Le calendrier suit.",
    ]
    assert units[0].context == "Guide de l'open data — Obligations"
    assert units[1].context == (
        "Guide de l'open data — Obligations — "
        "Les collectivités de plus de 3 500 habitants doivent :"
    )
    assert units[3].context == "Guide de l'open data — Obligations"
    assert {u.chunk_id for u in units} == {"doc:1"}


def test_a_sentence_key_changes_with_its_context_only():
    first = passage_sentences("a", "Le seuil est de 50 000 habitants.", "Titre", "Section")[0]
    moved = passage_sentences("b", "Le seuil est de 50 000 habitants.", "Titre", "Section")[0]
    renamed = passage_sentences("a", "Le seuil est de 50 000 habitants.", "Titre", "Autre")[0]

    assert first.key == moved.key  # the same sentence elsewhere keeps its vector
    assert first.key != renamed.key
