"""Consistency checks of the evaluation gold set against its schema and the corpus."""

import json
from collections import Counter
from pathlib import Path

import pytest

from evals.gold import DEFAULT_GOLD, QUESTION_TYPES, GoldCase, load_gold, missing_quotes
from evals.train import TRAINING_SETS

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
TARGET_SHARES = {
    "factual": 0.20,
    "numeric": 0.20,
    "conditional": 0.15,
    "synthesis": 0.15,
    "unanswerable": 0.12,
    "false_premise": 0.08,
    "followup": 0.10,
}
SHARE_TOLERANCE = 0.05
NEEDS_SUPPORT = ("answer", "correct_premise", "ask_condition")


@pytest.fixture(scope="module")
def cases() -> list[GoldCase]:
    return load_gold(DEFAULT_GOLD)


def test_loads_enough_cases(cases: list[GoldCase]) -> None:
    assert len(cases) >= 100


def test_ids_are_unique(cases: list[GoldCase]) -> None:
    counts = Counter(case.id for case in cases)
    assert [i for i, n in counts.items() if n > 1] == []


def test_type_shares_match_targets(cases: list[GoldCase]) -> None:
    assert set(TARGET_SHARES) == set(QUESTION_TYPES)
    counts = Counter(case.type for case in cases)
    for qtype, target in TARGET_SHARES.items():
        share = counts[qtype] / len(cases)
        assert abs(share - target) <= SHARE_TOLERANCE, f"{qtype}: {share:.1%} vs {target:.0%}"


def test_every_document_is_cited_by_three_cases(cases: list[GoldCase]) -> None:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    citing = Counter(doc for case in cases for doc in {ev.doc for ev in case.evidence})
    for entry in manifest["documents"]:
        stem = Path(entry["file"]).stem
        assert citing[stem] >= 3, f"{stem} cited by {citing[stem]} cases"


def test_every_quote_exists_in_its_document(cases: list[GoldCase]) -> None:
    assert missing_quotes(cases, CORPUS) == []


def test_supported_cases_have_facts_and_evidence(cases: list[GoldCase]) -> None:
    bare = [c.id for c in cases if c.expected in NEEDS_SUPPORT and not (c.key_facts and c.evidence)]
    assert bare == []


def test_abstain_cases_have_no_facts_nor_evidence(cases: list[GoldCase]) -> None:
    filled = [c.id for c in cases if c.expected == "abstain" and (c.key_facts or c.evidence)]
    assert filled == []


def test_followups_have_history(cases: list[GoldCase]) -> None:
    assert [c.id for c in cases if c.type == "followup" and not c.history] == []


def test_synthesis_cites_several_documents(cases: list[GoldCase]) -> None:
    single = [c.id for c in cases if c.type == "synthesis" and len({e.doc for e in c.evidence}) < 2]
    assert single == []


def test_has_english_cases(cases: list[GoldCase]) -> None:
    assert sum(case.lang == "en" for case in cases) >= 5


@pytest.mark.parametrize("path", TRAINING_SETS, ids=lambda path: path.name)
def test_every_training_case_is_supported_by_the_corpus(path: Path) -> None:
    cases = load_gold(path)
    assert [i for i, n in Counter(case.id for case in cases).items() if n > 1] == []
    assert missing_quotes(cases, CORPUS) == []
    bare = [c.id for c in cases if c.expected in NEEDS_SUPPORT and not (c.key_facts and c.evidence)]
    assert bare == []


def test_malformed_line_is_reported_with_its_number(tmp_path: Path) -> None:
    good = DEFAULT_GOLD.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "gold.jsonl"
    path.write_text(f"{good}\n{{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"gold\.jsonl, line 2"):
        load_gold(path)


def test_invalid_case_is_reported_with_its_number(tmp_path: Path) -> None:
    bad = json.loads(DEFAULT_GOLD.read_text(encoding="utf-8").splitlines()[0])
    bad["type"] = "trivia"
    path = tmp_path / "gold.jsonl"
    path.write_text("\n" + json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        load_gold(path)


def test_the_held_out_set_loads_and_its_quotes_exist() -> None:
    """evals/heldout.jsonl: 30 cases written from the corpus alone, never used for tuning."""
    held_out = load_gold(ROOT / "evals" / "heldout.jsonl")

    assert len(held_out) == 30
    assert missing_quotes(held_out, CORPUS) == []
    assert not {c.question for c in held_out} & {c.question for c in load_gold(DEFAULT_GOLD)}


BLIND_SETS = ("blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8")
# Quotes of a blind set the corpus check cannot find (copied with the document's Markdown
# marks inside a figure); left as written, since a blind set's cases are not read.
UNFOUND_QUOTES = {"blind2": 1, "blind4": 1}


@pytest.mark.parametrize("name", BLIND_SETS)
def test_every_blind_set_loads_and_its_quotes_exist(name: str) -> None:
    """The blind sets, written from the corpus alone by helpers that never saw the code;
    only their aggregate figures are read."""
    blind = load_gold(ROOT / "evals" / f"{name}.jsonl")

    assert len(blind) >= 90
    assert len({c.id for c in blind}) == len(blind)
    assert len(missing_quotes(blind, CORPUS)) == UNFOUND_QUOTES.get(name, 0)
