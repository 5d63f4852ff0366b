"""The extractive answerer and the text helpers it relies on."""

import dataclasses
import re

import pytest

from assistant.answering.extractive import (
    Draft,
    ExtractiveAnswerer,
    abstention,
    clean_for_display,
    sentence_units,
)
from assistant.answering.rank import SentenceRanker
from assistant.glossary import expand_query, query_concepts
from assistant.language import detect_language
from assistant.query import build_query
from assistant.retrieval.fusion import Hit
from assistant.retrieval.lexical import Bm25Index, tokenize
from assistant.retrieval.store import StoredChunk
from assistant.retrieval.units import announced, list_runs

PASSAGES = {
    "reen": (
        "Le numérique responsable",
        "Loi visant à réduire l'empreinte environnementale du numérique ou « REEN ».\n"
        "A compter de janvier 2025, les intercommunalités de plus de 50 000 habitants "
        "doivent élaborer une stratégie numérique responsable.",
    ),
    "rgaa": (
        "Accessibilité",
        "Les collectivités doivent rendre leurs sites accessibles (RGAA). En cas de "
        "manquement, l'Arcom peut imposer des amendes allant jusqu'à 50 000 euros.",
    ),
    "cyber": (
        "Cybersécurité",
        "Les communes renforcent leurs sauvegardes et forment leurs agents aux risques "
        "de rançongiciels.",
    ),
    "budget": (
        "Budgets",
        "30 % des intercommunalités répondantes consacrent un budget au numérique.",
    ),
    "dpo": (
        "Missions du DPO",
        "• Informer et conseiller la collectivité\n"
        "• Contrôler le respect du règlement\n"
        "• Être l'interlocuteur de la CNIL",
    ),
    "declaration": (
        "La déclaration d'accessibilité",
        "Les collectivités publient une déclaration d'accessibilité.\n"
        "La déclaration doit être mise à jour 3 ans après sa publication.",
    ),
    "sobriety": (
        "Le numérique responsable",
        "Les intercommunalités doivent élaborer une stratégie numérique responsable.\n"
        "Les objectifs portent sur l'achat public et le réemploi.\n"
        "Même si aucune sanction n'est prévue, le manquement pèse dans le débat budgétaire.",
    ),
}


def _stored(chunk_id: str) -> StoredChunk:
    heading, text = PASSAGES[chunk_id]
    metadata = {
        "doc_id": f"doc-{chunk_id}",
        "title": "Réunion plénière",
        "heading": heading,
        "locator": f"diapo 1 — {heading}",
        "kind": "slides",
        "page": -1,
        "speakers": "",
    }
    return StoredChunk(chunk_id, text, metadata)


@pytest.fixture(scope="module")
def answerer() -> ExtractiveAnswerer:
    ids = list(PASSAGES)
    lexical = Bm25Index.build(ids, [f"{h}\n{t}" for h, t in PASSAGES.values()])
    return ExtractiveAnswerer(lexical)


# The committed ranker without its refusal: what the answer is made of once it answers.
NEVER_REFUSES = SentenceRanker.load().never_refusing()


@pytest.fixture(scope="module")
def composer(answerer) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(answerer.lexical, ranker=NEVER_REFUSES)


def _hits(*ids: str, dense: float = 0.80) -> list[Hit]:
    return [
        Hit(_stored(i), score=1 / (60 + rank), dense=dense - 0.01 * rank, lexical=None)
        for rank, i in enumerate(ids, start=1)
    ]


