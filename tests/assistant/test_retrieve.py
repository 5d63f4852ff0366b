"""Hybrid retrieval on a real Chroma index built with the hash embedder."""

import math

import pytest
from helpers import write_small_corpus

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.core import build_assistant
from assistant.errors import InvalidQuestionError
from assistant.query import build_query
from assistant.retrieval.fusion import HybridRetriever
from assistant.retrieval.passage_rank import PASSAGE_FEATURES, Rankings, passage_features
from assistant.schemas import Filters
from ingest.index import ingest


@pytest.fixture
def retriever(hash_settings) -> HybridRetriever:
    write_small_corpus(hash_settings.corpus_dir)
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    return build_assistant(hash_settings).retriever


def _docs(hits) -> set[str]:
    return {h.chunk.metadata["doc_id"] for h in hits}


def test_unfiltered_retrieval_searches_every_document(retriever):
    hits = retriever.retrieve("réunion plénière du 18 septembre", k=20)

    assert _docs(hits) == {"compte-rendu", "diapos", "etude"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_best_hit_is_the_passage_about_the_question(retriever):
    hits = retriever.retrieve("rançongiciels et systèmes d'information", k=3)

    assert "rançongiciels" in hits[0].chunk.text


def test_document_filter_restricts_results(retriever):
    hits = retriever.retrieve(
        "réunion plénière du 18 septembre", k=20, filters=Filters(document_id=["diapos"])
    )

    assert hits
    assert _docs(hits) == {"diapos"}


def test_kind_filter_restricts_results(retriever):
    hits = retriever.retrieve("collectivités communes", k=20, filters=Filters(kind=["study"]))

    assert hits
    assert {h.chunk.metadata["kind"] for h in hits} == {"study"}


def test_speaker_filter_keeps_only_that_speaker_case_insensitively(retriever):
    hits = retriever.retrieve(
        "communes numérique", k=20, filters=Filters(speaker=["sophie lambert"])
    )

    assert hits
    assert {h.chunk.metadata["speakers"] for h in hits} == {"Sophie Lambert"}
    assert hits[0].to_passage().speakers == ["Sophie Lambert"]


def test_filters_combine(retriever):
    filters = Filters(document_id=["compte-rendu", "etude"], kind=["study"])

    hits = retriever.retrieve("collectivités communes", k=20, filters=filters)

    assert _docs(hits) == {"etude"}


def test_a_filter_that_matches_nothing_returns_no_hits(retriever):
    hits = retriever.retrieve("numérique", k=5, filters=Filters(speaker=["Personne Inconnue"]))

    assert hits == []


def test_unknown_document_id_is_refused_with_its_name(retriever):
    with pytest.raises(InvalidQuestionError, match="inconnu.*rapport-fantome"):
        retriever.retrieve("numérique", k=5, filters=Filters(document_id=["rapport-fantome"]))


def test_reciprocal_rank_fusion_adds_both_rankings(hash_settings):
    write_small_corpus(hash_settings.corpus_dir)
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    retriever = build_assistant(hash_settings.model_copy(update={"fusion": "rrf"})).retriever
    assert retriever.passage_ranker is None
    question = "stratégie numérique responsable des intercommunalités"
    dense = retriever.dense.search(
        retriever.store.embeddings.embed_query(question), retriever.candidates
    )
    lexical = retriever.lexical.search(question, retriever.candidates)
    sentences = retriever.sentences.lexical_ranking(question, retriever.candidates)
    k = retriever.rrf_k
    expected: dict[str, float] = {}
    for ranking in (dense, lexical, sentences):
        for rank, (chunk_id, _) in enumerate(ranking):
            expected[chunk_id] = expected.get(chunk_id, 0.0) + 1 / (k + rank + 1)

    hits = retriever.retrieve(question, k=5)

    assert [h.chunk.id for h in hits] == sorted(expected, key=expected.get, reverse=True)[:5]
    for hit in hits:
        assert hit.score == pytest.approx(expected[hit.chunk.id])
    top = hits[0]
    assert top.dense is not None and top.lexical is not None
    assert top.score > 1 / (k + 1)  # more than any single ranking can give
    assert "50 000 habitants" in top.chunk.text


def test_the_learned_ranker_orders_every_rankings_candidates_by_its_probability(retriever):
    question = "stratégie numérique responsable des intercommunalités"
    vector = retriever.store.embeddings.embed_query(question)
    rankings = retriever.rankings(question, None, None, vector)
    cosine = retriever.dense.similarities(vector, rankings.candidates())
    candidates, rows = retriever.passage_features(rankings, question, cosine)
    probability = dict(zip(candidates, retriever.passage_ranker.probabilities(rows), strict=True))

    hits = retriever.retrieve(question, k=5)

    assert retriever.passage_ranker is not None
    proposed = {i for ranking in (rankings.dense, rankings.lexical) for i, _ in ranking}
    assert set(candidates) >= proposed
    assert [h.chunk.id for h in hits] == sorted(probability, key=probability.get, reverse=True)[:5]
    assert [h.score for h in hits] == pytest.approx([probability[h.chunk.id] for h in hits])
    assert all(0 < h.score < 1 for h in hits)
    assert "50 000 habitants" in hits[0].chunk.text


def test_passages_found_by_one_ranking_only_are_still_hits(retriever):
    hits = retriever.retrieve("rançongiciels", k=30)

    lexical = [h for h in hits if h.lexical is not None]
    assert len(lexical) == 1
    assert "rançongiciels" in lexical[0].chunk.text
    assert hits[0] is lexical[0]  # found by both rankings, it comes first
    assert len(hits) > 1
    assert all(h.dense is not None for h in hits[1:])


def test_hits_become_passages_with_their_source(retriever):
    (hit,) = retriever.retrieve("quarante-trois communes de l'agglomération", k=1)

    passage = hit.to_passage()
    assert passage.document_id == "compte-rendu"
    assert passage.title == "Compte-rendu de la réunion plénière"
    assert passage.page is None
    assert passage.date == "2025-06-19"
    assert passage.locator.startswith("partie 1")
    assert passage.chunk_id == hit.chunk.id


def test_document_ids_and_speakers_are_listed(retriever):
    assert retriever.document_ids() == ["compte-rendu", "diapos", "etude"]
    assert retriever.speakers() == ["Damien Bertrand", "Sophie Lambert"]


def test_a_named_speakers_few_passages_come_first_then_the_best_others(hash_settings):
    write_small_corpus(hash_settings.corpus_dir)
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    assistant = build_assistant(hash_settings)

    hits = assistant._retrieve(build_query("Qu'a dit Sophie Lambert sur les communes ?", []), None)

    theirs = [h for h in hits if h.chunk.metadata["speakers"] == "Sophie Lambert"]
    assert theirs and hits[: len(theirs)] == theirs
    assert len(theirs) < len(hits) <= assistant.top_k  # an interview may go on untagged


def test_a_list_cut_by_the_chunking_goes_on_in_the_next_passage(hash_settings):
    actions = [
        "Composer son équipe", "Former les agents", "Réaliser l'état des lieux",
        "Définir l'ambition", "Choisir les actions", "Chiffrer le plan",
        "Faire voter la feuille de route", "Décliner la stratégie", "Mettre en œuvre le plan",
        "Communiquer et faire vivre la démarche",
    ]  # fmt: skip
    context = (
        "La stratégie numérique responsable engage toute la collectivité : ses services, ses "
        "élus, ses agents et ses partenaires. Elle part de l'existant, fixe une ambition "
        "partagée et se traduit en actions suivies dans le temps. "
    ) * 3
    text = f"{context}\nLa feuille de route se décline en dix étapes :\n" + "\n".join(
        f"• Étape {n} : {action}" for n, action in enumerate(actions, start=1)
    )
    (hash_settings.corpus_dir / "feuille-de-route.txt").write_text(text, encoding="utf-8")
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    assistant = build_assistant(hash_settings)
    chunks = sorted(assistant.retriever.store.all(), key=lambda c: c.metadata["ordinal"])
    cut = [a for a in actions if a in chunks[-1].text and a not in chunks[-2].text]
    assert cut  # the chunking cut the list: its last steps are in the last passage only
    hits = assistant.retriever.retrieve("étapes de la feuille de route", k=5)
    before_cut = next(h for h in hits if h.chunk.id == chunks[-2].id)

    assert before_cut.following == chunks[-1].text
    # What the answer is made of once it answers (the hash embedder's similarities say
    # nothing of the topic, so its confidence would be meaningless).
    composer = ExtractiveAnswerer(
        assistant.answerer.lexical, ranker=assistant.answerer.ranker.never_refusing()
    )
    answer = composer.answer(
        build_query("Quelles sont les étapes de la feuille de route ?", []), [before_cut]
    )
    assert "Étape 1 : Composer son équipe" in answer.answer
    assert cut[-1] in answer.answer


def test_a_passage_announcing_sections_is_quoted_with_their_headings(hash_settings):
    sections = {
        "Le fonds vert numérique": "Il finance les projets de sobriété des communes rurales.",
        "Le guichet des usages": "Il accompagne les agents dans leurs démarches en ligne.",
        "Le réseau des tiers-lieux": "Il maille le territoire de lieux d'accueil numérique.",
    }
    text = (
        "#### Les aides de la région\n\n"
        "La région accompagne le numérique des territoires à travers trois dispositifs.\n\n"
        + "\n\n".join(f"#### {heading}\n\n{body}" for heading, body in sections.items())
    )
    (hash_settings.corpus_dir / "aides.md").write_text(text, encoding="utf-8")
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    assistant = build_assistant(hash_settings)
    hits = assistant.retriever.retrieve("dispositifs de la région pour le numérique", k=4)
    intro = next(h for h in hits if "trois dispositifs" in h.chunk.text)

    assert intro.sections == tuple(sections)
    composer = ExtractiveAnswerer(  # without the refusal: the hash embedder's similarities
        assistant.answerer.lexical, ranker=assistant.answerer.ranker.never_refusing()
    )
    answer = composer.answer(
        build_query("Quels dispositifs de la région accompagnent le numérique ?", []), [intro]
    )
    assert "trois dispositifs : Le fonds vert numérique ; Le guichet des usages ; " in answer.answer


def test_the_dense_ranking_is_exact_over_every_stored_vector(retriever):
    """The nearest passages by cosine among all of them, not an approximate graph's."""
    ids, vectors = retriever.store.vectors()
    question = retriever.store.embeddings.embed_query("stratégie numérique responsable")
    cosine = {
        chunk_id: sum(a * b for a, b in zip(row, question, strict=True))
        / (sum(a * a for a in row) * sum(b * b for b in question)) ** 0.5
        for chunk_id, row in zip(ids, vectors.tolist(), strict=True)
    }
    expected = sorted(cosine, key=cosine.get, reverse=True)

    ranking = retriever.dense.search(question, k=len(ids))

    assert len(ids) > 5
    assert [i for i, _ in ranking] == expected
    assert [s for _, s in ranking] == pytest.approx([cosine[i] for i in expected], abs=1e-5)


def test_the_dense_ranking_keeps_to_the_allowed_passages(retriever):
    question = retriever.store.embeddings.embed_query("réunion plénière")
    allowed = {i for i, _ in retriever.dense.search(question, k=100)[1::2]}

    ranking = retriever.dense.search(question, k=100, allowed=allowed)

    assert {i for i, _ in ranking} == allowed
    assert retriever.dense.search(question, k=100, allowed=set()) == []


def test_similarities_are_cosines_and_zero_for_a_passage_without_a_vector(retriever):
    vector = retriever.store.embeddings.embed_query("stratégie numérique responsable")
    nearest = retriever.dense.search(vector, 3)

    similarities = retriever.dense.similarities(vector, [i for i, _ in nearest] + ["absent"])

    assert [similarities[i] for i, _ in nearest] == pytest.approx([s for _, s in nearest])
    assert similarities["absent"] == 0.0
    assert retriever.dense.similarities(vector, ["absent"]) == {"absent": 0.0}


def test_a_passage_whose_text_is_gone_from_the_store_is_no_candidate():
    rankings = Rankings(dense=[("a", 0.9), ("gone", 0.8)], lexical=[("gone", 5.0), ("b", 2.0)])
    shape = {"a": (300, {("stratégie", "numérique")}), "b": (800, set())}
    cosine = {"a": 0.9, "gone": 0.8, "b": 0.7}

    candidates, rows = passage_features(rankings, cosine, shape, {("stratégie", "numérique")})

    assert candidates == ["a", "b"]
    assert rows.shape == (2, len(PASSAGE_FEATURES))
    assert rows[0].tolist() == pytest.approx([0.0, 0.0, 0.0, math.log(301), 1.0])
    assert rows[1].tolist() == pytest.approx([-0.2, 2.0 / 5.0, 0.0, math.log(801), 0.0])


def test_what_a_named_speaker_said_is_their_statements_attributed(hash_settings):
    write_small_corpus(hash_settings.corpus_dir)
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    assistant = build_assistant(hash_settings)

    said = assistant.ask("Qu'a dit Sophie Lambert ?", debug=True)
    on_topic = assistant.ask("Qu'a dit Sophie Lambert sur l'accessibilité ?", debug=True)
    off_topic = assistant.ask("Qu'a dit Sophie Lambert sur la cybersécurité ?", debug=True)

    for response in (said, on_topic):
        assert not response.abstained and response.trace["decision"] == "speaker"
        assert "**Sophie Lambert" in response.answer and "coûte cher" in response.answer
        assert "Damien Bertrand" not in response.answer
    # What they did not speak about is not answered by what they said on something else.
    assert off_topic.trace["decision"] != "speaker"


def test_what_else_a_speaker_said_leaves_out_what_the_previous_answer_quoted(hash_settings):
    write_small_corpus(hash_settings.corpus_dir)
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    assistant = build_assistant(hash_settings)
    first = assistant.ask("Qu'a dit Sophie Lambert ?")
    history = [
        {"role": "user", "content": "Qu'a dit Sophie Lambert ?"},
        {"role": "assistant", "content": first.answer},
    ]

    again = assistant.ask("Et qu'a-t-elle dit d'autre ?", history=history)

    assert "coûte cher" in first.answer
    # She said nothing else: no answer quotes her statement again as new.
    assert again.abstained


def test_an_english_question_on_what_a_speaker_said_about_a_topic_reads_only_the_topic(
    hash_settings,
):
    write_small_corpus(hash_settings.corpus_dir)
    # A corpus that uses « about » somewhere (an English title), more rarely than the topic:
    # still no topic of the question.
    corpus = hash_settings.corpus_dir
    (corpus / "note.txt").write_text("Note about the survey.", encoding="utf-8")
    (corpus / "regles.txt").write_text("Le RGAA encadre l'accessibilité.", encoding="utf-8")
    ingest(hash_settings.corpus_dir, hash_settings, progress=False)
    assistant = build_assistant(hash_settings)

    response = assistant.ask("What did Sophie Lambert say about accessibility?", debug=True)

    assert response.trace["decision"] == "speaker"
    assert "**Sophie Lambert" in response.answer and "coûte cher" in response.answer
