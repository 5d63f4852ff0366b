"""CI gate: the assistant on a blind set must not fall below today's level.

`evals/blind2.jsonl` was written from the corpus by a helper who never saw the code, and
only its aggregates are read: it is what answers on questions nobody tuned for look like.
The gold set is training data (the ranker is fitted on it) and is reported, not gated.
Floors and ceilings are what the system reached when they were set (2026-11-30, on a fresh
build of the corpus: 24 correct / 59 refused / 8 wrong of 91, CRAG +0.18, recall@5 74.1 %,
MRR 0.657, abstention 83.3 %), with a margin of one or two cases. They were moved that day,
when the learned passage ranking came in and the rankers learned from a second training
set: retrieval floors up (recall@5 68.4 → 74.1 %, MRR 0.575 → 0.657), wrong answers down
(9 → 8; 26 → 19 over the three sets nobody tuned for), and the cost of that caution, fewer
answers (29 → 24 correct), accepted: a wrong answer costs more than a refusal. A fresh build
gives the same vectors and the dense search is exact, so the figures are those of every
build; the unanswerable cases are only 12, so one case moves abstention accuracy by 8 points.
"""

from pathlib import Path

import pytest

from assistant.core import build_assistant
from evals.gold import load_gold
from evals.metrics import summarize
from evals.run import inprocess_target, run_evaluation

pytestmark = pytest.mark.integration

BLIND = Path(__file__).parents[2] / "evals" / "blind2.jsonl"

FLOORS = {
    "key_fact_accuracy": 0.15,
    "recall@5": 0.71,
    "mrr": 0.62,
    "citation_precision": 0.74,
    "abstention_accuracy": 0.66,
    "crag": 0.15,
}
CEILINGS = {"hallucination_rate": 0.42, "false_refusal_rate": 0.80}
WRONG_SHARE = 0.11  # wrong answers among all cases: what costs trust


@pytest.fixture(scope="module")
def blind_summary(corpus_index):
    results = run_evaluation(
        load_gold(BLIND),
        inprocess_target(build_assistant(corpus_index)),
        label="assistant",
        progress=False,
    )
    return summarize(results)


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_metric_stays_above_floor(blind_summary, metric):
    assert blind_summary[metric] >= FLOORS[metric], f"{metric} = {blind_summary[metric]:.3f}"


@pytest.mark.parametrize("metric", sorted(CEILINGS))
def test_metric_stays_below_ceiling(blind_summary, metric):
    assert blind_summary[metric] <= CEILINGS[metric], f"{metric} = {blind_summary[metric]:.3f}"


def test_no_case_errors(blind_summary):
    assert blind_summary["errors"] == 0


def test_wrong_answers_stay_rare(blind_summary):
    share = blind_summary["wrong"] / blind_summary["n"]
    assert share <= WRONG_SHARE, f"wrong answers: {share:.3f} of the cases"