def _markers(answer: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", answer)}


def test_sentence_units_join_wrapped_lines_and_split_sentences():
    text = (
        "Les intercommunalités de plus de 50 000 habitants doivent élaborer une stratégie\n"
        "numérique responsable. Elle est adoptée avant 2025.\n\n"
        "Les obligations :\n"
        "Accessibilité des sites\n"
        "Ouverture des données"
    )

    assert sentence_units(text) == [
        "Les intercommunalités de plus de 50 000 habitants doivent élaborer une "
        "stratégie numérique responsable.",
        "Elle est adoptée avant 2025.",
        "Les obligations :",
        "Accessibilité des sites",
        "Ouverture des données",
    ]


def test_sentence_units_keep_bullet_items_apart():
    text = "Les objectifs :\n• Réduire les achats\n• Allonger la durée de vie\ndes équipements"

    assert sentence_units(text) == [
        "Les objectifs :",
        "Réduire les achats",
        "Allonger la durée de vie des équipements",
    ]


def test_sentence_units_cut_overlong_runs_at_a_space():
    flattened = " ".join(f"cellule{i}" for i in range(120))

    units = sentence_units(flattened)

    assert len(units) > 1
    assert all(len(u) <= 320 for u in units)
    assert " ".join(units) == flattened


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("I'intercommunalité  adopte", "l'intercommunalité adopte"),
        ("la mise en ceuvre du plan", "la mise en œuvre du plan"),
        ("la feuille de route & la stratégie", "la feuille de route à la stratégie"),
        ("d''une politique", "d'une politique"),
        ("le numeérique , enfin .", "le numérique, enfin."),
        ("une\nphrase   coupée", "une phrase coupée"),
        ("aucune obligation [1] [2] [99].", "aucune obligation."),
        ("selon la loi [12], les communes", "selon la loi, les communes"),
        ("la taille des intercommunalités) ; Les", "la taille des intercommunalités)"),
        ("Les communes publient. La", "Les communes publient."),
        ("pas d'lA sans données, l'lNSEE et la LOI", "pas d'IA sans données, l'INSEE et la LOI"),
    ],
)
def test_clean_for_display_undoes_ocr_misreadings(raw, shown):
    assert clean_for_display(raw) == shown


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Ma communauté de communes doit-elle adopter une stratégie REEN ?", "fr"),
        ("Quelle amende pour le RGAA ?", "fr"),
        ("Qui doit ouvrir ses données ?", "fr"),
        ("RGAA ?", "fr"),
        ("Does my CC need a REEN strategy?", "en"),
        ("What is the fine for ignoring the RGAA?", "en"),
        ("Which local authorities must open their data?", "en"),
        ("Does my communauté de communes need a REEN strategy?", "en"),
        ("Is the délégué à la protection des données mandatory for a commune?", "en"),
        ("Est-ce que la communauté de communes doit le faire ?", "fr"),
    ],
)
def test_detect_language(question, language):
    assert detect_language(question) == language


def test_expand_query_spells_out_acronyms():
    expanded = expand_query("Ma CC doit-elle adopter une stratégie REEN ?", "fr")

    assert expanded.startswith("Ma CC doit-elle adopter une stratégie REEN ?")
    assert "communauté de communes" in expanded
    assert "intercommunalité" in expanded


def test_expand_query_translates_english_terms_only_for_english():
    assert "amende" in expand_query("What fine for the RGAA?", "en")
    assert "stratégie" in expand_query("Does my CC need a strategy?", "en")
    assert expand_query("Quelle stratégie ?", "fr") == "Quelle stratégie ?"
    assert expand_query("La CCAS gère le social.", "fr") == "La CCAS gère le social."


def test_query_concepts_group_synonyms_into_one_concept():
    concepts = query_concepts("Ma CC doit-elle adopter une stratégie REEN ?", "fr")

    community = [c for c in concepts if set(tokenize("intercommunalité")) <= c]
    assert len(community) == 1
    assert set(tokenize("communauté de communes")) <= community[0]
    assert frozenset(tokenize("REEN")) in concepts
    assert frozenset(tokenize("stratégie")) in concepts
    all_tokens = [t for c in concepts for t in c]
    assert len(all_tokens) == len(set(all_tokens))


def test_query_concepts_in_english_carry_the_french_words():
    concepts = query_concepts("What fine for GDPR?", "en")

    assert any(set(tokenize("amende")) <= c and set(tokenize("fine")) <= c for c in concepts)
    assert any(set(tokenize("RGPD")) <= c for c in concepts)


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("private partners", "partenaires privés"),
        ("hosting and storage", "hébergement stockage"),
        ("digital illiteracy", "illectronisme"),
        ("training needs", "besoins formation"),
    ],
)
def test_everyday_english_words_meet_the_corpus_french(english, french):
    concepts = query_concepts(f"What about {english}?", "en")

    for token in tokenize(french):
        assert any(token in c for c in concepts), token


