"""The corpus page in headless Chromium: list, upload with the admin key, re-index, delete."""

import pytest
from browser_helpers import ADMIN_KEY, screenshot

pytestmark = pytest.mark.integration

GUIDE = (
    "# Guide de la sobriété numérique\n\n## Matériel\n\n"
    "Les communes allongent la durée de vie des ordinateurs portables à sept ans.\n"
)


def open_corpus(page, url: str) -> None:
    page.goto(url)
    page.locator("#sources .sources-empty").wait_for()
    page.get_by_role("tab", name="Corpus").click()
    wait_for_table_text(page, "Étude sur les données")


def wait_for_table_text(page, text: str) -> None:
    page.wait_for_function(
        "text => document.querySelector('#corpus-table').innerText.includes(text)", arg=text
    )


def status_text(page, expected: str) -> str:
    status = page.locator("#corpus-status")
    status.get_by_text(expected, exact=False).wait_for()
    return status.inner_text()


def test_writes_need_the_key_then_upload_reindex_and_delete(page, admin_ui, tmp_path):
    url, settings = admin_ui
    guide = tmp_path / "guide-sobriete.md"
    guide.write_text(GUIDE, encoding="utf-8")
    open_corpus(page, url)
    assert "Diaporama de la plénière" in page.locator("#corpus-table").inner_text()

    # The file is sent as soon as it is chosen: without the key, the server refuses it.
    page.locator("#upload-file input[type=file]").set_input_files(str(guide))
    page.get_by_text("Clé d'administration absente ou incorrecte").first.wait_for()
    page.get_by_role("button", name="Ajouter et indexer").click()
    page.get_by_text("Choisissez d'abord un fichier").first.wait_for()

    page.locator("#key input").fill(ADMIN_KEY)
    page.locator("#upload-file input[type=file]").set_input_files(str(guide))
    page.locator("#upload-file").get_by_text("guide-sobriete").first.wait_for()
    page.get_by_role("button", name="Ajouter et indexer").click()
    assert "ajouté (1 passage(s))" in status_text(page, "ajouté")
    wait_for_table_text(page, "guide-sobriete.md")
    assert (settings.data_dir / "uploads" / "guide-sobriete.md").is_file()

    page.get_by_role("button", name="Réindexer le corpus").click()
    assert "0 passage(s) vectorisé(s)" in status_text(page, "Réindexation terminée")
    screenshot(page, "corpus")

    page.get_by_role("tab", name="Discussion").click()
    page.locator("#question textarea").fill(
        "Quelle durée de vie pour les ordinateurs portables des communes ?"
    )
    page.locator("#send").click()
    page.locator("#sources .source-card").first.wait_for()
    assert "sept ans" in page.locator("#chat .bot").last.inner_text()

    page.get_by_role("tab", name="Corpus").click()
    page.locator("#delete-choice input").click()
    page.get_by_role("option", name="guide-sobriete (guide-sobriete)").click()
    page.get_by_role("button", name="Supprimer").click()
    assert "et le fichier téléversé" in status_text(page, "guide-sobriete supprimé")
    assert not (settings.data_dir / "uploads" / "guide-sobriete.md").exists()
