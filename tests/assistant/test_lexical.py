"""French tokenisation and the persisted BM25 index."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.retrieval.lexical import Bm25Index, fold_accents, tokenize

REPO = Path(__file__).resolve().parents[2]


def test_accents_are_folded_so_ocr_variants_match():
    assert tokenize("stratégie") == tokenize("strategie") == tokenize("STRATÉGIE")
    assert tokenize("numérique") == tokenize("numerique")
    assert fold_accents("Élève, œuvre, ça") == "Eleve, oeuvre, ca"


@pytest.mark.parametrize(
    "text",
    [
        "l'intercommunalité",
        "l’intercommunalité",
        "d'intercommunalité",
        "qu'intercommunalité",
        "L'INTERCOMMUNALITÉ",
    ],
)
def test_elisions_are_stripped(text):
    assert tokenize(text) == tokenize("intercommunalité")


def test_stop_words_and_question_words_are_dropped():
    assert tokenize("le la les de du des et quelle est") == []
    assert tokenize("lequel laquelle lesquels lesquelles auquel") == []
    assert tokenize("d'après l'étude") == tokenize("étude")
    assert tokenize("3 ans après") == ["3", *tokenize("ans après")[-2:]]
    assert tokenize("Quelle est la stratégie de la commune ?") == tokenize("stratégie commune")


def test_plural_and_singular_share_a_stem():
    assert tokenize("collectivités") == tokenize("collectivité")


@pytest.mark.parametrize("number", ["50 000", "50000", "50.000", "50\u00a0000", "50\u202f000"])
def test_thousand_separators_do_not_split_numbers(number):
    assert tokenize(f"{number} habitants") == ["50000", *tokenize("habitants")]


def test_small_numbers_and_years_stay_apart():
    assert tokenize("3 500 habitants en 2025") == ["3500", *tokenize("habitants"), "2025"]
    assert tokenize("1.5") == ["1", "5"]


@pytest.mark.parametrize(
    "written", ["troisième", "troisieme", "3e", "3ème", "3eme", "3°", "3¢", "third"]
)
def test_an_ordinal_spelled_abbreviated_or_misread_is_one_token(written):
    assert tokenize(f"{written} réunion plénière") == tokenize("3e réunion plénière")
    assert tokenize("3°réunion") == tokenize("3e réunion")


def test_ordinals_of_different_ranks_and_plain_numbers_stay_apart():
    assert tokenize("1re plénière") == tokenize("première plénière") != tokenize("2e plénière")
    assert tokenize("3 réunions") != tokenize("3e réunion")


def _index():
    texts = {
        "reen": "Les intercommunalités de plus de 50 000 habitants doivent élaborer une "
        "stratégie numérique responsable (loi REEN).",
        "rgaa": "Le RGAA impose l'accessibilité des sites publics ; l'Arcom peut sanctionner.",
        "opendata": "Les collectivités de plus de 3 500 habitants ouvrent leurs données.",
        "cyber": "La cybersécurité des communes : sauvegardes et formation des agents.",
    }
    return Bm25Index.build(list(texts), list(texts.values()))


def test_search_ranks_the_passage_that_matches_best_first():
    results = _index().search("stratégie numérique responsable des intercommunalités", k=4)

    assert results[0][0] == "reen"
    assert all(score > 0 for _, score in results)
    assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)


def test_search_matches_numbers_written_differently():
    results = _index().search("seuil de 50000 habitants", k=1)

    assert results[0][0] == "reen"


def test_search_returns_only_positive_scores_and_respects_k_and_allowed():
    index = _index()

    assert index.search("recette de la tarte tatin", k=4) == []
    assert len(index.search("habitants", k=1)) == 1
    allowed = index.search("habitants", k=4, allowed={"opendata", "cyber"})
    assert [i for i, _ in allowed] == ["opendata"]


def test_idf_is_higher_for_rarer_tokens():
    index = _index()
    (habitants,) = tokenize("habitants")
    (reen,) = tokenize("REEN")

    assert index.idf(reen) > index.idf(habitants)
    assert index.idf("jamais-vu") >= index.idf(reen)


def test_save_and_load_round_trip(tmp_path):
    index = _index()
    question = "accessibilité des sites publics"

    index.save(tmp_path / "bm25")
    loaded = Bm25Index.load(tmp_path / "bm25")

    assert loaded.ids == index.ids
    assert loaded.doc_freq == index.doc_freq
    assert loaded.search(question, k=4) == index.search(question, k=4)
    assert loaded.search(question, k=1)[0][0] == "rgaa"
    assert Bm25Index.is_current(tmp_path / "bm25")


_BUILD_AND_SAVE = """
import sys
from pathlib import Path
from assistant.retrieval.lexical import Bm25Index
texts = ["Les communes de plus de 3 500 habitants ouvrent leurs données publiques.",
         "Le RGAA rend les sites publics accessibles aux personnes handicapées.",
         "La stratégie numérique responsable concerne les intercommunalités."]
