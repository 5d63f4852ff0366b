"""What the corpus teaches about its own words: defined acronyms and OCR misreadings, read
from texts that are not the project's corpus."""

from __future__ import annotations

from collections import Counter

from assistant.retrieval.lexical import Bm25Index, words_and_tokens
from assistant.retrieval.vocabulary import acronym_pairs, long_form, ocr_corrections, ocr_readings

DEFINITION = "La commune confie son réseau à une société publique locale (SPL) en 2024."
USE = "La SPL gère désormais le réseau de chaleur et les bornes de recharge."


def test_an_acronym_defined_after_its_long_form_is_found():
    assert acronym_pairs([DEFINITION]) == [("SPL", "société publique locale")]


def test_an_acronym_followed_by_its_long_form_is_found():
    text = "Le SIVU (Syndicat intercommunal à vocation unique) gère l'eau."
    assert acronym_pairs([text]) == [("SIVU", "Syndicat intercommunal à vocation unique")]


def test_an_acronym_named_after_or_or_before_a_dash_is_found():
    text = (
        "Le schéma directeur territorial d'aménagement numérique ou « SDTAN » est révisé. "
        "Voir le RGAA - Référentiel général\nd'accessibilité des administrations, puis"
    )
    assert acronym_pairs([text]) == [
        ("SDTAN", "schéma directeur territorial d'aménagement numérique"),
        ("RGAA", "Référentiel général d'accessibilité des administrations"),
    ]
    # Neither names what its letters do not spell.
    assert acronym_pairs(["La CAF ou Pôle emploi.", "ANPP - Territoires de projet"]) == []


def test_parentheses_that_define_nothing_give_no_pair():
    assert acronym_pairs(["Les communes (voir annexe 2) et la CNIL (2024) répondent."]) == []
    assert long_form("RGAA", "les sites des collectivités") is None


def test_a_question_in_long_form_finds_the_passage_using_only_the_acronym():
    filler = [f"Le conseil municipal vote le budget numéro {n}." for n in range(5)]
    index = Bm25Index.build(["definition", "use", *map(str, range(5))], [DEFINITION, USE, *filler])
    found = [i for i, _ in index.search("Que sait-on de la société publique locale ?", 3)]
    assert "use" in found  # it shares no word with the question but "SPL"


def test_a_rare_misreading_of_a_frequent_word_is_read_as_that_word():
    texts = ["Les intercommunalités mutualisent leurs services."] * 9 + [
        "Les infercommunalités rurales manquent de moyens."
    ]
    counts = Counter(pair for text in texts for pair in words_and_tokens(text))
    corrections = ocr_corrections(counts, is_word=lambda word: word != "infercommunalités")
    (misread,) = corrections
    assert corrections[misread] == dict(words_and_tokens("intercommunalités"))["intercommunalités"]

    index = Bm25Index.build([str(n) for n in range(10)], texts)
    assert index.search("intercommunalités rurales", 1)[0][0] == "9"


def test_a_rare_word_of_the_language_is_left_alone():
    texts = ["Les communes votent."] * 9 + ["Les communs sont partagés."]
    counts = Counter(pair for text in texts for pair in words_and_tokens(text))
    assert ocr_corrections(counts, is_word=lambda word: True) == {}


def _readings(texts: list[str], words: set[str]) -> dict[str, str]:
    counts = Counter(pair for text in texts for pair in words_and_tokens(text))
    is_word = words.__contains__
    return ocr_readings(counts, ocr_corrections(counts, is_word), is_word)


def test_a_reader_sees_the_word_a_rare_misreading_stands_for():
    texts = ["Le travail des agents avance."] * 9 + ["Le fravail continue."]
    assert _readings(texts, {"travail", "agents", "avance", "continue"}) == {"fravail": "travail"}


def test_a_misreading_repeated_on_a_few_pages_is_still_read_beside_a_far_more_frequent_word():
    texts = ["Le travail des agents avance."] * 25 + ["Le fravail continue."] * 3
    assert _readings(texts, {"travail", "agents", "avance", "continue"}) == {"fravail": "travail"}


def test_an_article_glued_to_its_word_keeps_its_apostrophe():
    texts = ["Un plan d'accompagnement des agents."] * 9 + ["Le plan daccompagnement avance."]
    words = {"plan", "accompagnement", "agents", "avance", "un", "le", "des"}
    assert _readings(texts, words) == {"daccompagnement": "d'accompagnement"}


def test_a_frequent_spelling_is_no_misreading():
    texts = ["Le travail des agents avance."] * 9 + ["Le fravail continue."] * 9
    assert _readings(texts, {"travail", "agents", "avance", "continue"}) == {}


def test_a_word_without_its_accents_reads_as_the_corpus_writes_it():
    texts = ["La stratégie numérique avance."] * 3 + ["La strategie numerique avance."]
    readings = _readings(texts, {"stratégie", "numérique", "avance"})
    assert readings == {"strategie": "stratégie", "numerique": "numérique"}


def test_a_word_another_ending_or_an_ambiguous_misreading_stays_as_written():
    texts = (
        ["Les communes votent."] * 9
        + ["Les communs."]  # a word of the language
        + ["Les identifiants du service."] * 9
        + ["Un identifiant perdu."]  # another ending of a frequent word: no misreading
        + ["Les parties et les partis."] * 9
        + ["Les partes."]  # one edit from two frequent words: nothing says which
    )
    words = {"communes", "votent", "communs", "identifiants", "service", "identifiant"}
    words |= {"perdu", "parties", "partis"}
    assert _readings(texts, words) == {}


def test_readable_shows_the_meant_word_in_the_misreading_s_case():
    texts = ["Le travail des agents avance."] * 9 + ["Le fravail continue."]
    index = Bm25Index.build([str(n) for n in range(10)], texts)

    assert index.readings == {"fravail": "travail"}
    shown = index.readable("Fravail, FRAVAIL et fravail 2025.")
    assert shown == "Travail, TRAVAIL et travail 2025."
