"""Answerers: the extractive default (no LLM) and an OpenAI-compatible generator."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Protocol

from bm25s.stopwords import STOPWORDS_EN_PLUS

from assistant.answering.brief import asks_for_brief, brief_topic, group_by_speaker, named_speakers
from assistant.answering.conditions import (
    contradicted,
    find_thresholds,
    premise_warning,
    profile_from,
    quantities,
    without_population,
)
from assistant.answering.focus import mentions_focus, terms
from assistant.answering.frame import DATE, FIGURE, ROLE, QuestionFrame, frame_of
from assistant.answering.quoting import next_passage, quote_in_context, with_neighbours
from assistant.answering.rank import Ranking, SentenceRanker
from assistant.answering.rules import Rulebook
from assistant.answering.verdict import Cited, rule_citation, rule_for, verdict_for
from assistant.glossary import query_concepts
from assistant.injection import unquotable
from assistant.query import Query, asks_across_documents
from assistant.retrieval.fusion import Hit
from assistant.retrieval.lexical import Bm25Index, tokenize
from assistant.retrieval.units import clean_for_display, sentence_units
from assistant.schemas import Citation

_DIGIT = re.compile(r"\d")
# "Francis Béguet (Agglopolys) : " before a statement, already shown as its label.
_SPEAKER_PREFIX = re.compile(r"^[^:«]{3,120}?\s*:\s*")
# The refusal says what it did not find, not that nothing is relevant: the closest passages
# it shows may well touch the question.
ABSTAIN = {
    "fr": "Je n'ai pas trouvé de réponse directe à « {topic} » dans les documents. "
    "Reformulez, ou ajoutez un document qui en parle.",
    "en": "I found no direct answer to “{topic}” in the documents. Rephrase it, or add a "
    "document that covers it.",
}
_TOPIC_WORDS = 14  # words of the question a refusal repeats
_ENGLISH_FUNCTION_WORDS = frozenset(STOPWORDS_EN_PLUS)  # « about », « what », « did »
_NEW_WORDS = 0.2  # share of its words a sentence must add to what an answer already said
CLOSEST = 3  # passages shown with a refusal
CLOSEST_ACROSS = 5  # for a question about what the documents say: one per document first
CLOSEST_LEAD = {
    "fr": "Voici les passages les plus proches de la question :",
    "en": "Here are the passages closest to the question (in French):",
}
LEAD = {
    "fr": "D'après les documents :",
    "en": "According to the documents (quoted in French):",
}
# Before a rule of the corpus that says otherwise for the asker than the one quoted.
DIFFERING_LEAD = {
    "fr": "Un autre document le dit autrement pour vous (pas de réponse oui / non) :",
    "en": "Another document says otherwise for you (so no yes / no answer):",
}


def abstention(query: Query) -> str:
    """The message saying the corpus does not answer, naming what was asked."""
    words = query.question.split()
    topic = " ".join(words[:_TOPIC_WORDS]).rstrip(" ?")
    if len(words) > _TOPIC_WORDS:
        topic += " …"  # cut short: the reader must not take it for the question as read
    return ABSTAIN[query.language].format(topic=topic)


@dataclass
class Draft:
    """What an answerer produces before the pipeline adds timings and passages."""

    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    answerer: str = "extractive"
    trace: dict | None = None  # why this answer: candidates, probabilities, threshold
    generated: bool = False  # written by a language model, not quoted from the passages


class Answerer(Protocol):
    """Turns a question and its retrieved passages into a cited answer."""

    name: str

    def answer(self, query: Query, hits: list[Hit]) -> Draft: ...


@dataclass
class _Candidate:
    hit_index: int
    text: str
    score: float  # the ranker's probability that the sentence holds the answer
    terms: set[int]  # indices of the question's concepts it covers
    position: int = 0
    features: dict[str, float] = field(default_factory=dict)
    order: float = 0.0  # the ordering model's score (candidates come best first by it)


def ranking_of(candidates: list[_Candidate], answer: str) -> Ranking:
    """What the ranking says about answering: the first candidate's probability, that of
    the first one of another passage (0 if none), the length of the `answer` composed from
    them, the share of the question the first one covers, by itself and with its line
    before or heading, and how far the ordering model puts it above that other one."""
    best = candidates[0]
    other = next((c for c in candidates if c.hit_index != best.hit_index), None)
    features = best.features
    return Ranking(
        best.score,
        other.score if other else 0.0,
        len(answer),
        features.get("own", 0.0),
        features.get("context", 0.0),
        _squashed(best.order) - (_squashed(other.order) if other else 0.0),
    )


def _squashed(order: float) -> float:
    """An ordering score mapped into (0, 1), so that no other passage counts as 0 as it
    does for probabilities."""
    return 1.0 / (1.0 + math.exp(-order))


class ExtractiveAnswerer:
    """Quotes the sentences the ranker finds most likely to answer, each with its `[n]`.

    Refuses, showing the closest passages, when even the best sentence is unlikely to hold
    the answer: citing something loosely related is worse than saying so.
    """

    name = "extractive"

    def __init__(
        self,
        lexical: Bm25Index,
        *,
        ranker: SentenceRanker | None = None,
        max_sentences: int = 3,
        rulebook: Rulebook | None = None,
    ):
        self.lexical = lexical
        self.ranker = ranker or SentenceRanker.load()
        self.max_sentences = max_sentences
        # The rules verdicts come from; without one, those read in the cited passages.
        self.rulebook = rulebook

    def _concepts(self, query: Query) -> list[tuple[frozenset[str], float]]:
        """The question's concepts with IDF weights; the conversation's count half."""
        weighted: list[tuple[frozenset[str], float]] = []
        known: set[str] = set()
        question = without_population(query.own)
        if query.brief or asks_for_brief(question):
            question = brief_topic(question)  # « qui a dit quoi » is not what it is about
        for text, factor in ((question, 1.0), (query.context, 0.5)):
            for concept in self._split(query_concepts(text, query.language)):
                if concept & known:
                    continue
                concept = concept | {v for t in concept for v in self.lexical.variants(t)}
                seen = [t for t in concept if self.lexical.doc_freq.get(t)]
                if query.language == "en" and not seen:
                    continue  # English words the corpus never uses say nothing of coverage
                idf = max(self.lexical.idf(t) for t in (seen or concept))
                weighted.append((concept, idf * factor))
                known |= concept
        return weighted

    def _split(self, concepts: list[frozenset[str]]) -> list[frozenset[str]]:
        """A name and its number typed as one word ("NIS2") are the two concepts the corpus
        writes apart ("NIS 2")."""
        split = []
        for concept in concepts:
            tokens = self.lexical.split(next(iter(concept))) if len(concept) == 1 else []
            split += [frozenset({t}) for t in tokens] if len(tokens) > 1 else [concept]
        return split

    def candidates(self, query: Query, hits: list[Hit]) -> list[_Candidate]:
        """Every quotable sentence of the passages with its features and probability, best
        first."""
        concepts = self._concepts(query)
        question = query.question
        frame = frame_of(query)
        total = sum(w for _, w in concepts) or 1.0

        def covered(tokens: set[str]) -> set[int]:
            return {i for i, (concept, _) in enumerate(concepts) if concept & tokens}

        def weight(indices: set[int]) -> float:
            return sum(concepts[i][1] for i in indices) / total

        best_dense = max((h.dense for h in hits if h.dense is not None), default=0.0)
        candidates = []
        for index, hit in enumerate(hits):
            meta = hit.chunk.metadata
            # Words naming the document ("the CNAM study", "the ANPP brief") hold for all
            # its sentences alike.
            in_title = covered(terms(f"{meta.get('title', '')} {meta.get('publisher', '')}"))
            # A section heading ("Missions du DPO") names what the lines below it are about.
            heading = covered(terms(meta.get("heading", "")))
            passage = covered(terms(hit.chunk.text)) | heading | in_title
            dense = hit.dense if hit.dense is not None else 0.0
            previous: set[int] = set()
            units = sentence_units(hit.chunk.text)
            ordered = unquotable(hit.chunk.text)  # orders to an assistant are never quoted
            for position, unit in enumerate(units):
                own = covered(terms(unit)) | in_title
                context = (previous | heading) - own
                previous = own
                if len(unit) < 12 or ordered(unit):
                    continue
                new_figures = set(FIGURE.findall(unit)) - frame.asked_figures
                negates = bool(covered(_negated(unit)))
                features = {
                    "own": weight(own),
                    "context": weight(context),
                    "passage": weight(passage),
                    "title": weight(in_title),
                    "fused": hit.score,
                    "dense": dense,
                    "dense_gap": best_dense - dense,
                    "hit_rank": math.log1p(index),
                    "position": math.log1p(position),
                    "length": math.log(len(unit)),
                    "label": float(len(unit) < _LABEL and not _DIGIT.search(unit)),
                    "figure": float(frame.number and bool(new_figures)),
                    "no_figure": float(frame.number and not new_figures and not negates),
                    "date": float(frame.date and bool(DATE.search(unit))),
                    "threshold": float(frame.condition and bool(find_thresholds(unit))),
                    "role": float(frame.role and bool(ROLE.search(unit))),
                    "list_lead": float(
                        frame.list and unit.rstrip().endswith(":") and position + 1 < len(units)
                    ),
                    "claimed": float(
                        bool(frame.claimed_units)
                        and bool({u for _, u in quantities(unit)} & frame.claimed_units)
                    ),
                    "negates": float(negates),
                    "focus": float(
                        mentions_focus(question, query.language, [(unit, hit)], self.lexical)
                    ),
                    "follow_up": float(frame.follow_up),
                    "english": float(query.language == "en"),
                }
                candidates.append(_Candidate(index, unit, 0.0, own, position, features))
        rows = [c.features for c in candidates]
        scores = self.ranker.probabilities(rows)
        for candidate, score in zip(candidates, scores, strict=True):
            candidate.score = score
        for candidate, order in zip(candidates, self.ranker.ordering(rows), strict=True):
            candidate.order = order
        return sorted(candidates, key=lambda c: c.order, reverse=True)

    def answer(self, query: Query, hits: list[Hit]) -> Draft:
        """Compose the answer from the best sentences, or refuse with the closest passages."""
        hits = evidence(hits)
        candidates = self.candidates(query, hits)
        if query.said:
            # « Et quoi d'autre ? »: what the previous answer quoted is not the answer.
            said = terms(query.said)
            candidates = [c for c in candidates if not _repeats(c.text, said)]
        frame = frame_of(query)
        quoter = _Quoter(hits, frame.list)
        # Brief mode, asked for explicitly, reports what each speaker said on the topic,
        # quoted and attributed: it asserts no answer of its own, so it needs statements on
        # the topic (holding most of the question's concepts, by weight), not the confidence
        # that an answer is right. A question only worded as one (« qu'ont dit les
        # participants… ») becomes a brief once the confidence allows an answer.
        on_topic = [c for c in candidates if c.features["own"] >= 0.5] if query.brief else []
        if on_topic:
            brief = self._brief(query, on_topic, hits, quoter)
            if brief is not None:
                ranking = ranking_of(candidates, brief.answer)
                return dataclasses.replace(brief, trace=self._trace(candidates, ranking))
        if not candidates:
            return dataclasses.replace(
                self._refusal(query, hits, candidates, quoter), trace=self._trace([])
            )
        # « Qu'a dit Francis Béguet ? » names a speaker of the retrieved passages: their
        # statements, attributed by the passages themselves, are the answer (the likeliest
        # first, so « … sur l'accessibilité » brings those on it).
        theirs = (
            _by_named_speaker(query, hits, sorted({c.hit_index for c in candidates}))
            if frame.brief and not query.brief
            else None
        )
        if theirs:
            statements = [c for c in candidates if c.hit_index in theirs]
            statements = self._on_topic(query, statements, hits)
            brief = self._brief(query, statements, hits, quoter) if statements else None
            if brief is not None:
                ranking = ranking_of(candidates, brief.answer)
                trace = self._trace(candidates, ranking) | {"decision": "speaker"}
                return dataclasses.replace(brief, trace=trace)
        draft = (self._brief(query, candidates, hits, quoter) if frame.brief else None) or (
            self._answer(query, frame, candidates, hits, quoter)
        )
        ranking = ranking_of(candidates, draft.answer)
        trace = self._trace(candidates, ranking)
        trace["decision"] = "answer"
        if not self.ranker.confident(ranking):
            # An obligation question the sentences leave in doubt is still answered by the
            # rule of a retrieved passage that it is about, quoting the rule's sentence.
            rule = self._from_rule(query, candidates, hits, quoter)
            trace["decision"] = "rule" if rule else "refusal"
            draft = rule or self._refusal(query, hits, candidates, quoter)
        return dataclasses.replace(draft, trace=trace)

    def _on_topic(
        self, query: Query, statements: list[_Candidate], hits: list[Hit]
    ) -> list[_Candidate]:
        """The statements on what the question asks besides whose words it wants (all of
        them when it asks nothing else): half of its other concepts, by weight."""
        concepts = self._concepts(query)
        passages = sorted({c.hit_index for c in statements})
        named = set(tokenize(" ".join(_speakers_named(query, hits, passages))))
        # Words the corpus never uses (English ones) say nothing either way, nor English
        # function words it happens to use (« What did X say about… »).
        seen = self.lexical.doc_freq if self.lexical is not None else None
        function = _ENGLISH_FUNCTION_WORDS if query.language == "en" else frozenset()
        topic = {
            i: w
            for i, (concept, w) in enumerate(concepts)
            if not concept & named
            and not concept <= function
            and (seen is None or any(seen.get(t) for t in concept))
        }
        if not topic:
            return statements
        total = sum(topic.values())
        return [c for c in statements if sum(topic.get(i, 0.0) for i in c.terms) >= total / 2]

    def _from_rule(
        self, query: Query, candidates: list[_Candidate], hits: list[Hit], quoter: _Quoter
    ) -> Draft | None:
        """The answer from the stored rule the question is about: its verdict, and its
        sentence quoted in its passage; None without such a rule."""
        sentence = self._rule_sentence(query, candidates, hits)
        return None if sentence is None else self._compose(query, [sentence], hits, quoter)

    def _rule_sentence(
        self, query: Query, candidates: list[_Candidate], hits: list[Hit]
    ) -> _Candidate | None:
        """The sentence stating the stored rule of `hits` that an obligation question is
        about (else the first of its passage), or None without such a rule."""
        if self.rulebook is None:
            return None
        rule = rule_for(query, [h.chunk for h in hits], self.rulebook, self.lexical)
        if rule is None:
            return None
        stated = " ".join(rule.sentence.split())
        own = [c for c in candidates if hits[c.hit_index].chunk.id == rule.chunk_id]

        def states(candidate: _Candidate) -> bool:
            text = " ".join(candidate.text.split())
            return stated in text or text in stated

        return next((c for c in own if states(c)), own[0] if own else None)

    def _answer(
        self,
        query: Query,
        frame: QuestionFrame,
        candidates: list[_Candidate],
        hits: list[Hit],
        quoter: _Quoter,
    ) -> Draft:
        """The best sentences, with the one stating who is concerned for an obligation
        question, composed into a cited answer."""
        chosen = self._select(candidates, hits, broad=_across_documents(query))
        chosen += self._from_each(query.documents, candidates, chosen, hits)
        if frame.condition and not any(find_thresholds(quoter.plain(c)) for c in chosen):
            # An obligation question: bring in the best sentence that states who is concerned.
            extra = next(
                (
                    c
                    for c in candidates[1:]
                    if c.score >= self.ranker.threshold and find_thresholds(quoter.plain(c))
                ),
                None,
            )
            if extra is not None:
                chosen.append(extra)
        if self.rulebook is not None:
            # An obligation question whose chosen sentences' passages hold no rule on what
            # it asks (a statistic citing the law) also quotes the rule that does.
            cited = [hits[i] for i in {c.hit_index for c in chosen}]
            if rule_for(query, [h.chunk for h in cited], self.rulebook, self.lexical) is None:
                rule = self._rule_sentence(query, candidates, hits)
                if rule is not None and rule not in chosen:
                    chosen.append(rule)
        return self._compose(query, chosen, hits, quoter)

    def _trace(
        self, candidates: list[_Candidate], ranking: Ranking | None = None, shown: int = 5
    ) -> dict:
        """The decision behind an answer: the best sentences and what moved their scores,
        and the confidence `ranking` (of the answer composed from them) gives."""
        ranker = self.ranker
        confidence = ranker.answer_confidence(ranking) if ranking else 0.0
        return {
            "confidence": round(confidence, 4),
            "ranking": dataclasses.asdict(ranking) if ranking else None,
            "threshold": ranker.confidence.threshold if ranker.confidence else ranker.threshold,
            "sentence_threshold": ranker.threshold,
            "candidates": [
                {
                    "passage": c.hit_index + 1,
                    "text": c.text[:300],
                    "probability": round(c.score, 4),
                    "order": round(c.order, 4),
                    "models": {k: round(v, 4) for k, v in self.ranker.parts(c.features).items()},
                    "features": {k: round(v, 4) for k, v in c.features.items()},
                    "contributions": self.ranker.explain(c.features),
                }
                for c in candidates[:shown]
            ],
        }

    def _refusal(
        self, query: Query, hits: list[Hit], candidates: list[_Candidate], quoter: _Quoter
    ) -> Draft:
        """No sentence is likely enough to answer: say so, and show the closest passages
        (those of the likeliest sentences, then in retrieval order; for a question about
        what the documents say, the closest of each document first), each by its likeliest
        sentence in the context a reader needs: what they would look for in it."""
        concepts = self._concepts(query)
        likeliest: dict[int, _Candidate] = {}
        for candidate in candidates:
            likeliest.setdefault(candidate.hit_index, candidate)
        order = list(dict.fromkeys([*likeliest, *range(len(hits))]))
        # « Qu'a dit X ? » is about X: their statements are the closest passages, if any.
        order = _by_named_speaker(query, hits, order) or order
        across = _across_documents(query)
        if across:
            order = _each_document_first(hits, order)
        # A passage is shown by a sentence that says something: « De quoi parle-t-on ? », an
        # interviewer's question or a bare label (« CA Villefranche ») is only what its
        # likeliest sentence asks or names.
        for candidate in reversed(candidates):
            if not _asks(candidate.text) and not candidate.features.get("label"):
                likeliest[candidate.hit_index] = candidate

        def shown(index: int) -> str:
            best = likeliest.get(index)
            if best is None:
                return _opening(hits[index].chunk.text)
            anchors = set().union(*(concepts[i][0] for i in best.terms))
            return _shortened(quoter.shown(best), anchors=anchors)

        # Passages that would show the same words (a heading repeated on each page) are
        # shown once.
        texts: dict[str, int] = {}
        for index in order:
            texts.setdefault(shown(index), index)
            if len(texts) == (CLOSEST_ACROSS if across else CLOSEST):
                break
        order = list(texts.values())
        lines = [abstention(query)]
        if order:
            lines.append(CLOSEST_LEAD[query.language])
        lines += [f"- {text} [{n}]" for n, text in enumerate(texts, start=1)]
        citations = [
            Citation(n=n, **hits[i].to_passage().model_dump()) for n, i in enumerate(order, 1)
        ]
        return Draft("\n".join(lines), abstained=True, citations=citations)

    def _select(
        self, candidates: list[_Candidate], hits: list[Hit], broad: bool
    ) -> list[_Candidate]:
        """The best sentence, then others that add what it leaves out."""
        best = candidates[0]
        limit = self.max_sentences * 2 if broad else self.max_sentences
        chosen = [best]
        covered = set(best.terms)
        passages = {best.hit_index}
        documents = {self._document(hits, best): 1}
        for candidate in candidates[1:]:
            if len(chosen) >= limit:
                break
            document = self._document(hits, candidate)
            adds = candidate.terms - covered
            if broad:
                # Breadth: another document's view counts even if it adds no new term.
                if candidate.score < self.ranker.threshold or documents.get(document, 0) >= 2:
                    continue
                if not adds and document in documents:
                    continue
            elif not adds or (
                candidate.score < self.ranker.threshold and candidate.hit_index not in passages
            ):
                # A sentence of a passage already cited may complete it whatever its
                # probability; another passage (another citation) must be likely.
                continue
            if any(candidate.text in c.text or c.text in candidate.text for c in chosen):
                continue
            chosen.append(candidate)
            covered |= candidate.terms
            passages.add(candidate.hit_index)
            documents[document] = documents.get(document, 0) + 1
        return chosen

    def _from_each(
        self,
        documents: tuple[str, ...],
        candidates: list[_Candidate],
        chosen: list[_Candidate],
        hits: list[Hit],
    ) -> list[_Candidate]:
        """The best sentence of each named document the chosen ones leave out."""
        quoted = {self._document(hits, c) for c in chosen}
        floor = _EACH_FLOOR * candidates[0].score
        extra: list[_Candidate] = []
        for document in documents:
            if document in quoted:
                continue
            best = next((c for c in candidates if self._document(hits, c) == document), None)
            if best is not None and best.score >= floor:
                extra.append(best)
        return extra

    def _compose(
        self, query: Query, chosen: list[_Candidate], hits: list[Hit], quoter: _Quoter
    ) -> Draft:
        """Number the cited passages, write the verdict or correction, then the quotes."""
        language = query.language
        texts = {id(c): clean_for_display(quoter.shown(c)) for c in chosen}
        # Sentences of one passage read best in the passage's own order.
        first_rank: dict[int, int] = {}
        for rank, candidate in enumerate(chosen):
            first_rank.setdefault(candidate.hit_index, rank)
        ordered = sorted(chosen, key=lambda c: (first_rank[c.hit_index], c.position))
        numbers: dict[int, int] = {}
        for candidate in ordered:
            numbers.setdefault(candidate.hit_index, len(numbers) + 1)

        def marker(candidate: _Candidate) -> str:
            return f"[{numbers[candidate.hit_index]}]"

        profile = profile_from(f"{query.question} {query.context}", query.profile)
        preamble = []
        best = chosen[0]
        claims = contradicted(query.question, texts[id(best)], profile)
        if claims:
            preamble.append(premise_warning(claims, marker(best), language))
        # Yes / no / it depends: only for an obligation question about the asker, from the
        # one rule of the cited passages the question is about.
        cited = [Cited(hits[c.hit_index].chunk.id, texts[id(c)], marker(c)) for c in chosen]
        verdict = verdict_for(
            query,
            cited,
            self.rulebook,
            passages=[hits[i].chunk for i in numbers],
            lexical=self.lexical,
        )
        if verdict.line:
            preamble.append(verdict.line)
        lines = [*preamble, LEAD[language]]
        # The best sentence is shown between its neighbours (the verdict above reads it
        # alone); a chosen sentence they already show is not quoted again.
        around = clean_for_display(quoter.around(best))
        quoted: set[str] = set()
        for candidate in ordered:
            text = around if candidate is best else texts[id(candidate)]
            if text in quoted or (candidate is not best and text in around):
                continue  # two items of one list, both quoted with the whole list
            quoted.add(text)
            lines.append(f"- {f'“{text}”' if language == 'en' else text} {marker(candidate)}")
        citations = [
            Citation(n=n, **hits[index].to_passage().model_dump()) for index, n in numbers.items()
        ]
        differing = verdict.differing
        if differing is not None and " ".join(differing.sentence.split()) not in " ".join(
            " ".join(t.split()) for t in texts.values()
        ):
            # The rule that withholds the verdict is shown too, from its own passage.
            n = next((c.n for c in citations if c.chunk_id == differing.chunk_id), None)
            if n is None:
                n = len(citations) + 1
                citations.append(rule_citation(differing, n))
            text = clean_for_display(differing.sentence)
            lines += [
                DIFFERING_LEAD[language],
                f"- {f'“{text}”' if language == 'en' else text} [{n}]",
            ]
        return Draft("\n".join(lines), abstained=False, citations=citations)

    def _brief(
        self, query: Query, candidates: list[_Candidate], hits: list[Hit], quoter: _Quoter
    ) -> Draft | None:
        """Statements grouped by speaker: the best sentence of each relevant statement."""
        floor = 0.55 * candidates[0].score
        per_passage: dict[int, _Candidate] = {}
        for candidate in candidates:
            meta = hits[candidate.hit_index].chunk.metadata
            if meta.get("speakers") and candidate.score >= floor:
                per_passage.setdefault(candidate.hit_index, candidate)
        # "Qu'a dit X ?" is about X: the statements of others stay out of the brief.
        theirs = _by_named_speaker(query, hits, list(per_passage))
        if theirs is not None:
            per_passage = {i: per_passage[i] for i in theirs}
        if not per_passage:
            return None
        picked = sorted(per_passage.values(), key=lambda c: c.score, reverse=True)[:8]
        numbers = {c.hit_index: n for n, c in enumerate(picked, start=1)}
        quotes = []
        for candidate in picked:
            meta = hits[candidate.hit_index].chunk.metadata
            speaker = str(meta["speakers"]).split("; ")[0]
            organisations = [o for o in str(meta.get("organisations", "")).split("; ") if o]
            label = f"{speaker} ({organisations[0]})" if len(organisations) == 1 else speaker
            statement = _SPEAKER_PREFIX.sub("", quoter.plain(candidate))
            quotes.append((label, statement, f"[{numbers[candidate.hit_index]}]"))
        citations = [
            Citation(n=n, **hits[index].to_passage().model_dump()) for index, n in numbers.items()
        ]
        text = group_by_speaker(quotes, query.language, clean_for_display)
        return Draft(text, abstained=False, citations=citations)

    @staticmethod
    def _document(hits: list[Hit], candidate: _Candidate) -> str:
        return hits[candidate.hit_index].chunk.metadata.get("doc_id", "")


class _Quoter:
    """Each candidate sentence in the context a reader needs (see `quote_in_context`),
    worked out once per answer: as shown (with the list a list question asks for, continued
    in the next passage) or plain (its lead-in or antecedent only)."""

    def __init__(self, hits: list[Hit], wants_list: bool):
        self.hits = hits
        self.wants_list = wants_list
        self._quoted: dict[tuple[int, int, bool], str] = {}

    def shown(self, candidate: _Candidate) -> str:
        return self._quote(candidate, self.wants_list)

    def plain(self, candidate: _Candidate) -> str:
        return self._quote(candidate, False)

    def around(self, candidate: _Candidate) -> str:
        """As shown, between the sentences before and after it in its passage."""
        text = self.hits[candidate.hit_index].chunk.text
        ordered = unquotable(text)
        return with_neighbours(
            text, candidate.position, self.shown(candidate), lambda s: not ordered(s)
        )

    def _quote(self, candidate: _Candidate, as_list: bool) -> str:
        key = (candidate.hit_index, candidate.position, as_list)
        if key not in self._quoted:
            hit = self.hits[candidate.hit_index]
            following = next_passage(self.hits, candidate.hit_index)
            self._quoted[key] = quote_in_context(
                hit.chunk.text, candidate.position, as_list, following, hit.sections
            )
        return self._quoted[key]


_NEGATED = re.compile(r"\b(?:aucune?|pas\s+de|pas\s+d'|sans|no|without)\s*(\w+)", re.IGNORECASE)


def _by_named_speaker(query: Query, hits: list[Hit], indices: list[int]) -> list[int] | None:
    """Those of the passages at `indices` stating the words of a speaker the question names
    (« Qu'a dit Francis Béguet… ? »), in order; None when it names none of their speakers."""
    named = _speakers_named(query, hits, indices)
    if not named:
        return None
    return [i for i in indices if _speakers(hits[i]) & named]


def _speakers_named(query: Query, hits: list[Hit], indices: list[int]) -> set[str]:
    """The speakers of the passages at `indices` that the question names."""
    speakers = set().union(*(_speakers(hits[i]) for i in indices))
    return set(named_speakers(query.text, sorted(speakers)))


def _speakers(hit: Hit) -> set[str]:
    """Whose words a passage states, from its metadata."""
    return set(str(hit.chunk.metadata.get("speakers", "")).split("; ")) - {""}


def _across_documents(query: Query) -> bool:
    """Whether the question asks what several documents say, or names several to compare."""
    return asks_across_documents(query.question) or bool(query.documents)


def _each_document_first(hits: list[Hit], order: list[int]) -> list[int]:
    """The passages at `order`, the first of each document before the others."""
    firsts: dict[str, int] = {}
    for index in order:
        firsts.setdefault(hits[index].chunk.metadata.get("doc_id", ""), index)
    return list(dict.fromkeys([*firsts.values(), *order]))


def _repeats(text: str, said: frozenset[str]) -> bool:
    """Whether a sentence's words are nearly all among those already `said` (the shown
    quote may be shortened or read without its OCR noise)."""
    words = terms(text)
    return bool(words) and len(words - said) <= _NEW_WORDS * len(words)


def _asks(sentence: str) -> bool:
    """Whether a sentence is a question."""
    return sentence.rstrip(' »"*').endswith("?")


def _negated(text: str) -> set[str]:
    """Tokens of the words a sentence says there is none of ("aucune sanction")."""
    return set(tokenize(" ".join(_NEGATED.findall(text))))


def evidence(hits: list[Hit]) -> list[Hit]:
    """The passages that can be evidence: not those made mostly of orders to an assistant
    (never quoted, they would still push the others down the ranking)."""

    def mostly_orders(hit: Hit) -> bool:
        units = sentence_units(hit.chunk.text)
        ordered = unquotable(hit.chunk.text)
        return bool(units) and 2 * sum(map(ordered, units)) >= len(units)

    return [h for h in hits if not mostly_orders(h)]


def _opening(text: str) -> str:
    """The first words of a passage, cut at a word boundary, without emphasis marks; lines
    giving orders to an assistant are left out, as they are never quoted."""
    ordered = unquotable(text)
    return _shortened(" ".join(u for u in sentence_units(text) if not ordered(u)))


def _shortened(text: str, limit: int = 240, anchors: set[str] = frozenset()) -> str:
    """Text for a reader, cut at a word boundary after `limit` characters, without emphasis
    marks (a Markdown source's would be left open by the cut). The part shown is the one
    naming the most of the `anchors` (tokens of the question's concepts): when the words
    matching them lie further on, it starts a little before the first of them it shows."""
    flat = " ".join(clean_for_display(text).replace("**", "").split())
    if len(flat) <= limit:
        return flat
    found = [
        (m.start(), named)
        for m in _WORD.finditer(flat)
        if (named := frozenset(tokenize(m.group())) & anchors)
    ]

    def named_from(anchor: int) -> int:
        """How many anchors the text shown from a little before `anchor` names."""
        end = max(anchor, _ANCHOR_LEAD) - _ANCHOR_LEAD + limit - _ANCHOR_ROOM
        return len(set().union(*(n for p, n in found if anchor <= p <= end)))

    anchor = max((p for p, _ in found), key=named_from, default=0)  # the first of the best
    if anchor + _ANCHOR_ROOM > limit:
        start = flat.rfind(" ", 0, max(0, anchor - _ANCHOR_LEAD)) + 1
        return "… " + _shortened(flat[start:], limit)
    return flat[:limit].rsplit(" ", 1)[0] + " …"


_EACH_FLOOR = 0.3  # share of the best score a named document's sentence needs to be quoted
_LABEL = 40  # characters: a line this short is a label, not a statement
_WORD = re.compile(r"[^\W_][\w'’-]*")
_ANCHOR_ROOM = 60  # characters a shortened text keeps after the first word the question names
_ANCHOR_LEAD = 80  # characters it shows before that word when it starts later
