"""Train the passage and sentence rankers and choose the refusal threshold (`make train`).

First the passage ranker: every candidate passage of a gold question (what the dense and
BM25 rankings propose) is labelled positive when it holds one of the case's evidence
quotes, and a logistic regression is fitted on the passages' features, its strength chosen
by the out-of-fold mean reciprocal rank of the first evidence passage (k-fold grouped by
question). It is committed as `assistant/retrieval/passage_ranker.json`; the sentences
below are those of the passages it ranks. Each gold question's passages are then ranked by
a passage model that did not see that question (its fold's): the sentence ranker learns how
far to trust a passage probability as it will be on new questions, not on its own training.

For every gold question the assistant retrieves its passages as it would to answer; every
candidate sentence is labelled positive when it holds one of the case's evidence quotes. A
logistic regression is fitted on the candidates' features; its strength is the one with
the lowest log-loss in k-fold cross-validation grouped by question (no question is ever
scored by a model that saw it). Gradient-boosted trees (`TREES`) are fitted on the same
rows; a sentence's probability is the mean of the two models'. Each question is then
answered by a model that did not see it: its best sentence's probability, that sentence's
lead over the best of another passage, the answer's length, the share of the question the
best sentence covers (alone and with the line or heading quoted with it), and whether the
answer is right (as the evaluation scores it) train the answer-confidence model, whose
refusal threshold is the lowest one at which wrong answers (out of fold) stay at most
`MAX_WRONG` of the questions.
Deterministic: the same index gives the same model, which is committed as
`assistant/answering/ranker.json`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold, RepeatedStratifiedKFold
from sklearn.preprocessing import StandardScaler

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.extractive import evidence as usable_hits
from assistant.answering.rank import (
    FEATURES,
    MODEL_PATH,
    AnswerConfidence,
    Ranking,
    SentenceRanker,
)
from assistant.core import Assistant, build_assistant
from assistant.query import build_query
from assistant.retrieval.passage_rank import PASSAGE_FEATURES, PASSAGE_MODEL_PATH, PassageRanker
from assistant.settings import Settings
from evals.gold import DEFAULT_GOLD, GoldCase, load_gold
from evals.matching import contains, normalize
from evals.metrics import citation_precision, classify_outcome, facts_correct, passage_holds

# The labelled questions the rankers learn from: the first gold set, and five more written
# from the corpus alone by helpers that never saw the code.
TRAINING_SETS = tuple(
    DEFAULT_GOLD.with_name(f"gold{n}.jsonl") for n in ("", "2", "3", "4", "5", "6")
)
FOLDS = 5
STRENGTHS = (0.03, 0.1, 0.3, 1.0, 3.0)  # inverse regularisation C tried by cross-validation
# Out-of-fold log-losses this close are a tie (they differ by 1e-5 across the strengths on
# 871 questions, and a fresh index on another CPU moves them by as much): the most
# regularised of the tied strengths is taken, so the choice does not follow the rounding.
LOSS_TIE = 1e-4
# Likewise for the passage ranker's out-of-fold MRR (0.7322 against 0.7324).
MRR_TIE = 1e-3
MAX_WRONG = 0.05  # wrong answers among answered questions the threshold allows, out of fold
CONFIDENCE_STRENGTH = 1.0  # the answer-confidence model's C (five features: lightly regularised)
CONFIDENCE_REPEATS = 10  # repetitions of its out-of-fold estimate (121 questions: noisy alone)
# Another passage's sentence joins an answer from the lowest of these probabilities at which
# the answers' citations still hold the evidence MIN_CITATION_PRECISION of the time.
SENTENCE_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4)
MIN_CITATION_PRECISION = 0.7
MIN_RUN = 5  # words a sentence must share in a row with a quote to hold part of it
# The trees averaged with the sentence ranker's regression, chosen out of fold on the 571
# training questions against the regression alone: answers right at the refusal threshold
# 28.6 → 30.1 %, and over wrong-answer budgets of 2–8 % 0.267 → 0.275 on average (500 trees
# of 31 leaves: 30.3 % and 0.279, for a model three times larger). The trees alone rank the
# evidence sentence first more often (55.6 → 57.1–58.4 %), but their probabilities make a
# worse confidence (0.263).
TREES = {
    "n_estimators": 300,
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_child_samples": 30,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
}
# The model that orders a question's candidate sentences (LightGBM's lambdarank, trained to
# put a sentence holding the evidence first): out of fold on the 871 training questions, the
# first sentence holds the evidence for 65.7 % of those that have one, against 59.9 % by
# the probabilities (regression and trees); those still decide whether to answer.
ORDER = {**TREES, "n_estimators": 500, "num_leaves": 31, "min_child_samples": 20}
# The passage ranker's trees are larger: out of fold on the 871 training questions, MRR
# 0.749 → 0.761 (on the sentences the larger trees answer no better: 31.8 → 31.5 % right at
# the threshold).
PASSAGE_TREES = {**TREES, "n_estimators": 500, "num_leaves": 31}


def load_training(paths=TRAINING_SETS) -> list[GoldCase]:
    """The training sets' cases, one list."""
    return [case for path in paths for case in load_gold(Path(path))]


