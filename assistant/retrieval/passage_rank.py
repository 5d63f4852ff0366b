"""A learned ranking of candidate passages, in place of a fixed reciprocal-rank fusion.

Each ranking (dense, BM25 over passages, BM25 over their sentences) proposes its best
passages; every candidate is then described by general features — how far below the best
passage's dense similarity it lies, its BM25 and best-sentence BM25 scores relative to the
best ones, its length, and the share of the question's word pairs it holds in a row — and a
logistic regression and gradient-boosted trees, trained on the training sets' evidence
labels by `make train` (`evals/train.py`, the regression's strength chosen by k-fold
cross-validation grouped by question), turn them into the probability that the passage
holds the answer (the mean of theirs).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

PASSAGE_MODEL_PATH = Path(__file__).with_name("passage_ranker.json")

# The features, in the model's order. Each is general: nothing names a document or a topic.
PASSAGE_FEATURES: tuple[str, ...] = (
    "dense_gap",  # cosine similarity to the question minus the best passage's
    "lexical",  # BM25 score relative to the best passage's (0 outside the BM25 candidates)
    "sentence",  # best sentence's BM25 score relative to the best sentence's
    "length",  # log of the passage's length in characters
    "pairs",  # share of the question's adjacent word pairs the passage holds in a row
)


@dataclass(frozen=True)
class Rankings:
    """What each ranking says of a question's candidate passages: (id, score), best first."""

    dense: Sequence[tuple[str, float]]
    lexical: Sequence[tuple[str, float]]
    sentence: Sequence[tuple[str, float]] = ()
    others: Sequence[Sequence[tuple[str, float]]] = ()  # rankings that only propose

    def candidates(self) -> list[str]:
        """Every passage some ranking proposes, in the order they are first proposed."""
        ranked = (self.dense, self.lexical, self.sentence, *self.others)
        return list(dict.fromkeys(i for ranking in ranked for i, _ in ranking))


def word_pairs(tokens: Sequence[str]) -> set[tuple[str, str]]:
    """Adjacent token pairs: a question's pair found in a passage is a phrase they share."""
    return set(zip(tokens, tokens[1:], strict=False))


def passage_features(
    rankings: Rankings,
    cosine: Mapping[str, float],
    shape: Mapping[str, tuple[int, set[tuple[str, str]]]],
    question_pairs: set[tuple[str, str]],
) -> tuple[list[str], np.ndarray]:
    """The candidates and their PASSAGE_FEATURES, one row each.

    `cosine` gives every candidate's dense similarity, `shape` its length and word pairs; a
    passage without a shape (its text is gone from the store) is no candidate.
    """
    candidates = [i for i in rankings.candidates() if i in shape]
    best_dense = max((cosine[i] for i in candidates), default=0.0)
    lexical, sentence = dict(rankings.lexical), dict(rankings.sentence)
    best_lexical = max(lexical.values(), default=0.0) or 1.0
    best_sentence = max(sentence.values(), default=0.0) or 1.0
    rows = []
    for chunk_id in candidates:
        length, pairs = shape[chunk_id]
        rows.append(
            [
                cosine[chunk_id] - best_dense,
                lexical.get(chunk_id, 0.0) / best_lexical,
                sentence.get(chunk_id, 0.0) / best_sentence,
                math.log(length + 1),
                len(question_pairs & pairs) / max(1, len(question_pairs)),
            ]
        )
    return candidates, np.array(rows, dtype=float).reshape(len(rows), len(PASSAGE_FEATURES))


@dataclass
class PassageRanker:
    """Logistic regression over standardised PASSAGE_FEATURES, averaged with gradient-boosted
    trees over the same features when `trees` holds them (LightGBM's model text)."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    report: dict = field(default_factory=dict)
    trees: str | None = None

    def __post_init__(self):
        self._booster = None
        if self.trees:
            import lightgbm

            self._booster = lightgbm.Booster(model_str=self.trees)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Each row's probability of holding the answer."""
        z = ((rows - np.array(self.mean)) / np.array(self.scale)) @ np.array(self.coef)
        regression = 1.0 / (1.0 + np.exp(-(z + self.intercept)))
        if self._booster is None or not len(rows):
            return regression
        return (regression + self._booster.predict(rows)) / 2

    @classmethod
    def load(cls, path: Path = PASSAGE_MODEL_PATH) -> PassageRanker:
        ranker = cls(**json.loads(path.read_text(encoding="utf-8")))
        if tuple(ranker.features) != PASSAGE_FEATURES:
            raise ValueError(f"{path} was trained on other features: run `make train`.")
        return ranker

    def save(self, path: Path = PASSAGE_MODEL_PATH) -> None:
        path.write_text(
            json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
