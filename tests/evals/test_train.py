"""Training the sentence ranker: labels, the refusal threshold, and a reproducible model."""

import numpy as np
import pytest

from assistant.answering.rank import FEATURES, Ranking, SentenceRanker
from evals.gold import load_gold
from evals.train import Outcomes, choose_threshold, fit_confidence, sentence_holds, train


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
    rankings = [Ranking(b, r, 0.8) for b, r in zip(best, runner_up, strict=True)]

    model, confidence = fit_confidence(Outcomes(rankings, right, np.full(200, np.nan)), 0.05)

    assert model.coef[1] > 0
    assert model.of(Ranking(0.8, 0.3, 0.8)) > model.of(Ranking(0.8, 0.75, 0.8))
    answered = confidence >= model.threshold
    assert answered.any() and (answered & ~right).sum() <= 0.05 * len(right)


def test_the_committed_confidence_doubts_a_contested_or_off_topic_answer():
    ranker = SentenceRanker.load()
    assert ranker.confidence is not None
    clear = ranker.answer_confidence(Ranking(0.7, 0.1, 0.88))
    assert clear > ranker.answer_confidence(Ranking(0.7, 0.65, 0.88))
    assert clear > ranker.answer_confidence(Ranking(0.7, 0.1, 0.78))


def test_the_ranker_survives_saving_and_loading(tmp_path):
    ranker = SentenceRanker.load()
    ranker.save(tmp_path / "ranker.json")
    again = SentenceRanker.load(tmp_path / "ranker.json")
    assert again == ranker
    assert again.never_refusing().confident(Ranking(0.01, 0.0, 0.5))
    assert not again.confident(Ranking(0.01, 0.0, 0.5))


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

    A fresh build embeds the corpus into the same vectors and the dense search is exact,
    so retrieval and training are the same on every build; a small tolerance covers another
    CPU's floating-point rounding moving a candidate at the edge of the ranking.
    """
    cases = load_gold()
    first, second = train(real_assistant, cases), train(real_assistant, cases)
    committed = SentenceRanker.load()

    assert first == second
    assert first.features == committed.features
    assert first.report["strength"] == committed.report["strength"]
    assert first.threshold == committed.threshold
    assert first.coef == pytest.approx(committed.coef, abs=0.05)
    assert first.confidence.coef == pytest.approx(committed.confidence.coef, abs=0.05)
    assert first.confidence.threshold == pytest.approx(committed.confidence.threshold, abs=0.05)
    # As safe as the committed one on its own out-of-fold answers.
    assert first.report["out_of_fold_wrong"] <= 0.05
