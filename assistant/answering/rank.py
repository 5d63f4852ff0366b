"""A learned ranker of candidate sentences, and the one calibrated refusal it decides.

Each sentence of the retrieved passages is described by general features (how much of the
question it covers, its passage's rank and similarity, whether it holds the kind of answer
the question wants…). A logistic regression and gradient-boosted trees (LightGBM), both
trained on the training sets' evidence labels by `make train` (`evals/train.py`), turn
them into the probability that the sentence holds the answer (the mean of theirs); a third
model, LightGBM's lambdarank, orders a question's candidates (trained to put one holding
the answer first, which it does more often than the probabilities). Whether to answer at
all is a question about the whole ranking: a second, smaller model turns the first
sentence's probability, its lead over the best sentence of any other passage (two passages
that compete for the answer mean doubt) and the length of the answer composed from them (a
short line often misses what was asked), how much of the question the first sentence and
the line or heading quoted with it cover, and the ordering model's lead over any other
passage's best, into the confidence that the answer is right. Below one threshold, chosen
by cross-validation, the assistant refuses and shows the closest passages.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).with_name("ranker.json")

# The features, in the model's order. Each is general: nothing names a document or a topic.
FEATURES: tuple[str, ...] = (
    "own",  # IDF-weighted share of the question's concepts in the sentence
    "context",  # share found only in the line before or the section heading
    "passage",  # share found anywhere in the passage, its heading or its document's title
    "title",  # share found in the document's title or publisher
    "fused",  # the passage ranker's probability that the passage holds the answer
    "dense",  # the passage's dense similarity to the question
    "dense_gap",  # how far below the best passage's dense similarity
    "hit_rank",  # log(1 + rank of the passage)
    "position",  # log(1 + rank of the sentence in its passage)
    "length",  # log of the sentence's length in characters
    "label",  # a short line without a figure: a heading or a label
    "figure",  # the question wants a figure and the sentence holds one it does not give
    "no_figure",  # the question wants a figure and the sentence holds none
    "date",  # the question asks when and the sentence holds a date or a delay
    "threshold",  # the question is about who is concerned and the sentence states a threshold
    "role",  # the question asks for someone's role and the sentence names one
    "list_lead",  # the question asks for a list and the sentence announces one
    "claimed",  # the sentence counts what the question claims a figure of
    "negates",  # the sentence says there is none of what the question asks about
    "focus",  # the sentence (or its headings) names the noun the question asks about
    "follow_up",  # the question leans on the conversation before it
    "english",  # the question is in English (the corpus is French)
)


# What the answer's confidence is computed from, per question.
ANSWER_FEATURES: tuple[str, ...] = (
    "best",  # the log-odds of the best sentence's probability
    "lead",  # how far the best sentence's probability is above any other passage's best
    "length",  # log of the composed answer's length: what it says beyond one short line
    "coverage",  # IDF-weighted share of the question's concepts in the best sentence
    "context",  # share found only in the line before it or its heading, quoted with it
    "order_lead",  # how far the ordering model puts it above any other passage's best (0-1)
)


@dataclass(frozen=True)
class Ranking:
    """What the ranking of a question's candidate sentences says about answering it."""

    best: float  # the best sentence's probability
    runner_up: float  # the best probability of another passage's sentence (0 if none)
    length: int = 0  # characters of the answer composed from it
    coverage: float = 0.0  # the best sentence's share of the question's concepts
    context: float = 0.0  # the share its line before or heading adds
    order_lead: float = 0.0  # its ordering score's lead over another passage's best

    def features(self) -> list[float]:
        """The values of ANSWER_FEATURES."""
        best = min(max(self.best, 1e-6), 1 - 1e-6)
        return [
            math.log(best / (1 - best)),
            best - self.runner_up,
            math.log1p(self.length),
            self.coverage,
            self.context,
            self.order_lead,
        ]


@dataclass
class AnswerConfidence:
    """Logistic regression over ANSWER_FEATURES: the probability that the answer is right;
    below `threshold` the assistant refuses."""

    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float

    def of(self, ranking: Ranking) -> float:
        """The confidence in an answer drawn from this ranking."""
        z = self.intercept
        for value, mean, scale, coef in zip(
            ranking.features(), self.mean, self.scale, self.coef, strict=True
        ):
            z += coef * (value - mean) / scale
        return 1.0 / (1.0 + math.exp(-z))