def test_answers_with_a_marker_when_a_passage_covers_the_question(answerer):
    query = build_query("Quelles intercommunalités doivent élaborer une stratégie REEN ?", [])

    draft = answerer.answer(query, _hits("reen", "cyber", "budget"))

    assert not draft.abstained
    assert "50 000 habitants" in draft.answer
    assert "[1]" in draft.answer
    assert _markers(draft.answer) == {c.n for c in draft.citations}
    first = next(c for c in draft.citations if c.n == 1)
    assert first.chunk_id == "reen"
    assert first.document_id == "doc-reen"
    assert first.locator == "diapo 1 — Le numérique responsable"


def test_numbers_cited_follow_the_order_of_first_use(composer):
    query = build_query("Quelles amendes prévoit le RGAA en cas de manquement ?", [])

    draft = composer.answer(query, _hits("cyber", "rgaa", "reen"))

    assert not draft.abstained
    assert draft.citations[0].n == 1
    assert draft.citations[0].chunk_id == "rgaa"
    assert "50 000 euros" in draft.answer


def test_abstains_when_the_passages_are_about_something_else(answerer):
    query = build_query("Quelle est la recette de la tarte tatin ?", [])

    draft = answerer.answer(query, _hits("reen", "rgaa", "cyber"))

    assert draft.abstained
    assert "tarte tatin" in draft.answer
    # The refusal still shows the closest passages, each with its marker.
    assert "passages les plus proches" in draft.answer
    assert _markers(draft.answer) == {c.n for c in draft.citations} == {1, 2, 3}


def _refusing(answerer: ExtractiveAnswerer) -> ExtractiveAnswerer:
    """The same answerer, never confident enough to answer."""
    confidence = dataclasses.replace(answerer.ranker.confidence, threshold=1)
    return ExtractiveAnswerer(
        answerer.lexical, ranker=dataclasses.replace(answerer.ranker, confidence=confidence)
    )


def _fine_question_refused(answerer: ExtractiveAnswerer, rgaa_text: str) -> Draft:
    """The refusal of a question on the Arcom's fine, the first passage holding `rgaa_text`."""
    query = build_query("Quelle amende l'Arcom peut-elle imposer pour un site inaccessible ?", [])
    hit = _hits("rgaa")[0]
    hit.chunk.text = rgaa_text
    return _refusing(answerer).answer(query, [hit, *_hits("cyber", "budget")])


def test_a_refusal_shows_first_the_passage_of_the_likeliest_sentence(answerer):
    query = build_query("Quelle amende l'Arcom peut-elle imposer pour un site inaccessible ?", [])
    hits = _hits("cyber", "budget", "reen", "rgaa")

    draft = _refusing(answerer).answer(query, hits)

    assert draft.abstained
    # Retrieval put it last; the ranker finds the fine in it, so it is shown among the three.
    assert "rgaa" in {c.chunk_id for c in draft.citations}
    assert len(draft.citations) == 3


def test_a_refusal_shows_passages_that_say_the_same_words_once(answerer):
    heading = "Les principaux obstacles au développement des projets numériques"
    query = build_query("Quels obstacles selon l'étude ?", [])
    hits = _hits("cyber", "budget", "reen")
    repeated = [
        Hit(StoredChunk(f"page-{n}", heading, {"doc_id": "etude", "title": "Étude"}), 0.02, 0.9)
        for n in range(3)
    ]

    draft = _refusing(answerer).answer(query, [*repeated, *hits])

    assert draft.abstained
    assert draft.answer.count(heading) == 1
    assert len(draft.citations) == 3
    assert _markers(draft.answer) == {c.n for c in draft.citations}


def _study_pages(*texts: str) -> list[Hit]:
    """Pages of one study, ranked before the other documents' passages."""
    meta = {"doc_id": "etude", "title": "Étude"}
    return [Hit(StoredChunk(f"page-{n}", t, meta), 0.03, 0.9) for n, t in enumerate(texts)]


