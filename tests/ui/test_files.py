"""Conversation exports: written in the data folder, readable by the server's user only,
and removed after a while instead of piling up in the system's temporary folder."""

from __future__ import annotations

import os
import stat
import tempfile
import time
from pathlib import Path

import pytest

from ui.files import EXPORT_KEEP_S, write_export


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_export_is_private_to_the_server_user(tmp_path):
    folder = tmp_path / "data" / "exports"

    path = write_export(folder, "# Conversation\n\nRéponse [1].\n")

    assert path.parent == folder
    assert path.read_text(encoding="utf-8") == "# Conversation\n\nRéponse [1].\n"
    assert mode(path) == 0o600
    assert mode(folder) == 0o700


def test_a_folder_made_readable_by_others_is_made_private_again(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)

    write_export(folder, "x")

    assert mode(folder) == 0o700


def test_old_exports_are_removed_and_recent_ones_kept(tmp_path):
    folder = tmp_path / "exports"
    old = write_export(folder, "ancienne")
    recent = write_export(folder, "récente")
    other = folder / "notes.txt"
    other.write_text("pas un export", encoding="utf-8")
    past = time.time() - EXPORT_KEEP_S - 60
    os.utime(old, (past, past))
    os.utime(other, (past, past))

    new = write_export(folder, "nouvelle")

    assert not old.exists()
    assert recent.exists() and new.exists()
    assert other.exists()  # only the folder's own exports are cleaned


@pytest.mark.integration
def test_the_chat_writes_its_exports_in_the_data_folder(page, admin_ui):
    url, settings = admin_ui
    shared = Path(tempfile.gettempdir()) / "assistant-conversations"
    before = set(shared.glob("*")) if shared.is_dir() else set()
    page.goto(url)
    page.locator("#sources .sources-empty").wait_for()
    page.locator("#question textarea").fill("Quand a lieu la deuxième réunion plénière ?")
    page.locator("#question textarea").press("Enter")
    page.locator("#sources [data-turn='0']").wait_for()
    page.get_by_role("button", name="Filtres et options").click()  # where export lives

    with page.expect_download() as download:
        page.locator("#export").click()

    exports = list((settings.data_dir / "exports").glob("conversation-*.md"))
    assert len(exports) == 1 and mode(exports[0]) == 0o600
    assert "## 1. Quand a lieu la deuxième réunion plénière ?" in Path(
        download.value.path()
    ).read_text(encoding="utf-8")
    after = set(shared.glob("*")) if shared.is_dir() else set()
    assert after == before  # nothing more in the shared temporary folder
