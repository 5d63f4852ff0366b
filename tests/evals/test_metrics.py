"""Unit tests of the evaluation metrics on toy inputs."""

import pytest

from evals.metrics import (
    citation_precision,
    citation_recall,
    classify_outcome,
    crag_score,
    facts_correct,
    key_fact_hits,
    passage_holds,
    percentile,
    recall_at_k,
    reciprocal_rank,
    score_case,
    summarize,
    summarize_by_type,
)

QUOTE = "Les communes de moins de 3 500 habitants peuvent bénéficier de l'accompagnement."
EVIDENCE = [
    {"doc": "doc_a", "quote": QUOTE},
    {"doc": "doc_b", "quote": "Le budget atteint 50 000 euros par an."},
]


def passage(doc: str, text: str) -> dict:
    return {"document_id": doc, "title": "", "locator": "", "page": None, "text": text, "score": 0}


RIGHT_A = passage(
    "doc_a",
    "Contexte. Les communes de moins de 3500 habitants peuvent beneficier de l'accompagnement.",
)
RIGHT_B = passage("doc_b", "BUDGET : le budget atteint 50.000 euros par an (hors taxes).")
NOISE = passage("doc_a", "Rien à voir avec la question posée.")


# --- passage_holds ---------------------------------------------------------------------------


def test_passage_holds_tolerates_accents_case_and_number_formats():
    assert passage_holds(
        "LES COMMUNES DE MOINS DE 3.500 HABITANTS peuvent bénéficier", "moins de 3 500 habitants"
    )
    assert passage_holds("un coût de 50 000 €", "50000")
    assert passage_holds("la stratégie numérique responsable", "strategie numerique RESPONSABLE")


def test_passage_holds_rejects_unrelated_text_and_partial_numbers():
    assert not passage_holds("moins de 35 000 habitants", "moins de 3 500 habitants")
    assert not passage_holds("Rien à voir.", QUOTE)
    assert not passage_holds("texte", "")


def test_passage_holds_accepts_a_quote_cut_by_a_chunk_boundary():
    # The chunk ends after 8 of the quote's 12 words (67 %).
    chunk_end = "… fin du chunk précédent. Les communes de moins de 3 500 habitants peuvent"
    assert passage_holds(chunk_end, QUOTE)
    # Only 4 of 12 words (33 %): not enough.
    assert not passage_holds("début. Les communes de moins", QUOTE)


def test_passage_holds_needs_one_contiguous_run():
    scattered = "Les communes X de moins Y de 3 500 Z habitants peuvent W bénéficier"
    assert not passage_holds(scattered, QUOTE)


# --- retrieval -------------------------------------------------------------------------------


def test_recall_at_k_counts_quotes_in_the_top_k():
    ranked = [NOISE, RIGHT_A, RIGHT_B]
    assert recall_at_k(ranked, EVIDENCE, 1) == 0
    assert recall_at_k(ranked, EVIDENCE, 2) == 0.5
    assert recall_at_k(ranked, EVIDENCE, 3) == 1
    assert recall_at_k(ranked, EVIDENCE, 10) == 1


def test_recall_only_counts_passages_of_the_right_document():
    wrong_doc = passage("doc_z", RIGHT_A["text"])
    assert recall_at_k([wrong_doc], EVIDENCE, 5) == 0
    assert reciprocal_rank([wrong_doc], EVIDENCE) == 0


def test_recall_is_none_without_evidence():
    assert recall_at_k([RIGHT_A], [], 5) is None
    assert reciprocal_rank([RIGHT_A], []) is None


def test_reciprocal_rank_of_first_holding_passage():
    assert reciprocal_rank([RIGHT_A, NOISE], EVIDENCE) == 1
    assert reciprocal_rank([NOISE, NOISE, RIGHT_B], EVIDENCE) == pytest.approx(1 / 3)
    assert reciprocal_rank([NOISE], EVIDENCE) == 0
    assert reciprocal_rank([], EVIDENCE) == 0


# --- key facts -------------------------------------------------------------------------------


def test_key_fact_hits_with_french_numbers_and_accents():
    answer = "Les communes de moins de 3 500 habitants ; budget de 50.000 € ; délai : 18 mois."
    facts = ["3500 habitants", "50 000", "delai", "Décret"]
    assert key_fact_hits(answer, facts) == (3, 4)
    assert not facts_correct(answer, facts)
    assert facts_correct(answer, facts[:3])


def test_key_fact_alternatives_count_once():
    facts = [["RGAA", "référentiel général d'amélioration de l'accessibilité"], "2025"]
    assert key_fact_hits(
        "Le référentiel général d’amélioration de l’accessibilité (2025)", facts
    ) == (2, 2)
    assert key_fact_hits(
        "Le RGAA et le référentiel général d'amélioration de l'accessibilité", facts
    ) == (1, 2)


def test_no_key_facts_is_trivially_correct():
    assert key_fact_hits("n'importe quoi", []) == (0, 0)
    assert facts_correct("n'importe quoi", [])


# --- citations -------------------------------------------------------------------------------


def test_citation_precision_and_recall():
    cited = [RIGHT_A, NOISE]
    assert citation_precision(cited, EVIDENCE) == 0.5
    assert citation_recall(cited, EVIDENCE) == 0.5
    assert citation_precision([RIGHT_A, RIGHT_B], EVIDENCE) == 1
    assert citation_recall([RIGHT_A, RIGHT_B], EVIDENCE) == 1