def test_a_refused_question_about_what_the_documents_say_shows_each_document(answerer):
    pages = _study_pages(
        "Les obstacles aux projets numériques des communes tiennent d'abord au budget.",
        "Autre obstacle aux projets numériques : le manque de compétences des agents.",
        "Les obstacles aux projets numériques varient selon la taille de la collectivité.",
    )
    others = _hits("cyber", "budget", "reen")

    def documents(question: str) -> list[str]:
        draft = _refusing(answerer).answer(build_query(question, []), [*pages, *others])
        assert draft.abstained
        return [c.document_id for c in draft.citations]

    # Asked plainly, the three closest passages are the study's.
    assert documents("Quels obstacles aux projets numériques ?") == ["etude"] * 3
    # Asked what the documents say, each document's closest passage comes first.
    across = documents("Que disent les documents sur les obstacles aux projets numériques ?")
    assert len(across) == 5 and set(across[:4]) == {"etude", "doc-cyber", "doc-budget", "doc-reen"}


def test_a_refusal_shows_a_passage_by_what_it_says_rather_than_by_a_bare_label(answerer):
    statement = "Le service a recruté deux agents pour le numérique en 2024."
    hit = _study_pages(f"Ville de Nancy\n{statement}")[0]
    query = build_query("Qui représentait la ville de Nancy ?", [])
    candidates = answerer.candidates(query, [hit])
    assert candidates[0].text == "Ville de Nancy" and candidates[0].features["label"]

    draft = _refusing(answerer).answer(query, [hit])

    assert f"- {statement} [1]" in draft.answer


def test_a_refusal_shows_each_passage_by_its_likeliest_sentence(answerer):
    opening = "Les collectivités publient chaque année un schéma pluriannuel d'accessibilité. "

    draft = _fine_question_refused(
        answerer, opening * 4 + "L'Arcom peut imposer des amendes allant jusqu'à 50 000 euros."
    )

    assert draft.abstained
    assert "- L'Arcom peut imposer des amendes allant jusqu'à 50 000 euros. [1]" in draft.answer
    assert "schéma pluriannuel" not in draft.answer


def test_a_refusal_shows_a_passage_by_what_it_says_rather_than_by_a_question_it_asks(answerer):
    draft = _fine_question_refused(
        answerer,
        "Q : Quelle amende l'Arcom peut-elle imposer pour un site inaccessible ?\n"
        "R : Des amendes allant jusqu'à 50 000 euros.",
    )

    assert draft.abstained
    assert "- R : Des amendes allant jusqu'à 50 000 euros. [" in draft.answer
    assert "Q : Quelle amende" not in draft.answer


def test_a_refusal_shows_a_long_sentence_from_a_little_before_what_the_question_names(answerer):
    preamble = (
        "Les collectivités publient chaque année un schéma pluriannuel et le tiennent à jour, "
    )

    draft = _fine_question_refused(
        answerer, preamble * 3 + "et l'Arcom peut imposer des amendes allant jusqu'à 50 000 euros."
    )

    shown = next(line for line in draft.answer.split("\n") if line.endswith("[1]"))
    assert shown.startswith("- … ") and "l'Arcom peut imposer des amendes" in shown
    assert len(shown) < 260


def test_a_refusal_shows_the_part_of_a_long_sentence_naming_most_of_the_question(answerer):
    draft = _fine_question_refused(
        answerer,
        "L'Arcom contrôle les sites des collectivités, "
        + "qui publient chaque année un schéma pluriannuel et le tiennent à jour, " * 2
        + "et peut imposer des amendes allant jusqu'à 50 000 euros pour un site inaccessible.",
    )

    shown = next(line for line in draft.answer.split("\n") if line.endswith("[1]"))
    # « Arcom » opens the sentence, but the fine and the inaccessible site come at its end.
    assert shown.startswith("- … ") and "50 000 euros pour un site inaccessible" in shown


def test_a_refusal_shows_passages_without_open_emphasis_marks(answerer):
    hit = _hits("budget")[0]
    hit.chunk.text = "**30 % des intercommunalités** consacrent un budget au numérique. " * 5

    draft = answerer.answer(build_query("Quelle est la recette de la tarte tatin ?", []), [hit])

    assert draft.abstained and "**" not in draft.answer


def test_abstains_when_a_figure_is_asked_and_none_is_about_the_subject(answerer):
    query = build_query("Combien de rançongiciels ont touché les communes ?", [])

    draft = answerer.answer(query, _hits("cyber", "budget"))

    assert draft.abstained


