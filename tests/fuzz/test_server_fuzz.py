"""A bounded run of `make fuzz` in the suite: the real server, schema-driven and hostile
requests and generated documents; no 5xx and no worker death."""

from __future__ import annotations

import pytest

from tests.fuzz.server_fuzz import main

pytestmark = pytest.mark.integration


def test_the_real_server_survives_a_bounded_fuzz(capsys):
    code = main(["--examples", "3", "--minutes", "1", "--requests", "40", "--documents", "8"])
    summary = capsys.readouterr().out
    assert code == 0, summary
    assert " 0 5xx, 0 worker deaths, server alive" in summary
