"""What the corpus teaches about its own words: defined acronyms and OCR misreadings, read
from texts that are not the project's corpus."""

from __future__ import annotations

from collections import Counter

from assistant.retrieval.lexical import Bm25Index, words_and_tokens
from assistant.retrieval.vocabulary import acronym_pairs, long_form, ocr_corrections

DEFINITION = "La commune confie son réseau à une société publique locale (SPL) en 2024."
USE = "La SPL gère désormais le réseau de chaleur et les bornes de recharge."


def test_an_acronym_defined_after_its_long_form_is_found():
    assert acronym_pairs([DEFINITION]) == [("SPL", "société publique locale")]


def test_an_acronym_followed_by_its_long_form_is_found():
    text = "Le SIVU (Syndicat intercommunal à vocation unique) gère l'eau."
    assert acronym_pairs([text]) == [("SIVU", "Syndicat intercommunal à vocation unique")]


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
