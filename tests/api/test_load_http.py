"""A short load run on loopback: the real server as a child process, concurrent clients,
no errors. Figures are printed by `make load`; nothing here asserts a duration."""

from __future__ import annotations

import pytest

from assistant.settings import Settings
from benchmarks.load import report, run_load

pytestmark = pytest.mark.integration


def test_concurrent_clients_get_only_answers(corpus_index: Settings, tmp_path):
    result = run_load(
        corpus_index, clients=4, seconds=3, max_requests=200, log_path=tmp_path / "log"
    )
    summary = result.summary()
    print(report(summary))

    assert summary["requests"] >= 4, summary
    assert summary["errors"] == {}, (summary, (tmp_path / "log").read_text()[-3000:])
    assert result.server_errors() == 0
    assert summary["ok"] == summary["requests"]
    assert summary["rss_before_mb"] > 0 and summary["rss_after_mb"] > 0


def test_the_request_budget_bounds_a_run(corpus_index: Settings, tmp_path):
    result = run_load(
        corpus_index, clients=3, seconds=600, max_requests=6, log_path=tmp_path / "log"
    )

    assert result.requests == 6
    assert result.errors == {}