@dataclass
class SentenceRanker:
    """Logistic regression over standardised features, averaged with gradient-boosted trees
    over the same features when `trees` holds them (LightGBM's model text: the trees find
    what matters together, the regression keeps the probabilities steady); `threshold` is
    the probability a sentence of another passage needs to join the answer, `confidence`
    decides whether to answer at all (without it, the best sentence must reach
    `threshold`)."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float
    report: dict = field(default_factory=dict)
    confidence: AnswerConfidence | None = None
    refuses: bool = True
    trees: str | None = None
    order: str | None = None  # LightGBM ranking model (lambdarank): a question's candidates

    def __post_init__(self):
        if isinstance(self.confidence, dict):
            self.confidence = AnswerConfidence(**self.confidence)
        self._booster = _booster(self.trees)
        self._order = _booster(self.order)

    def answer_confidence(self, ranking: Ranking) -> float:
        """The confidence that an answer drawn from this ranking is right."""
        if self.confidence is None:
            return ranking.best
        return self.confidence.of(ranking)

    def never_refusing(self) -> SentenceRanker:
        """The same ranking without its refusal: what an answer is made of once it answers."""
        return replace(self, refuses=False)

    def confident(self, ranking: Ranking) -> bool:
        """Whether to answer rather than refuse."""
        if not self.refuses:
            return True
        if self.confidence is None:
            return ranking.best >= self.threshold
        return self.confidence.of(ranking) >= self.confidence.threshold

    def probability(self, values: dict[str, float]) -> float:
        """The probability that a sentence with these feature values holds the answer."""
        return self.probabilities([values])[0]

    def probabilities(self, rows: list[dict[str, float]]) -> list[float]:
        """`probability` of each row, computed at once (the trees predict a whole question's
        candidates in one call, twenty times faster than one by one)."""
        if not rows:
            return []
        models = self._models(rows)
        return (sum(models.values()) / len(models)).tolist()

    def ordering(self, rows: list[dict[str, float]]) -> list[float]:
        """Scores that order one question's candidates, best first: the ranking model's
        when there is one (trained to put a sentence holding the answer first, it does so
        more often than the probabilities do), else the probabilities."""
        if self._order is None or not rows:
            return self.probabilities(rows)
        return self._order.predict(self._values(rows)).tolist()

    def parts(self, values: dict[str, float]) -> dict[str, float]:
        """The probability by each model: the regression's, and the trees' when there are."""
        return {name: float(p[0]) for name, p in self._models([values]).items()}

    def _models(self, rows: list[dict[str, float]]) -> dict[str, np.ndarray]:
        """Each model's probabilities for the rows."""
        values = self._values(rows)
        z = self.intercept + ((values - self.mean) / self.scale) @ np.array(self.coef)
        models = {"regression": 1.0 / (1.0 + np.exp(-z))}
        if self._booster is not None:
            models["trees"] = self._booster.predict(values)
        return models

    def _values(self, rows: list[dict[str, float]]) -> np.ndarray:
        """The rows as a matrix, one column per feature in the model's order."""
        return np.array([[row.get(name, 0.0) for name in self.features] for row in rows])

    def explain(self, values: dict[str, float]) -> dict[str, float]:
        """Each feature's contribution to the regression's log-odds, for the debug trace."""
        return {
            name: round(coef * (values.get(name, 0.0) - mean) / scale, 3)
            for name, mean, scale, coef in zip(
                self.features, self.mean, self.scale, self.coef, strict=True
            )
        }

    @classmethod
    def neutral(cls) -> SentenceRanker:
        """A ranker with no opinion (every probability 0.5), to describe candidates."""
        count = len(FEATURES)
        return cls(list(FEATURES), [0.0] * count, [1.0] * count, [0.0] * count, 0.0, 0.0)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> SentenceRanker:
        data = json.loads(path.read_text(encoding="utf-8"))
        ranker = cls(**data)
        missing = set(FEATURES) - set(ranker.features)
        if missing:
            raise ValueError(
                f"{path} was trained without the features {sorted(missing)}: run `make train`."
            )
        if ranker.confidence is not None and len(ranker.confidence.coef) != len(ANSWER_FEATURES):
            raise ValueError(
                f"{path} has an answer confidence of other features: run `make train`."
            )
        return ranker

    def save(self, path: Path = MODEL_PATH) -> None:
        path.write_text(
            json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def _booster(model: str | None):
    """The LightGBM model of a model text, or None without one (LightGBM loads only then)."""
    if not model:
        return None
    import lightgbm

    return lightgbm.Booster(model_str=model)
