"""Structure-aware chunking: sizes, speakers, headings, slides, pages and stable ids."""

from pathlib import Path

import pytest
from helpers import MEETING_REPORT, SLIDES, STUDY

from assistant.retrieval.units import split_sentences
from assistant.settings import PROJECT_ROOT
from ingest.chunk import carry_trailing_labels, chunk_document, locator
from ingest.load import SourceDocument, load_corpus, load_document

# The grouping of paragraphs may overshoot by a separator or two; more is a bug.
TOLERANCE = 0.02


def _document(text: str | list[str], kind: str = "document", paged: bool = False):
    pages = text if isinstance(text, list) else [text]
    return SourceDocument(
        "doc", Path("doc.txt"), "Titre du document", kind, pages=pages, paged=paged
    )


def _long_text(paragraphs: int = 30) -> str:
    sentences = [
        "La commune numéro {i} a adopté un schéma directeur du numérique.",
        "Le conseil communautaire a voté un budget de {i} 000 euros pour la fibre.",
        "Les agents suivent une formation à l'accessibilité des démarches en ligne.",
        "Les élus demandent un accompagnement de l'ANCT pour la cybersécurité.",
    ]
    return "\n\n".join(
        " ".join(s.format(i=i) for s in sentences[: 1 + i % 4]) for i in range(paragraphs)
    )


@pytest.fixture(scope="module")
def real_corpus():
    return load_corpus(PROJECT_ROOT / "corpus")


@pytest.mark.parametrize(("size", "overlap"), [(200, 40), (300, 60), (900, 120)])
def test_chunks_of_paragraphs_stay_within_the_size(size, overlap):
    document = _document(_long_text())

    chunks = chunk_document(document, size, overlap)

    assert len(chunks) > 1
    assert all(len(c.text) <= size * (1 + TOLERANCE) for c in chunks)
    assert "Les élus demandent" in " ".join(c.text for c in chunks)


def test_a_long_paragraph_is_cut_on_sentence_boundaries():
    paragraph = " ".join(
        f"Phrase numéro {i} sur la stratégie numérique du territoire." for i in range(40)
    )

    chunks = chunk_document(_document(paragraph), size=300, overlap=0)

    assert len(chunks) >= 6
    for chunk in chunks:
        assert chunk.text.startswith("Phrase numéro")
        assert chunk.text.endswith("territoire.")


def test_a_line_without_punctuation_is_cut_at_a_space():
    table = " ".join(f"cellule{i}" for i in range(200))

    chunks = chunk_document(_document(table), size=250, overlap=0)

    assert all(len(c.text) <= 250 for c in chunks)
    words = " ".join(c.text for c in chunks).split()
    assert words == table.split()


def test_overlap_never_pushes_a_piece_over_the_size():
    sentence = (
        "Les intercommunalités de plus de cinquante mille habitants doivent élaborer une "
        "stratégie numérique responsable qui couvre les achats, les usages et la sobriété, "
        "phrase {i} du paragraphe consacré à la loi visant à réduire l'empreinte du numérique."
    )
    paragraph = " ".join(sentence.format(i=i) for i in range(6))

    chunks = chunk_document(_document(paragraph), size=300, overlap=120)

    assert max(len(c.text) for c in chunks) <= 300 * (1 + TOLERANCE)


def test_speaker_statements_become_their_own_chunks_with_speaker_metadata():
    document = _document(MEETING_REPORT, kind="meeting-report")

    chunks = chunk_document(document)

    by_speaker = {tuple(c.speakers): c for c in chunks if c.speakers}
    assert set(by_speaker) == {("Damien Bertrand",), ("Sophie Lambert",)}
    damien = by_speaker[("Damien Bertrand",)]
    assert damien.organisations == ["Agglopolys"]
    assert damien.text.startswith("Damien Bertrand (Agglopolys) :")
    assert "quarante-trois communes" in damien.text
    assert "Sophie" not in damien.text
    sophie = by_speaker[("Sophie Lambert",)]
    assert sophie.organisations == ["Communauté de communes du Pays de Lacq"]
    assert damien.heading == sophie.heading == "1. Tour de table des participants"


def test_a_speaker_without_organisation_is_recognised():
    text = "Marlène le Dieu de Ville : La stratégie numérique responsable est une priorité."

    (chunk,) = chunk_document(_document(text, kind="meeting-report"))

    assert chunk.speakers == ["Marlène le Dieu de Ville"]
    assert chunk.organisations == []


def test_markdown_headings_become_chunk_headings():
    chunks = chunk_document(_document(STUDY, kind="study"))

    headings = {c.heading for c in chunks}
    assert {"Ouverture des données", "Cybersécurité", "Archivage électronique"} <= headings
    cyber = next(c for c in chunks if c.heading == "Cybersécurité")
    assert "rançongiciels" in cyber.text
    assert "#" not in cyber.text
    assert "3 500 habitants" not in cyber.text
    assert cyber.embed_text("Étude") == f"Étude — Cybersécurité\n{cyber.text}"


def test_slides_give_one_chunk_group_per_slide_located_by_number():
    document = _document(
        [
            "Le numérique responsable\nLes intercommunalités de plus de 50 000 habitants "
            "doivent élaborer une stratégie numérique responsable.",
            "Calendrier des réunions\nDeuxième réunion plénière : 18 septembre.",
            "Merci de votre attention",
        ],
        kind="slides",
    )

    chunks = chunk_document(document)

    assert [c.segment for c in chunks] == [1, 2, 3]
    assert [c.heading for c in chunks] == [
        "Le numérique responsable",
        "Calendrier des réunions",
        "",
    ]
    assert [locator("slides", c, paged=False) for c in chunks] == [
        "diapo 1 — Le numérique responsable",
        "diapo 2 — Calendrier des réunions",
        "diapo 3",
    ]
    assert chunks[2].text == "Merci de votre attention"
    assert all(c.page is None for c in chunks)


