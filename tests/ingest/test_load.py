"""Loading TXT, MD and real PDF files, and the errors a person can act on."""

import json

import pytest
from helpers import SMALL_MANIFEST, write_small_corpus

from assistant.errors import DocumentError
from ingest.load import list_sources, load_corpus, load_document, read_manifest

PAGE_ONE = "Le schéma directeur du numérique fixe les priorités de l'intercommunalité."
PAGE_TWO = "Élaborer une stratégie numérique responsable : à côté de la fibre, garçon, œuvre."
PAGE_THREE = "Les élus présentent le bilan à l'assemblée en décembre."


def test_text_file_is_one_page_with_the_file_stem_as_title(tmp_path):
    path = tmp_path / "note_de_cadrage.txt"
    path.write_text("Les communes déploient la fibre optique.", encoding="utf-8")

    document = load_document(path)

    assert document.pages == ["Les communes déploient la fibre optique."]
    assert document.title == "note de cadrage"
    assert document.doc_id == "note_de_cadrage"
    assert document.kind == "document"
    assert document.paged is False


def test_markdown_file_keeps_its_headings(tmp_path):
    path = tmp_path / "etude.md"
    path.write_text("# Titre\n\n## Données ouvertes\n\nTexte.", encoding="utf-8")

    document = load_document(path)

    assert "## Données ouvertes" in document.text