def test_abstains_without_any_hit(answerer):
    draft = answerer.answer(build_query("Qui doit adopter une stratégie REEN ?", []), [])

    assert draft.abstained
    assert draft.citations == []


def test_english_question_gets_an_english_answer_quoting_french(answerer):
    query = build_query("Which intercommunalities need a REEN strategy?", [])

    draft = answerer.answer(query, _hits("reen", "cyber"))

    assert not draft.abstained
    assert "According to the documents (quoted in French):" in draft.answer
    # The best sentence, between its neighbours, is one French quote.
    assert "“Loi visant à réduire l'empreinte environnementale" in draft.answer
    assert "A compter de janvier 2025" in draft.answer
    assert "50 000 habitants" in draft.answer


def test_english_abstention_is_in_english(answerer):
    draft = answerer.answer(build_query("What is the best apple pie recipe?", []), _hits("reen"))

    assert draft.abstained
    assert draft.answer.startswith("I found no direct answer")


def test_a_refusal_marks_the_question_it_repeats_as_cut_short():
    long = build_query(
        "Quelles communes sont obligées de nommer un délégué à la protection des données au "
        "sein de leur mairie ?",
        [],
    )
    short = build_query("Quelle est la recette de la tarte aux pommes ?", [])

    assert (
        "« Quelles communes sont obligées de nommer un délégué à la protection des données au …"
        in abstention(long)
    )
    assert "« Quelle est la recette de la tarte aux pommes »" in abstention(short)


def test_list_runs_mark_the_items_of_one_bulleted_list():
    text = "Intro :\n\n• Premier point\n\n• Second point\nSuite.\n\nAutre paragraphe."

    assert sentence_units(text) == [
        "Intro :",
        "Premier point",
        "Second point",
        "Suite.",
        "Autre paragraphe.",
    ]
    assert list_runs(text) == [None, 1, 1, None, None]


def test_a_list_question_answered_by_one_item_gets_the_whole_list(composer):
    query = build_query("Quelles sont les missions du délégué à la protection des données ?", [])

    draft = composer.answer(query, _hits("dpo", "cyber"))

    assert not draft.abstained
    for item in ("Informer et conseiller", "Contrôler le respect", "interlocuteur de la CNIL"):
        assert item in draft.answer


def test_a_sentence_saying_there_is_none_answers_what_it_would_be(composer):
    query = build_query("Quel montant de sanction est prévu pour la stratégie numérique ?", [])

    draft = composer.answer(query, _hits("sobriety", "rgaa", dense=0.9))

    assert not draft.abstained
    assert "aucune sanction" in draft.answer


def test_a_period_the_passage_contradicts_is_corrected_first(composer):
    query = build_query("On doit refaire la déclaration d'accessibilité chaque année ?", [])

    draft = composer.answer(query, _hits("declaration", "rgaa", dense=0.9))

    assert draft.answer.startswith("Attention : les documents ne disent pas 1 an")
    assert "3 ans" in draft.answer


def test_abstains_when_the_quotes_never_name_what_is_asked_for(answerer):
    query = build_query(
        "Quelles décisions ont été prises sur la stratégie numérique responsable ?", []
    )

    draft = answerer.answer(query, _hits("sobriety", "reen", dense=0.9))

    assert draft.abstained


def test_answers_when_the_quotes_name_what_is_asked_for(composer):
    query = build_query("Quels objectifs porte la stratégie numérique responsable ?", [])

    draft = composer.answer(query, _hits("sobriety", "reen", dense=0.9))

    assert not draft.abstained
    assert "achat public" in draft.answer


def _answerer_over(
    texts: dict[str, str],
    metadata: dict | None = None,
    filler: tuple[str, ...] = (),
    ranker: SentenceRanker | None = None,
) -> tuple[ExtractiveAnswerer, list[Hit]]:
    """An answerer whose lexical index holds `texts` (and `filler`), and `texts` as hits of
    one document, in rank order."""
    ids = [*texts, *(f"filler-{n}" for n in range(len(filler)))]
    answerer = ExtractiveAnswerer(Bm25Index.build(ids, [*texts.values(), *filler]), ranker=ranker)
    meta = {"doc_id": "d", "title": "Document", **(metadata or {})}
    hits = [
        Hit(StoredChunk(i, t, meta), 1 / (60 + rank), 0.9)
        for rank, (i, t) in enumerate(texts.items(), start=1)
    ]
    return answerer, hits


