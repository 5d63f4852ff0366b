"""Training the sentence ranker: labels, the refusal threshold, and a reproducible model."""

import numpy as np
import pytest

from assistant.answering.rank import FEATURES, SentenceRanker
from evals.gold import load_gold
from evals.train import choose_threshold, sentence_holds, train


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


def test_the_ranker_prefers_a_sentence_covering_the_question():
    ranker = SentenceRanker.load()
    assert ranker.features == list(FEATURES)
    covering = {"own": 0.9, "passage": 0.9, "fused": 1.0, "dense": 0.85, "focus": 1.0}
    loose = {**covering, "own": 0.1, "passage": 0.3}
    assert ranker.probability(covering) > ranker.probability(loose)
    assert set(ranker.explain(covering)) == set(FEATURES)


@pytest.mark.integration
def test_a_fresh_training_gives_the_same_model(real_assistant):
    """`make train` is deterministic on an index: two trainings give the same model, with
    the committed model's features.

    Not bit-for-bit the committed weights: Chroma builds its approximate (HNSW) graph with
    several threads, so two builds of the same corpus can give a question another passage
    at the edge of its candidates (measured: weights up to 0.16 apart between this
    machine's index and a fresh one); the committed model is the one `make train` wrote on
    the project's index.
    """
    cases = load_gold()
    first, second = train(real_assistant, cases), train(real_assistant, cases)
    committed = SentenceRanker.load()

    assert first.features == second.features == committed.features
    assert first.coef == second.coef and first.threshold == second.threshold
    # As safe as the committed one on its own out-of-fold answers.
    assert first.report["out_of_fold_wrong"] <= 0.05