Bm25Index.build(["a", "b", "c"], texts).save(Path(sys.argv[1]))
"""


def test_two_builds_of_the_same_texts_write_the_same_files(tmp_path):
    """Python hashes strings differently in each process (so sets iterate in another order):
    two processes building the same index still write it byte for byte the same, so a fresh
    build ranks as the one the committed rankers were trained on."""
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-c", _BUILD_AND_SAVE, str(tmp_path / seed)]
        subprocess.run(command, env=env, check=True, cwd=REPO)
    first = tmp_path / "1"
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())

    assert files
    for name in files:
        assert (first / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


def test_an_index_from_older_tokenisation_is_not_current(tmp_path):
    _index().save(tmp_path / "bm25")
    meta = tmp_path / "bm25" / "ids.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace('"tokenizer"', '"old"'))

    assert not Bm25Index.is_current(tmp_path / "bm25")
    assert not Bm25Index.is_current(tmp_path / "absent")


def test_empty_index_finds_nothing_and_survives_a_round_trip(tmp_path):
    empty = Bm25Index.build([], [])

    assert empty.search("stratégie", k=5) == []
    empty.save(tmp_path / "bm25")
    loaded = Bm25Index.load(tmp_path / "bm25")
    assert loaded.ids == []
    assert loaded.search("stratégie", k=5) == []


def test_a_passage_of_stop_words_only_is_indexed_without_error():
    index = Bm25Index.build(["vide", "plein"], ["le la les", "La fibre optique arrive."])

    assert [i for i, _ in index.search("fibre", k=2)] == ["plein"]


@pytest.mark.parametrize(
    ("spelled", "digits"),
    [
        ("trois mille cinq cents habitants", "3 500 habitants"),
        ("cinquante mille habitants", "50 000 habitants"),
        ("dix-huit mois", "18 mois"),
        ("vingt-deux pour cent des communes", "22 % des communes"),
        ("twenty two members", "22 members"),
    ],
)
def test_number_words_read_as_their_digits(spelled, digits):
    assert tokenize(spelled) == tokenize(digits)


def test_search_finds_a_threshold_asked_in_words():
    results = _index().search("communes de trois mille cinq cents habitants", k=1)

    assert results[0][0] == "opendata"


@pytest.mark.parametrize(
    "typed",
    ["startegie numerique", "stratégie numériqe", "strategie numerique", "intercomunalités"],
)
def test_a_typo_in_the_question_finds_the_corpus_word(typed):
    index = _index()

    assert index.search(typed, k=1)[0][0] == "reen"


def test_typo_tolerance_survives_a_round_trip(tmp_path):
    _index().save(tmp_path / "bm25")

    assert Bm25Index.load(tmp_path / "bm25").search("startegie", k=1)[0][0] == "reen"


def test_a_name_and_its_number_typed_as_one_word_are_searched_as_the_corpus_writes_them():
    texts = ["La directive NIS 2 renforce la cybersécurité.", "Le RGPD protège les données."]
    index = Bm25Index.build(["nis", "rgpd"], texts)

    assert index.query_tokens("NIS2 nous concerne ?")[:2] == ["nis", "2"]
    assert index.search("NIS2", 1)[0][0] == "nis"
    assert index.query_tokens("web3") == ["web3"]  # the corpus knows neither part
