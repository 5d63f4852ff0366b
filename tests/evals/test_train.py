"""Training the passage and sentence rankers: labels, the refusal threshold, and
reproducible models."""

import numpy as np
import pytest

from assistant.answering.rank import FEATURES, Ranking, SentenceRanker
from assistant.retrieval.passage_rank import PASSAGE_FEATURES, PassageRanker
from evals.train import (
    Outcomes,
    choose_threshold,
    fit_confidence,
    load_training,
    mean_reciprocal_rank,
    sentence_holds,
    train_both,
    train_passages,
)


def test_a_sentence_holds_a_quote_it_contains_or_most_of_a_quote_spanning_two():
    quote = "Les collectivités doivent publier une déclaration d'accessibilité. Elle comprend"
    assert sentence_holds(
        "Les collectivités doivent publier une déclaration d'accessibilité.", quote
    )
    assert sentence_holds("Voici : les collectivités doivent publier leurs données", "publier")
    assert not sentence_holds("Les communes forment leurs agents au numérique.", quote)


def test_the_threshold_is_the_lowest_that_keeps_wrong_answers_rare():
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    right = np.array([True, True, True, False, True, True, False, False, True, False])

    # One wrong answer in ten allowed: answer down to 0.4, not to 0.3 (two wrong).
    assert choose_threshold(confidence, right, max_wrong=0.1) == pytest.approx(0.4)
    assert choose_threshold(confidence, right, max_wrong=0.0) == pytest.approx(0.7)


def test_the_confidence_learns_that_a_close_second_passage_means_doubt():
    # Right answers come with a clear lead over the best sentence of another passage.
    rng = np.random.default_rng(0)
    best = rng.uniform(0.3, 0.95, 200)
    runner_up = best - rng.uniform(0.0, 0.3, 200)
    right = (best - runner_up) + rng.normal(0, 0.05, 200) > 0.15
    rankings = [Ranking(b, r) for b, r in zip(best, runner_up, strict=True)]

    model, confidence = fit_confidence(Outcomes(rankings, right, np.full(200, np.nan)), 0.05)

    assert model.coef[1] > 0
    assert model.of(Ranking(0.8, 0.3)) > model.of(Ranking(0.8, 0.75))
    answered = confidence >= model.threshold
    assert answered.any() and (answered & ~right).sum() <= 0.05 * len(right)


def test_the_committed_confidence_doubts_a_contested_answer():
    # The ordering model putting another passage's sentence nearly as high means doubt.
    ranker = SentenceRanker.load()
    assert ranker.confidence is not None
    clear = ranker.answer_confidence(Ranking(0.7, 0.3, 300, 0.6, order_lead=2.0))
    assert clear > ranker.answer_confidence(Ranking(0.7, 0.3, 300, 0.6, order_lead=0.1))


def test_the_committed_confidence_trusts_a_sentence_quoted_under_the_line_naming_the_topic():
    # Out of fold, an answer is right more often when the question's words the best sentence
    # lacks are in the line before it or its heading (a list's lead-in, a slide's title),
    # which the answer quotes with it.
    ranker = SentenceRanker.load()
    alone = ranker.answer_confidence(Ranking(0.7, 0.1, 300, 0.5, 0.0))
    assert ranker.answer_confidence(Ranking(0.7, 0.1, 300, 0.5, 0.4)) > alone


def test_the_committed_confidence_trusts_a_fuller_answer_more_than_one_short_line():
    # Out of fold, a one-line answer misses what was asked more often than one quoting the
    # best sentence with its neighbours.
    ranker = SentenceRanker.load()
    short = ranker.answer_confidence(Ranking(0.7, 0.1, length=90))
    assert ranker.answer_confidence(Ranking(0.7, 0.1, length=450)) > short


def test_the_ranker_survives_saving_and_loading(tmp_path):
    ranker = SentenceRanker.load()
    ranker.save(tmp_path / "ranker.json")
    again = SentenceRanker.load(tmp_path / "ranker.json")
    assert again == ranker
    sentence = dict(zip(ranker.features, ranker.mean, strict=True))
    parts = again.parts(sentence)
    assert set(parts) == {"regression", "trees"}
    assert again.probability(sentence) == pytest.approx((parts["regression"] + parts["trees"]) / 2)
    assert again.never_refusing().confident(Ranking(0.01, 0.0))
    assert not again.confident(Ranking(0.01, 0.0))


def test_the_committed_ordering_puts_first_a_sentence_covering_the_question():
    ranker = SentenceRanker.load()
    assert ranker.order is not None
    covering = {"own": 0.9, "passage": 0.9, "fused": 1.0, "dense": 0.85, "focus": 1.0}
    loose = {**covering, "own": 0.1, "passage": 0.3, "focus": 0.0}
    first, second = ranker.ordering([covering, loose])
    assert first > second


