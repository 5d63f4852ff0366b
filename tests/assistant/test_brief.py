"""Facilitator briefs: statements grouped by speaker."""

from assistant.answering.brief import group_by_speaker


def test_one_speaker_spelt_two_ways_by_the_text_recognition_is_one_bullet():
    quotes = [
        ("Corentin Leblanc (CA Villefranche Beaujolais Saéne)", "Un effet ciseau.", "[1]"),
        ("Marie Dupont (CC du Pays de Lacq)", "Des outils communs.", "[2]"),
        ("Corentin Leblanc (CA Villefranche Beaujolais Sadne)", "Une faible visibilité.", "[3]"),
        ("Corentin Leblanc (Agglopolys)", "Un homonyme ailleurs.", "[4]"),
    ]

    brief = group_by_speaker(quotes, "fr", str)

    bullets = brief.splitlines()[1:]
    assert bullets == [
        "- **Corentin Leblanc (CA Villefranche Beaujolais Saéne)** : « Un effet ciseau. » [1] "
        "; « Une faible visibilité. » [3]",
        "- **Marie Dupont (CC du Pays de Lacq)** : « Des outils communs. » [2]",
        "- **Corentin Leblanc (Agglopolys)** : « Un homonyme ailleurs. » [4]",
    ]