def _one_passage_answerer(text: str) -> tuple[ExtractiveAnswerer, list[Hit]]:
    return _answerer_over({"ia": text})


def test_a_year_naming_a_law_does_not_answer_when():
    answerer, hits = _one_passage_answerer(
        "IA Act (2023) : les applications d'IA des collectivités sont soumises à des "
        "obligations de mise en conformité."
    )

    draft = answerer.answer(
        build_query(
            "Avant quelle date les collectivités doivent-elles être en conformité avec l'IA Act ?",
            [],
        ),
        hits,
    )

    assert draft.abstained


@pytest.mark.parametrize(
    "when", ["avant le 2 août 2026", "d'ici 2026", "en août 2026", "dans les 24 mois"]
)
def test_a_date_or_a_delay_answers_when(when):
    answerer, hits = _one_passage_answerer(
        f"IA Act : les collectivités doivent être en conformité {when} pour les applications d'IA."
    )

    draft = answerer.answer(
        build_query("Quand les collectivités doivent-elles être en conformité avec l'IA Act ?", []),
        hits,
    )

    assert not draft.abstained
    assert when in draft.answer


def test_a_count_spelled_out_in_words_answers_how_many():
    ids = ["velo"]
    text = "Le plan vélo prévoit quarante-deux kilomètres de pistes cyclables d'ici 2027."
    answerer = ExtractiveAnswerer(Bm25Index.build(ids, [text]))
    hit = Hit(StoredChunk("velo", text, {"doc_id": "d", "title": "Plan vélo"}), 1.0, 0.9)

    draft = answerer.answer(
        build_query("Combien de kilomètres de pistes prévoit le plan ?", []), [hit]
    )

    assert not draft.abstained
    assert "quarante-deux kilomètres" in draft.answer


def test_each_document_a_comparing_question_names_is_quoted(composer):
    query = build_query(
        "Entre le diaporama et le compte-rendu, que dit-on de l'accessibilité ?", []
    )
    query.documents = ("doc-rgaa", "doc-declaration")

    draft = composer.answer(query, _hits("rgaa", "declaration", "budget", dense=0.9))

    assert not draft.abstained
    # The weaker document's best sentence is quoted too; the unnamed one is not.
    assert {c.document_id for c in draft.citations} == {"doc-rgaa", "doc-declaration"}


@pytest.mark.parametrize(
    ("asker", "applies", "left_out"),
    [
        ("Une commune de 1 200 habitants", "moins de 3 500", "moins de 15 000"),
        ("Une communauté de communes de 9 000 habitants", "moins de 15 000", "moins de 3 500"),
    ],
)
def test_the_rule_for_the_askers_kind_answers_alone(asker, applies, left_out):
    text = (
        "L'Accompagnement Numérique Sur Mesure s'adresse aux communes de moins de 3 500 "
        "habitants et aux intercommunalités de moins de 15 000 habitants."
    )
    # Which rule's verdict answers, once the assistant answers (refusing is tested apart).
    answerer, hits = _answerer_over({"ansm": text}, ranker=NEVER_REFUSES)

    draft = answerer.answer(
        build_query(f"{asker} peut-elle bénéficier de l'Accompagnement Numérique Sur Mesure ?", []),
        hits,
    )

    verdicts = draft.answer.split("D'après les documents")[0].replace("\u202f", " ")
    assert verdicts.startswith("Oui")
    assert applies in verdicts
    assert left_out not in verdicts
    assert "Non" not in verdicts


def test_a_questions_candidates_are_scored_at_once_as_one_by_one():
    texts = {
        "said": "Jeanne Martin : la feuille de route permet de savoir où l'on veut aller.",
        "list": "Jeanne Martin, vice-présidente de la communauté de communes.",
    }
    answerer, hits = _answerer_over(texts, ranker=NEVER_REFUSES)

    found = answerer.candidates(build_query("Quelles fonctions occupe Jeanne Martin ?", []), hits)

    assert len(found) == 2
    assert [c.score for c in found] == pytest.approx(
        [NEVER_REFUSES.probability(c.features) for c in found], abs=1e-12
    )