def test_the_ranker_prefers_a_sentence_covering_the_question():
    ranker = SentenceRanker.load()
    assert ranker.features == list(FEATURES)
    covering = {"own": 0.9, "passage": 0.9, "fused": 1.0, "dense": 0.85, "focus": 1.0}
    loose = {**covering, "own": 0.1, "passage": 0.3}
    assert ranker.probability(covering) > ranker.probability(loose)
    assert set(ranker.explain(covering)) == set(FEATURES)


@pytest.mark.integration
def test_a_fresh_training_gives_the_committed_model(real_assistant):
    """`make train` on a fresh index of the corpus gives the committed model, and twice
    the same one.

    A fresh build embeds the corpus into the same vectors, the dense search is exact and the
    BM25 index is written byte for byte the same, so retrieval and training are the same on
    every build; a small tolerance covers another CPU's floating-point rounding moving a
    candidate at the edge of the ranking.
    """
    cases = load_training()
    ranking = real_assistant.retriever.passage_ranker
    passages, first = train_both(real_assistant, cases)
    _, second = train_both(real_assistant, cases)
    real_assistant.retriever.passage_ranker = ranking
    committed = SentenceRanker.load()

    assert first == second
    assert passages.coef == pytest.approx(PassageRanker.load().coef, abs=0.05)
    assert first.features == committed.features
    assert first.report["strength"] == committed.report["strength"]
    assert first.threshold == committed.threshold
    assert first.coef == pytest.approx(committed.coef, abs=0.05)
    assert first.confidence.coef == pytest.approx(committed.confidence.coef, abs=0.05)
    assert first.confidence.threshold == pytest.approx(committed.confidence.threshold, abs=0.05)
    # The trees give the committed trees' probabilities, on sentences all over the features.
    rng = np.random.default_rng(0)
    mean, scale = np.array(committed.mean), np.array(committed.scale)
    rows = [
        dict(zip(committed.features, mean + scale * rng.normal(size=len(mean)), strict=True))
        for _ in range(50)
    ]
    fresh_trees = [first.parts(row)["trees"] for row in rows]
    assert fresh_trees == pytest.approx([committed.parts(r)["trees"] for r in rows], abs=0.05)
    # The ordering model orders them as the committed one does.
    assert first.ordering(rows) == pytest.approx(committed.ordering(rows), abs=0.05)
    # As safe as the committed one on its own out-of-fold answers.
    assert first.report["out_of_fold_wrong"] <= 0.05


def test_the_mean_reciprocal_rank_counts_the_first_evidence_passage_per_question():
    scores = np.array([0.9, 0.5, 0.1, 0.2, 0.8, 0.3, 0.7])
    labels = np.array([0, 1, 1, 0, 1, 0, 0])
    groups = np.array([0, 0, 0, 1, 1, 2, 2])  # question 2 has no evidence among its passages

    assert mean_reciprocal_rank(scores, labels, groups) == pytest.approx((1 / 2 + 1 + 0) / 3)


def test_the_committed_passage_ranker_prefers_a_close_passage_sharing_the_questions_phrases():
    ranker = PassageRanker.load()
    close = np.array([[0.0, 1.0, 1.0, 6.5, 0.5]])
    far = np.array([[-0.08, 0.2, 0.2, 6.5, 0.0]])

    assert ranker.features == list(PASSAGE_FEATURES)
    assert ranker.probabilities(close)[0] > 0.5 > ranker.probabilities(far)[0]


def test_the_passage_ranker_survives_saving_and_loading(tmp_path):
    ranker = PassageRanker.load()
    ranker.save(tmp_path / "passages.json")
    assert PassageRanker.load(tmp_path / "passages.json") == ranker


def test_a_passage_ranker_of_other_features_is_refused(tmp_path):
    ranker = PassageRanker.load()
    ranker.features = ["dense_gap", "lexical"]
    ranker.save(tmp_path / "old.json")
    with pytest.raises(ValueError, match="make train"):
        PassageRanker.load(tmp_path / "old.json")


@pytest.mark.integration
def test_a_fresh_training_gives_the_committed_passage_ranker(real_assistant):
    """The passages' features do not depend on their order: training on the assistant as it
    is (ranking with the committed model) gives the committed model."""
    cases = load_training()
    (fresh, folds), committed = train_passages(real_assistant, cases), PassageRanker.load()

    assert fresh.report["strength"] == committed.report["strength"]
    assert fresh.coef == pytest.approx(committed.coef, abs=0.05)
    assert fresh.intercept == pytest.approx(committed.intercept, abs=0.05)
    rows = np.random.default_rng(0).normal(
        committed.mean, committed.scale, (50, len(committed.mean))
    )
    assert fresh.probabilities(rows) == pytest.approx(committed.probabilities(rows), abs=0.05)
    # Better than the fixed fusion it replaces, out of fold.
    assert (
        fresh.report[f"out_of_fold_mrr_C={fresh.report['strength']}"] > fresh.report["fusion_mrr"]
    )
    # Every question with evidence has a model of its fold, fitted without it.
    answerable = [i for i, c in enumerate(cases) if c.evidence and c.expected != "abstain"]
    assert sorted(folds) == answerable
    assert len({id(model) for model in folds.values()}) == 5
