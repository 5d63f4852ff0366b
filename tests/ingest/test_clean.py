"""Cleaning extraction noise without changing what the text says."""

import pytest

from ingest.clean import clean_text, display_text, strip_bullet


def test_hyphenated_word_is_joined_when_the_whole_word_occurs_elsewhere():
    text = "Il faut élabo-\nrer une stratégie. Élaborer prend du temps."

    assert clean_text(text) == "Il faut élaborer une stratégie. Élaborer prend du temps."


def test_real_hyphen_at_a_line_end_is_kept_and_only_the_break_goes():
    assert clean_text("Les communes-\nmembres votent.") == "Les communes-membres votent."


def test_hyphenation_across_an_indented_line_is_joined():
    text = "La dématé-\n   rialisation avance ; la dématérialisation coûte."

    assert clean_text(text).startswith("La dématérialisation avance")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("• Accessibilité des sites", "Accessibilité des sites"),
        ("* Porter une vision politique", "Porter une vision politique"),
        ("¢ Outiller les collectivités", "Outiller les collectivités"),
        ("» Calendrier", "Calendrier"),
        ("P> Ordre du jour", "Ordre du jour"),
        ("} Les partenaires", "Les partenaires"),
        ("- Open data", "Open data"),
        ("e Communes de moins de 3 500 habitants", "Communes de moins de 3 500 habitants"),
        ("o Intercommunalités", "Intercommunalités"),
    ],
)
def test_bullet_glyphs_are_stripped(line, expected):
    assert strip_bullet(line) == expected


@pytest.mark.parametrize(
    "line",
    ["e-administration des communes", "office de tourisme", "Paris accueille la plénière"],
)
def test_words_that_look_like_bullets_are_kept(line):
    assert strip_bullet(line) == line


def test_ocr_bullet_glyphs_become_one_real_bullet_so_items_stay_apart():
    text = "Obligations :\n•   Accessibilité\n* Données ouvertes\ne Cybersécurité\n¢ RGPD"

    assert clean_text(text).split("\n") == [
        "Obligations :",
        "• Accessibilité",
        "• Données ouvertes",
        "• Cybersécurité",
        "• RGPD",
    ]


def test_a_bullet_with_nothing_after_it_is_dropped():
    assert clean_text("Titre de la diapo\n• r\nSuite du texte") == (
        "Titre de la diapo\n\nSuite du texte"
    )


def test_runs_of_blank_lines_collapse_to_one_paragraph_break():
    text = "Premier paragraphe\n\n\n\n\nDeuxième paragraphe\n \n\t\n\nTroisième"

    assert clean_text(text) == "Premier paragraphe\n\nDeuxième paragraphe\n\nTroisième"


def test_lone_glyph_lines_are_dropped_but_short_numbers_kept():
    text = "Calendrier\nr\n>\n&\n12\nréunions prévues"

    cleaned = clean_text(text)

    assert cleaned.split("\n") == ["Calendrier", "", "12", "réunions prévues"]


def test_apostrophes_are_normalised_and_doubles_collapsed():
    text = "Engagée en faveur d’'une politique et d''un plan, l’État l‘a voulu."

    assert clean_text(text) == "Engagée en faveur d'une politique et d'un plan, l'État l'a voulu."


def test_spaces_are_normalised_including_non_breaking_ones():
    text = "50\u00a0000   habitants\u202fet\tplus\r\nde communes"

    assert clean_text(text) == "50 000 habitants et plus\nde communes"


def test_soft_hyphens_disappear():
    assert clean_text("numé\u00adrique responsable") == "numérique responsable"


def test_display_text_joins_lines_and_keeps_paragraphs():
    assert display_text("ligne un\nligne deux\n\n\nparagraphe deux") == (
        "ligne un ligne deux\nparagraphe deux"
    )