def test_slides_loaded_from_text_keep_their_numbers(tmp_path):
    path = tmp_path / "diapos.txt"
    path.write_text(SLIDES, encoding="utf-8")
    document = load_document(path, {"kind": "slides"})

    chunks = chunk_document(document)

    calendar = [c for c in chunks if "18 septembre" in c.text]
    assert len(calendar) == 1
    assert locator("slides", calendar[0], paged=False).startswith("diapo 2")


def test_pdf_chunks_carry_their_page():
    document = _document(
        ["Première page sur la fibre optique.", "", "Troisième page sur le RGAA."],
        kind="pdf",
        paged=True,
    )

    chunks = chunk_document(document)

    assert [(c.page, c.text) for c in chunks] == [
        (1, "Première page sur la fibre optique."),
        (3, "Troisième page sur le RGAA."),
    ]
    assert locator("pdf", chunks[1], paged=True) == "p. 3"


def test_text_segments_are_located_as_parts():
    chunk = chunk_document(_document("Un paragraphe sur les données ouvertes."))[0]

    assert locator("document", chunk, paged=False) == "partie 1"


def test_content_ids_are_stable_across_runs():
    first = [c.content_id("Étude") for c in chunk_document(_document(STUDY, kind="study"))]
    second = [c.content_id("Étude") for c in chunk_document(_document(STUDY, kind="study"))]

    assert first == second
    assert len(set(first)) == len(first)
    assert all(i.startswith("doc:") for i in first)


def test_changing_one_passage_changes_only_its_id():
    before = [c.content_id("Étude") for c in chunk_document(_document(STUDY, kind="study"))]
    edited = STUDY.replace("rançongiciels", "logiciels malveillants")
    after = [c.content_id("Étude") for c in chunk_document(_document(edited, kind="study"))]

    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1


def test_a_new_title_changes_every_id():
    chunks = chunk_document(_document(STUDY, kind="study"))

    assert not {c.content_id("Étude") for c in chunks} & {c.content_id("Autre") for c in chunks}


def test_repeated_text_in_one_document_gets_distinct_ids():
    chunks = chunk_document(_document(["Merci de votre attention", "Merci de votre attention"]))

    assert chunks[0].text == chunks[1].text
    assert chunks[0].content_id("t") != chunks[1].content_id("t")


def test_split_sentences_keeps_numbers_and_quotes_together():
    text = "Le seuil est de 50 000 habitants. « La loi REEN » s'applique en 2025. Voilà !"

    assert split_sentences(text) == [
        "Le seuil est de 50 000 habitants.",
        "« La loi REEN » s'applique en 2025.",
        "Voilà !",
    ]


def test_real_corpus_chunks_stay_close_to_the_chunk_size(real_corpus):
    chunks = [c for d in real_corpus for c in chunk_document(d, 900, 120)]

    assert len(chunks) > 100
    assert max(len(c.text) for c in chunks) <= 900 * (1 + TOLERANCE)
    assert all(c.text.strip() for c in chunks)


def test_real_corpus_chunks_never_exceed_the_chunk_size(real_corpus):
    too_long = [
        (d.doc_id, len(c.text))
        for d in real_corpus
        for c in chunk_document(d, 900, 120)
        if len(c.text) > 900
    ]

    assert too_long == []


def test_a_lead_in_stays_with_the_list_it_opens():
    lead = "Nos recommandations pour les territoires :"
    items = "\n".join(f"• Recommandation numéro {i} pour le numérique local." for i in range(14))
    text = f"{_long_text(3)}\n\n{lead}\n\n{items}"

    chunks = chunk_document(_document(text), size=400, overlap=0)

    holder = next(c for c in chunks if lead in c.text)
    assert "Recommandation numéro 0" in holder.text
    assert all(len(c.text) <= 400 * (1 + TOLERANCE) for c in chunks)


def test_a_long_list_cut_in_pieces_keeps_one_item_per_line():
    items = "\n".join(f"• Action numéro {i} du plan numérique territorial." for i in range(30))

    chunks = chunk_document(_document(items), size=300, overlap=0)

    assert len(chunks) > 1
    for chunk in chunks:
        assert all(line.startswith("• Action") for line in chunk.text.split("\n"))


def test_a_label_at_the_foot_of_a_slide_joins_the_content_on_the_next():
    document = _document(
        [
            "Décliner et mettre en œuvre\nEtape 6:\nTraduire l'ambition en feuille de route\n"
            "Etape 7:",
            "Faire voter la feuille de route\nEtape 8:",
            "Décliner la stratégie en un plan d'action",
        ],
        kind="slides",
    )

    chunks = chunk_document(document)
    texts = [f"{c.heading} {c.text}" for c in chunks]

    assert any("Etape 7: Faire voter la feuille de route" in t for t in texts)
    assert any("Etape 8: Décliner la stratégie" in t for t in texts)
    assert not any(t.rstrip().endswith("Etape 7:") for t in texts)
    assert [c.segment for c in chunks if "Faire voter" in c.text or "Faire voter" in c.heading] == [
        2
    ]


def test_a_colon_ending_statement_or_bullet_stays_on_its_slide():
    pages = [
        "Titre\nLes intercommunalités qui comptent plus de 50 000 habitants doivent :",
        "Suite",
    ]
    bullets = ["Titre\n• Objectifs :", "Suite"]

    assert carry_trailing_labels(pages) == pages  # a long sentence is not a label
    assert carry_trailing_labels(bullets) == bullets
    assert carry_trailing_labels(["Titre\nEtape 1:", ""]) == ["Titre\nEtape 1:", ""]