def test_utf8_bom_is_not_part_of_the_text(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffÉtude régionale".encode())

    assert load_document(path).pages == ["Étude régionale"]


def test_manifest_metadata_is_carried_onto_the_document(tmp_path):
    corpus = write_small_corpus(tmp_path / "corpus")

    documents = {d.path.name: d for d in load_corpus(corpus)}

    report = documents["compte-rendu.txt"]
    assert report.title == "Compte-rendu de la réunion plénière"
    assert report.kind == "meeting-report"
    assert report.date == "2025-06-19"
    assert report.publisher == "Les Interconnectés"
    assert documents["etude.md"].kind == "study"
    assert documents["etude.md"].date is None


def test_read_manifest_indexes_entries_by_file_name(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps(SMALL_MANIFEST), encoding="utf-8")

    manifest = read_manifest(tmp_path)

    assert set(manifest) == {"compte-rendu.txt", "etude.md", "diapos.txt"}
    assert read_manifest(tmp_path / "absent") == {}


def test_invalid_manifest_names_the_file(tmp_path):
    (tmp_path / "manifest.json").write_text("{pas du json", encoding="utf-8")

    with pytest.raises(DocumentError, match="manifest.json"):
        read_manifest(tmp_path)


def test_list_sources_skips_hidden_and_unsupported_files(tmp_path):
    for name in ("b.txt", "a.pdf", "c.md", ".cache.txt", "image.png", "notes.docx"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sous-dossier").mkdir()
    (tmp_path / "sous-dossier" / "d.TXT").write_bytes(b"x")

    names = [p.name for p in list_sources(tmp_path)]

    assert names == ["a.pdf", "b.txt", "c.md", "d.TXT"]


def test_text_is_split_into_segments_where_a_line_starts_with_one_space(tmp_path):
    # Text extracted from PDFs: a form feed became a space at the start of the next page.
    path = tmp_path / "diapos.txt"
    path.write_text(
        "Première diapo\nsuite de la diapo\n Deuxième diapo\n  retrait de deux espaces\n"
        " Troisième diapo",
        encoding="utf-8",
    )

    document = load_document(path)

    assert len(document.pages) == 3
    assert document.pages[0] == "Première diapo\nsuite de la diapo"
    assert document.pages[1].startswith(" Deuxième diapo")
    assert "retrait de deux espaces" in document.pages[1]
    assert document.pages[2] == " Troisième diapo"


def test_pdf_pages_are_kept_with_their_numbers(tmp_path, make_pdf):
    path = make_pdf(tmp_path / "rapport.pdf", [PAGE_ONE, PAGE_TWO, PAGE_THREE])

    document = load_document(path)

    assert document.paged is True
    assert document.kind == "pdf"
    assert len(document.pages) == 3
    assert "schéma directeur" in document.pages[0]
    assert "Élaborer une stratégie numérique responsable" in document.pages[1]
    assert "bilan" in document.pages[2]
    assert "Élaborer" not in document.pages[0] + document.pages[2]


def test_pdf_title_comes_from_the_pdf_unless_the_manifest_gives_one(tmp_path, make_pdf):
    path = make_pdf(tmp_path / "rapport.pdf", [PAGE_ONE], title="Rapport d'activité 2024")

    assert load_document(path).title == "Rapport d'activité 2024"
    assert load_document(path, {"title": "Titre du manifeste"}).title == "Titre du manifeste"


def test_pdf_with_only_an_owner_password_is_readable(tmp_path, make_pdf):
    path = make_pdf(tmp_path / "protege.pdf", [PAGE_ONE], user_password="")

    assert "schéma directeur" in load_document(path).pages[0]


@pytest.mark.parametrize("content", [b"", b"  \n\n\t \n"], ids=["empty", "blank"])
def test_empty_text_file_is_refused_by_name(tmp_path, content):
    path = tmp_path / "vide.txt"
    path.write_bytes(content)

    with pytest.raises(DocumentError, match=r"vide\.txt : fichier vide"):
        load_document(path)


def test_non_utf8_text_is_refused_by_name_with_the_remedy(tmp_path):
    path = tmp_path / "ancien.txt"
    path.write_bytes("Données publiques, été 2017".encode("latin-1"))

    with pytest.raises(DocumentError, match=r"ancien\.txt : texte non UTF-8") as error:
        load_document(path)
    assert "UTF-8" in str(error.value).split("Réenregistrez")[1]


def test_binary_file_with_a_text_extension_is_refused(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    with pytest.raises(DocumentError, match=r"image\.txt : fichier binaire"):
        load_document(path)


def test_unsupported_extension_is_refused_by_name(tmp_path):
    path = tmp_path / "compte-rendu.docx"
    path.write_bytes(b"PK\x03\x04")

    with pytest.raises(DocumentError, match=r"compte-rendu\.docx : format non pris en charge"):
        load_document(path)


def test_pdf_without_text_asks_for_ocr(tmp_path, make_pdf):
    path = make_pdf(tmp_path / "scan.pdf", [""])

    with pytest.raises(DocumentError, match=r"scan\.pdf : aucun texte extractible") as error:
        load_document(path)
    assert "OCR" in str(error.value)


def test_corrupted_pdf_is_refused_by_name(tmp_path, make_pdf):
    good = make_pdf(tmp_path / "source.pdf", [PAGE_ONE, PAGE_TWO])
    path = tmp_path / "abime.pdf"
    path.write_bytes(good.read_bytes()[:300])

    with pytest.raises(DocumentError, match=r"abime\.pdf : PDF illisible"):
        load_document(path)


def test_garbage_with_a_pdf_extension_is_refused_by_name(tmp_path):
    path = tmp_path / "faux.pdf"
    path.write_bytes(b"Ceci n'est pas un PDF.\n" * 20)

    with pytest.raises(DocumentError, match=r"faux\.pdf : PDF illisible"):
        load_document(path)


def test_password_protected_pdf_is_refused_by_name(tmp_path, make_pdf):
    path = make_pdf(tmp_path / "confidentiel.pdf", [PAGE_ONE], user_password="secret")

    with pytest.raises(DocumentError, match=r"confidentiel\.pdf : PDF protégé par mot de passe"):
        load_document(path)


def test_load_corpus_skips_unreadable_files_and_keeps_the_others(tmp_path, caplog):
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "vide.txt").write_text("", encoding="utf-8")

    documents = load_corpus(corpus)

    assert sorted(d.path.name for d in documents) == ["compte-rendu.txt", "diapos.txt", "etude.md"]
    assert "vide.txt" in caplog.text