@dataclass
class Candidates:
    """The candidate sentences of the gold questions, as a feature matrix with labels."""

    features: np.ndarray  # one row per candidate, columns in FEATURES order
    labels: np.ndarray  # 1 when the sentence holds evidence
    groups: np.ndarray  # the question each candidate belongs to
    in_evidence: np.ndarray  # 1 when the sentence's passage holds evidence
    answerable: np.ndarray  # per question: whether it has evidence to find
    prepared: list = field(default_factory=list)  # per question: (query, hits) as retrieved


def sentence_holds(sentence: str, quote: str) -> bool:
    """Whether a sentence holds a quote, or a part of it long enough to be its answer.

    Quotes may span two sentences: a sentence that is mostly made of the quote's words,
    in a row, holds part of the evidence.
    """
    if passage_holds(sentence, quote) or contains(quote, sentence):
        return True
    quote_words, words = normalize(quote).split(), normalize(sentence).split()
    if not quote_words or not words:
        return False
    matcher = SequenceMatcher(None, words, quote_words, autojunk=False)
    run = matcher.find_longest_match(0, len(words), 0, len(quote_words)).size
    return run >= MIN_RUN and run >= 0.6 * min(len(words), len(quote_words))


def collect(
    assistant: Assistant,
    cases: list[GoldCase],
    passage_rankers: dict[int, PassageRanker] | None = None,
) -> Candidates:
    """Retrieve each case's passages and describe its candidate sentences; a case listed in
    `passage_rankers` has its passages ranked by that model."""
    answerer = assistant.extractive
    assert isinstance(answerer, ExtractiveAnswerer), "training needs the extractive answerer"
    answerer = ExtractiveAnswerer(answerer.lexical, ranker=SentenceRanker.neutral())
    rows, labels, groups, answerable, in_evidence, prepared = [], [], [], [], [], []
    retriever, committed = assistant.retriever, assistant.retriever.passage_ranker
    for number, case in enumerate(cases):
        retriever.passage_ranker = (passage_rankers or {}).get(number, committed)
        query, hits = assistant._prepare(
            case.question,
            [m.model_dump() for m in case.history],
            None,
            case.profile.model_dump() if case.profile else None,
            False,
        )
        hits = usable_hits(hits)  # as the answerer sees them
        prepared.append((query, hits))
        evidence = [(e.doc, e.quote) for e in case.evidence]
        answerable.append(bool(evidence) and case.expected != "abstain")
        for candidate in answerer.candidates(query, hits):
            document = hits[candidate.hit_index].chunk.metadata.get("doc_id")
            holds = any(
                doc == document and sentence_holds(candidate.text, quote) for doc, quote in evidence
            )
            passage = hits[candidate.hit_index].chunk.text
            in_evidence.append(
                int(
                    case.expected != "abstain"
                    and any(doc == document and passage_holds(passage, q) for doc, q in evidence)
                )
            )
            rows.append([candidate.features[name] for name in FEATURES])
            labels.append(int(holds and case.expected != "abstain"))
            groups.append(number)
    retriever.passage_ranker = committed
    return Candidates(
        np.array(rows, dtype=float),
        np.array(labels),
        np.array(groups),
        np.array(in_evidence),
        np.array(answerable),
        prepared,
    )