def test_a_question_on_someones_functions_favours_their_title_over_their_words():
    texts = {
        "said": "Jeanne Martin : la feuille de route permet de mieux se connaître et de "
        "savoir où l'on veut aller.",
        "list": "Jeanne Martin, vice-présidente de la communauté de communes en charge du "
        "numérique.",
    }
    answerer, hits = _answerer_over(texts, ranker=NEVER_REFUSES)

    found = answerer.candidates(build_query("Quelles fonctions occupe Jeanne Martin ?", []), hits)

    title = next(c for c in found if "vice-présidente" in c.text)
    words = next(c for c in found if "feuille de route" in c.text)
    assert title.features["role"] == 1.0 and words.features["role"] == 0.0
    # The regression counts a title in favour of a sentence for such a question. (How much
    # is learned: the flag is rare, and on this near tie of two unlikely sentences, the
    # title's passage retrieved second, the order may go either way.)
    regression = NEVER_REFUSES.parts
    untitled = {**title.features, "role": 0.0}
    assert regression(title.features)["regression"] > regression(untitled)["regression"]


def test_words_naming_the_publisher_hold_for_all_its_sentences():
    text = "Alors que la France compte 15 % de personnes en situation d'illectronisme."
    others = ("Le plan vélo prévoit des pistes cyclables.", "La cantine sert des repas bio.")
    question = build_query(
        "Selon l'ANPP, quelle part des personnes est en situation d'illectronisme ?", []
    )
    answerer, named = _answerer_over({"flash": text}, {"publisher": "ANPP"}, filler=others)
    _, unnamed = _answerer_over({"flash": text}, {"publisher": ""}, filler=others)
    for hits in (named, unnamed):
        hits[0].dense = 0.80  # below the dense bar: the words alone decide

    named_best = answerer.candidates(question, named)[0]
    unnamed_best = answerer.candidates(question, unnamed)[0]

    assert "15 %" in named_best.text
    assert named_best.features["title"] > 0 == unnamed_best.features["title"]
    assert named_best.score > unnamed_best.score


def test_a_list_question_marks_the_sentence_that_introduces_the_list():
    # Which sentence comes first is the learned ordering's call (on the training questions
    # it weighs this mark against the rest); the mark itself is set for a list question only.
    texts = {
        "intro": "Le baromètre distingue 6 critères qui qualifient les orientations des "
        "collectivités.",
        "list": "Le baromètre retient 6 critères :\n"
        "• Présence d'un schéma directeur\n"
        "• Présence d'un élu en charge du numérique\n"
        "• Dispositif d'évaluation",
    }
    answerer, hits = _answerer_over(texts, ranker=NEVER_REFUSES)

    def marked(question: str) -> list[str]:
        found = answerer.candidates(build_query(question, []), hits)
        return [c.text for c in found if c.features["list_lead"]]

    assert marked("Sur quels critères repose le baromètre ?") == [
        "Le baromètre retient 6 critères :"
    ]
    assert marked("Qui publie le baromètre ?") == []


@pytest.mark.parametrize(
    ("sentence", "count"),
    [
        ("L'ANCT intervient à travers trois dispositifs.", 3),
        ("La feuille de route se décline en 10 étapes :", 10),
        ("Les intercommunalités de plus de 50 000 habitants.", 0),
        ("Cela représente 12 %.", 0),
        ("Les agents sont formés.", 0),
    ],
)
def test_a_last_sentence_announcing_items_gives_their_count(sentence, count):
    assert announced(f"Introduction.\n\n{sentence}") == count


@pytest.mark.parametrize(
    "question",
    [
        "Does a town of 2,000 inhabitants have to publish open data?",
        "Une commune de 2 000 habitants doit-elle publier ses données ?",
    ],
)
def test_the_verdict_the_population_settles_comes_first(question):
    answerer, hits = _answerer_over(
        {
            "lprn": "Les communes de plus de 50 agents et de 3 500 habitants doivent publier "
            "leurs données (open data)."
        }
    )

    lines = answerer.answer(build_query(question, []), hits).answer.splitlines()

    assert lines[0].startswith(("No: with 2,000 inhabitants", "Non : avec 2\u202f000 habitants"))
    assert "agents" not in lines[0] and "staff" not in lines[0]