def test_citation_metrics_edge_cases():
    assert citation_precision([], EVIDENCE) is None
    assert citation_recall([], EVIDENCE) == 0
    assert citation_precision([RIGHT_A], []) is None
    assert citation_recall([RIGHT_A], []) is None


# --- outcomes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "abstained", "facts_ok", "outcome"),
    [
        ("abstain", True, False, "correct"),
        ("abstain", False, True, "wrong"),
        ("answer", True, True, "abstained"),
        ("answer", False, True, "correct"),
        ("answer", False, False, "wrong"),
        ("correct_premise", False, True, "correct"),
        ("ask_condition", True, False, "abstained"),
    ],
)
def test_classify_outcome(expected, abstained, facts_ok, outcome):
    assert classify_outcome(expected, abstained, facts_ok) == outcome


def test_crag_score():
    assert crag_score(["correct", "correct", "abstained", "wrong"]) == 0.25
    assert crag_score(["error"]) == 0
    assert crag_score([]) is None


# --- percentile ------------------------------------------------------------------------------


def test_nearest_rank_percentile():
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 50) == 35
    assert percentile(values, 95) == 50
    assert percentile(values, 30) == 20  # rank ceil(1.5) = 2
    assert percentile(values, 40) == 20  # rank exactly 2
    assert percentile(values, 0) == 15
    assert percentile(values, 100) == 50
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([7.0], 50) == 7.0
    assert percentile([], 50) is None


# --- scoring and aggregates ------------------------------------------------------------------


def case(cid, qtype, expected, facts=(), evidence=()):
    return {
        "id": cid,
        "type": qtype,
        "lang": "fr",
        "question": f"Question {cid} ?",
        "history": [],
        "expected": expected,
        "key_facts": list(facts),
        "evidence": list(evidence),
        "profile": None,
        "note": "",
    }


def response(answer, abstained=False, citations=(), passages=None):
    return {
        "answer": answer,
        "abstained": abstained,
        "citations": list(citations),
        "passages": passages,
    }


def test_score_case_fills_every_metric():
    c = case(
        "f1", "numeric", "answer", ["3 500 habitants", ["50 000 €", "cinquante mille"]], EVIDENCE
    )
    r = score_case(
        c,
        response("Moins de 3500 habitants [1].", citations=[RIGHT_A], passages=[NOISE, RIGHT_A]),
        system="assistant",
        latency_ms=12.0,
    )
    assert r.outcome == "wrong"
    assert (r.fact_hits, r.fact_total) == (1, 2)
    assert r.missing_facts == [["50 000 €", "cinquante mille"]]
    assert r.recall[1] == 0 and r.recall[5] == 0.5
    assert r.reciprocal_rank == 0.5
    assert r.citation_precision == 1 and r.citation_recall == 0.5


def test_score_case_without_passages_or_with_error():
    c = case("f2", "factual", "answer", ["x"], EVIDENCE)
    r = score_case(c, response("x"), system="a", latency_ms=1)
    assert r.outcome == "correct" and r.recall[5] is None and r.reciprocal_rank is None
    e = score_case(c, {}, system="a", latency_ms=1, error="HTTP 500")
    assert e.outcome == "error" and e.citation_recall is None


def build_results():
    cases_and_answers = [
        (
            case("a", "factual", "answer", ["3 500"], EVIDENCE[:1]),
            response("3500", passages=[RIGHT_A]),
            10,
        ),
        (
            case("b", "factual", "answer", ["3 500"], EVIDENCE[:1]),
            response("", abstained=True, passages=[NOISE]),
            20,
        ),
        (
            case("c", "numeric", "answer", ["50 000"], EVIDENCE[1:]),
            response("40 000", passages=[NOISE, RIGHT_B]),
            30,
        ),
        (case("d", "unanswerable", "abstain"), response("", abstained=True, passages=[NOISE]), 40),
        (case("e", "unanswerable", "abstain"), response("Inventé."), 50),
    ]
    return [score_case(c, a, system="assistant", latency_ms=ms) for c, a, ms in cases_and_answers]


def test_summarize_overall():
    s = summarize(build_results())
    assert s["n"] == 5
    assert (s["correct"], s["abstained"], s["wrong"], s["errors"]) == (2, 1, 2, 0)
    assert s["crag"] == 0
    assert s["key_fact_accuracy"] == pytest.approx(1 / 3)
    assert s["fact_recall"] == pytest.approx(1 / 3)
    assert s["abstention_accuracy"] == 0.5
    assert s["false_refusal_rate"] == pytest.approx(1 / 3)
    assert s["hallucination_rate"] == pytest.approx(2 / 3)  # c and e, over a, c, e
    assert s["recall@1"] == pytest.approx(1 / 3)
    assert s["recall@3"] == pytest.approx(2 / 3)
    assert s["mrr"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert s["latency_p50_ms"] == 30 and s["latency_p95_ms"] == 50


def test_summarize_by_type_keeps_the_usual_order_and_marks_missing_populations():
    by_type = summarize_by_type(build_results())
    assert list(by_type) == ["factual", "numeric", "unanswerable"]
    assert by_type["factual"]["n"] == 2
    assert by_type["factual"]["abstention_accuracy"] is None
    assert by_type["unanswerable"]["false_refusal_rate"] is None
    assert by_type["unanswerable"]["recall@5"] is None
    assert by_type["numeric"]["crag"] == -1


def test_summarize_empty():
    s = summarize([])
    assert s["n"] == 0 and s["crag"] is None and s["latency_p50_ms"] is None
