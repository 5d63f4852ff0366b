"""Documents a question names, read from the index's metadata."""

from assistant.query import asks_across_documents, asks_to_compare
from assistant.retrieval.lexical import Bm25Index
from assistant.sources import named_documents, without_names

CATALOG = {
    "a": {"title": "Étude sur les usages numériques", "kind": "study", "date": "2017"},
    "b": {"title": "Flash territoires", "kind": "survey-brief", "publisher": "ANPP"},
    "c": {"title": "Réunion plénière", "kind": "slides", "date": "2025-06-19"},
    "d": {"title": "Compte-rendu de la réunion plénière", "kind": "meeting-report"},
}
LEXICAL = Bm25Index.build(
    [str(i) for i in range(12)],
    ["Les collectivités et le numérique."] * 10 + ["Le DPO est nommé.", "Une étude de cas."],
)


def test_a_question_names_documents_by_title_publisher_kind_and_year():
    question = "Entre l'étude de 2017 et le Flash de l'ANPP, où en est le DPO ?"

    assert named_documents(question, CATALOG, LEXICAL) == ["a", "b"]


def test_a_word_shared_by_many_documents_or_passages_names_none():
    # "numérique" is in most passages; "collectivités" too: topics, not names.
    assert named_documents("Le numérique des collectivités ?", CATALOG, LEXICAL) == []
    assert named_documents("Que dit le diaporama ?", CATALOG, LEXICAL) == ["c"]


def test_the_words_naming_documents_are_left_out_of_the_topic():
    question = "Entre l'étude de 2017 et le Flash de l'ANPP, où en est le DPO ?"

    topic = without_names(question, CATALOG)

    assert "DPO" in topic
    assert "2017" not in topic and "Flash" not in topic and "l'ANPP," not in topic


def test_comparing_questions_are_recognised():
    assert asks_to_compare("Quelle différence entre le baromètre de 2025 et celui de 2017 ?")
    assert asks_to_compare("Croise l'étude et le compte-rendu.")
    assert not asks_to_compare("Quel est le seuil de l'open data ?")


def test_questions_about_what_the_documents_say_are_recognised_informally_too():
    assert asks_across_documents("Que disent les documents sur la formation des élus ?")
    assert asks_across_documents("que disent les docs sur le télétravail ?")
    assert not asks_across_documents("Quel doc parle du télétravail ?")
    assert not asks_across_documents("Les docteurs de la commune ?")