@dataclass
class PassageCandidates:
    """The candidate passages of the gold questions that have evidence, with labels."""

    features: np.ndarray  # one row per candidate, columns in PASSAGE_FEATURES order
    labels: np.ndarray  # 1 when the passage holds evidence
    groups: np.ndarray  # the question each candidate belongs to
    fused: np.ndarray  # its reciprocal-rank fusion score, the fixed ranking the model replaces


def collect_passages(assistant: Assistant, cases: list[GoldCase]) -> PassageCandidates:
    """Each answerable case's candidate passages, described as the retriever describes them."""
    retriever = assistant.retriever
    rows, labels, groups, fused = [], [], [], []
    for number, case in enumerate(cases):
        if not case.evidence or case.expected == "abstain":
            continue
        query = build_query(
            assistant._validate(case.question), list(case.history), case.profile, False
        )
        vector = retriever.store.embeddings.embed_query(query.text)
        rankings = retriever.rankings(query.text, None, query.lexical, vector)
        cosine = retriever.dense.similarities(vector, rankings.candidates())
        candidates, features = retriever.passage_features(
            rankings, query.lexical or query.text, cosine
        )
        chunks = retriever.store.get(candidates)
        fusion = retriever._fused(rankings)
        for chunk_id, row in zip(candidates, features, strict=True):
            chunk = chunks[chunk_id]
            document = chunk.metadata.get("doc_id")
            evidence = case.evidence
            labels.append(
                int(any(e.doc == document and passage_holds(chunk.text, e.quote) for e in evidence))
            )
            rows.append(row)
            groups.append(number)
            fused.append(fusion[chunk_id])
    return PassageCandidates(
        np.array(rows, dtype=float).reshape(len(rows), len(PASSAGE_FEATURES)),
        np.array(labels),
        np.array(groups),
        np.array(fused),
    )


def mean_reciprocal_rank(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> float:
    """Over the questions, 1 / rank of the first passage holding evidence (0 if none)."""
    total, questions = 0.0, np.unique(groups)
    for question in questions:
        mine = np.flatnonzero(groups == question)
        ordered = labels[mine][np.argsort(-scores[mine], kind="stable")]
        found = np.flatnonzero(ordered)
        total += 1.0 / (1 + found[0]) if len(found) else 0.0
    return total / max(1, len(questions))


def train_passages(
    assistant: Assistant, cases: list[GoldCase]
) -> tuple[PassageRanker, dict[int, PassageRanker]]:
    """The passage ranker fitted on all cases, its strength chosen out of fold (the
    most regularised within `MRR_TIE` of the best MRR), and for each
    question with evidence the ranker of its fold (fitted without it)."""
    data = collect_passages(assistant, cases)
    report: dict = {"questions": len(np.unique(data.groups)), "candidates": len(data.labels)}
    report["positives"] = int(data.labels.sum())
    report["fusion_mrr"] = round(mean_reciprocal_rank(data.fused, data.labels, data.groups), 4)
    mrrs = {}
    for strength in STRENGTHS:
        scores = np.zeros(len(data.labels))
        for train, test in GroupKFold(n_splits=FOLDS).split(data.features, groups=data.groups):
            mean, scale, model = _fit(data.features[train], data.labels[train], strength)
            scores[test] = model.decision_function((data.features[test] - mean) / scale)
        mrrs[strength] = mean_reciprocal_rank(scores, data.labels, data.groups)
        report[f"out_of_fold_mrr_C={strength}"] = round(mrrs[strength], 4)
    best = max(mrrs.values())
    strength = min(s for s, mrr in mrrs.items() if mrr >= best - MRR_TIE)
    report["strength"] = strength

    def ranker(rows) -> PassageRanker:
        weights = _weights(*_fit(data.features[rows], data.labels[rows], strength))
        trees = _fit_trees(data.features[rows], data.labels[rows], PASSAGE_TREES)
        return PassageRanker(features=list(PASSAGE_FEATURES), **weights, trees=trees)

    folds, scores = {}, np.zeros(len(data.labels))
    for train, test in GroupKFold(n_splits=FOLDS).split(data.features, groups=data.groups):
        fold = ranker(train)
        folds.update({int(question): fold for question in np.unique(data.groups[test])})
        scores[test] = fold.probabilities(data.features[test])
    report["out_of_fold_mrr_with_trees"] = round(
        mean_reciprocal_rank(scores, data.labels, data.groups), 4
    )
    everything = ranker(np.arange(len(data.labels)))
    everything.report = report
    return everything, folds


def _fit(features: np.ndarray, labels: np.ndarray, strength: float):
    scaler = StandardScaler().fit(features)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=strength, max_iter=2000)
    model.fit((features - scaler.mean_) / scale, labels)
    return scaler.mean_, scale, model


def _fit_trees(features: np.ndarray, labels: np.ndarray, params: dict = TREES) -> str:
    """Gradient-boosted trees (LightGBM, with `params`) over the features, as LightGBM's
    model text; deterministic (one thread, fixed seeds)."""
    import lightgbm

    model = lightgbm.LGBMClassifier(**params, verbose=-1, n_jobs=1, random_state=0)
    model.set_params(deterministic=True, force_row_wise=True)
    return model.fit(features, labels).booster_.model_to_string()


def _fit_order(features: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> str:
    """The lambdarank model ordering each question's candidates (`ORDER`), as LightGBM's
    model text; deterministic (one thread, fixed seeds)."""
    import lightgbm

    rows = np.argsort(groups, kind="stable")  # a question's candidates side by side
    sizes = np.unique(groups[rows], return_counts=True)[1]
    model = lightgbm.LGBMRanker(
        objective="lambdarank", **ORDER, verbose=-1, n_jobs=1, random_state=0
    )
    model.set_params(deterministic=True, force_row_wise=True)
    model.fit(features[rows], labels[rows], group=sizes)
    return model.booster_.model_to_string()


def _out_of_fold(data: Candidates, strength: float) -> np.ndarray:
    """Each candidate's probability from a model trained without its question."""
    probabilities = np.zeros(len(data.labels))
    for train, test in GroupKFold(n_splits=FOLDS).split(data.features, groups=data.groups):
        mean, scale, model = _fit(data.features[train], data.labels[train], strength)
        probabilities[test] = model.predict_proba((data.features[test] - mean) / scale)[:, 1]
    return probabilities


def _per_question(data: Candidates, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each question's confidence (its best candidate's probability) and whether that best
    candidate holds the evidence."""
    count = len(data.answerable)
    confidence, right = np.zeros(count), np.zeros(count, dtype=bool)
    for question in range(count):
        mine = np.flatnonzero(data.groups == question)
        if len(mine) == 0:
            continue
        best = mine[np.argmax(probabilities[mine])]
        confidence[question] = probabilities[best]
        right[question] = bool(data.in_evidence[best]) and data.answerable[question]
    return confidence, right


def _weights(mean, scale, model) -> dict:
    """A fitted model's standardisation and weights, rounded as the committed file holds them."""
    return {
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
    }


def _ranker(
    fitted, trees: str | None, order: str | None, threshold: float, report: dict | None = None
) -> SentenceRanker:
    return SentenceRanker(
        features=list(FEATURES),
        **_weights(*fitted),
        threshold=round(threshold, 4),
        report=report or {},
        trees=trees,
        order=order,
    )


# Per fold of the questions: the rows it trains on, and the regression, trees and ordering
# model fitted on them (fitted once, tried with every sentence threshold).
FoldModels = list[tuple[np.ndarray, tuple, str, str]]


def fit_folds(data: Candidates, strength: float) -> FoldModels:
    splits = GroupKFold(n_splits=FOLDS).split(data.features, groups=data.groups)
    return [
        (
            rows,
            _fit(data.features[rows], data.labels[rows], strength),
            _fit_trees(data.features[rows], data.labels[rows]),
            _fit_order(data.features[rows], data.labels[rows], data.groups[rows]),
        )
        for rows, _ in splits
    ]


@dataclass
class Outcomes:
    """Each question answered by a ranker trained without it (no refusal)."""

    rankings: list[Ranking]  # what each question's ranking says (all zero: no candidate)
    right: np.ndarray  # whether the answer is right, as the evaluation scores it
    precision: np.ndarray  # share of its citations holding evidence (nan: not applicable)


def answer_outcomes(
    data: Candidates, cases: list[GoldCase], lexical, fitted: FoldModels, sentence_threshold: float
) -> Outcomes:
    """Each question answered by a ranker trained without it (no refusal), quoting other
    passages' sentences from `sentence_threshold` up: what its ranking says, whether
    the answer is right as the evaluation scores it (every key fact in the answer; an
    unanswerable question answered is wrong), and its citations' precision."""
    count = len(cases)
    rankings, precision = [Ranking(0.0, 0.0)] * count, np.full(count, np.nan)
    right = np.zeros(count, dtype=bool)
    for train_rows, regression, trees, order in fitted:
        ranker = _ranker(regression, trees, order, sentence_threshold).never_refusing()
        answerer = ExtractiveAnswerer(lexical, ranker=ranker)
        for question in sorted(set(range(count)) - set(data.groups[train_rows])):
            query, hits = data.prepared[question]
            draft = answerer.answer(query, hits)
            if draft.trace["ranking"] is None:
                continue  # no candidate sentence
            case = cases[question]
            ok = facts_correct(draft.answer, case.key_facts)
            rankings[question] = Ranking(**draft.trace["ranking"])
            right[question] = classify_outcome(case.expected, draft.abstained, ok) == "correct"
            cited = citation_precision(
                [c.model_dump() for c in draft.citations], [e.model_dump() for e in case.evidence]
            )
            precision[question] = np.nan if cited is None else cited
    return Outcomes(rankings, right, precision)


def choose_sentence_threshold(
    data: Candidates, cases: list[GoldCase], lexical, fitted: FoldModels
) -> tuple[float, Outcomes]:
    """The lowest threshold (quoting the most) at which the answers' citations hold the
    evidence at least `MIN_CITATION_PRECISION` of the time, out of fold, with its outcomes
    (the highest threshold tried when none reaches it)."""
    for threshold in SENTENCE_THRESHOLDS:
        outcomes = answer_outcomes(data, cases, lexical, fitted, threshold)
        if np.nanmean(outcomes.precision) >= MIN_CITATION_PRECISION:
            break
    return threshold, outcomes


def fit_confidence(outcomes: Outcomes, max_wrong: float) -> tuple[AnswerConfidence, np.ndarray]:
    """The answer-confidence model and its refusal threshold, with each question's
    out-of-fold confidence (averaged over repeated stratified folds)."""
    features = np.array([ranking.features() for ranking in outcomes.rankings])
    right = outcomes.right.astype(int)
    confidence = np.zeros(len(right))
    folds = RepeatedStratifiedKFold(n_splits=FOLDS, n_repeats=CONFIDENCE_REPEATS, random_state=0)
    for train_rows, test_rows in folds.split(features, right):
        mean, scale, model = _fit(features[train_rows], right[train_rows], CONFIDENCE_STRENGTH)
        scores = model.predict_proba((features[test_rows] - mean) / scale)[:, 1]
        confidence[test_rows] += scores / CONFIDENCE_REPEATS
    threshold = choose_threshold(confidence, outcomes.right, max_wrong)
    weights = _weights(*_fit(features, right, CONFIDENCE_STRENGTH))
    return AnswerConfidence(**weights, threshold=round(threshold, 4)), confidence


def choose_threshold(confidence: np.ndarray, right: np.ndarray, max_wrong: float) -> float:
    """The lowest threshold at which wrong answers stay at most `max_wrong` of all questions
    (answering more is better while it stays that safe)."""
    for threshold in sorted(set(np.round(confidence, 4))):
        answered = confidence >= threshold
        if (answered & ~right).sum() <= max_wrong * len(confidence):
            return float(threshold)
    return 1.0


def train(
    assistant: Assistant,
    cases: list[GoldCase],
    max_wrong: float = MAX_WRONG,
    passage_rankers: dict[int, PassageRanker] | None = None,
):
    """The ranker fitted on all cases, with its cross-validated strength and threshold.

    The strength is the one whose out-of-fold probabilities have the lowest log-loss (the
    most regularised within `LOSS_TIE` of it): how
    many questions the answers get right at the refusal threshold would judge it by what it
    is for, but it moves by several points when two or three questions change, and picked
    the strength by that noise.
    """
    data = collect(assistant, cases, passage_rankers)
    report: dict = {"questions": len(cases), "candidates": int(len(data.labels))}
    report["positives"] = int(data.labels.sum())
    lexical = assistant.answerer.lexical
    count = len(cases)
    losses = {}
    for strength in STRENGTHS:
        probabilities = np.clip(_out_of_fold(data, strength), 1e-9, 1 - 1e-9)
        losses[strength] = float(log_loss(data.labels, probabilities))
        report[f"out_of_fold_log_loss_C={strength}"] = round(losses[strength], 5)
    best = min(losses.values())
    strength = min(s for s, loss in losses.items() if loss <= best + LOSS_TIE)
    fitted = fit_folds(data, strength)
    threshold, outcomes = choose_sentence_threshold(data, cases, lexical, fitted)
    confidence_model, confidence = fit_confidence(outcomes, max_wrong)
    right = outcomes.right
    answered = confidence >= confidence_model.threshold
    report.update(
        strength=strength,
        sentence_threshold=threshold,
        out_of_fold_citation_precision=round(float(np.nanmean(outcomes.precision)), 4),
        answer_threshold=confidence_model.threshold,
        out_of_fold_without_refusal_correct=round(float(right.mean()), 4),
        out_of_fold_answered=round(float(answered.mean()), 4),
        out_of_fold_correct=round(float((answered & right).sum() / count), 4),
        out_of_fold_wrong=round(float((answered & ~right).sum() / count), 4),
    )
    ranker = _ranker(
        _fit(data.features, data.labels, strength),
        _fit_trees(data.features, data.labels),
        _fit_order(data.features, data.labels, data.groups),
        threshold,
        report,
    )
    ranker.confidence = confidence_model
    return ranker


def train_both(
    assistant: Assistant, cases: list[GoldCase], max_wrong: float = MAX_WRONG
) -> tuple[PassageRanker, SentenceRanker]:
    """The passage ranker, then the sentence ranker on the passages it ranks (each question's
    by its fold's passage model). The passages' features do not depend on how they are
    ordered: the assistant may rank them any way to begin with."""
    passages, folds = train_passages(assistant, cases)
    assistant.retriever.passage_ranker = passages
    return passages, train(assistant, cases, max_wrong, folds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, nargs="+", default=list(TRAINING_SETS))
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--passages-out", type=Path, default=PASSAGE_MODEL_PATH)
    parser.add_argument("--max-wrong", type=float, default=MAX_WRONG)
    args = parser.parse_args(argv)
    cases = load_training(args.gold)
    try:
        SentenceRanker.load()
    except ValueError:  # a model from older features: start from one without opinions
        SentenceRanker.neutral().save()
    assistant = build_assistant(Settings(fusion="rrf"))
    passages, ranker = train_both(assistant, cases, args.max_wrong)
    passages.save(args.passages_out)
    for key, value in passages.report.items():
        print(f"passages {key:31s} {value}")
    ranker.save(args.out)
    for key, value in ranker.report.items():
        print(f"{key:40s} {value}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
