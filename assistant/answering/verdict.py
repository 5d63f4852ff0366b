"""Verdicts only where they belong: one yes / no / it-depends line, from one cited rule.

A verdict answers a yes-or-no question on an obligation or an eligibility of the asker's
collectivity (the profile, « notre commune », « a town of 2,000 inhabitants »). It is never
given to a question asking for a figure, an amount, a sanction, a date or a definition, nor
to a question about collectivities in general (« quelles communes doivent… ? »): their
answer quotes who is concerned. The verdict comes from the rules read in the passages the
answer cites (`assistant.answering.rules`), the one whose subject covers what the question
asks about; it is worked out by `assistant.obligations.assess`, the same verdict as the
"Mes obligations" page. One rule decides, so an answer never holds two verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import simplemma

from assistant.answering.conditions import (
    ENGLISH_KIND,
    ENGLISH_KINDS,
    HEADCOUNT,
    KINDS,
    PLURALS,
    Threshold,
    applies_to_kind,
    figure,
    find_thresholds,
    kind_of,
    profile_from,
)
from assistant.answering.rules import Rule, Rulebook, kinds_in
from assistant.glossary import query_concepts
from assistant.language import french_tagger
from assistant.query import MISSING_QUESTION, Query
from assistant.retrieval.lexical import STOPWORDS, Bm25Index, tokenize
from assistant.retrieval.store import StoredChunk
from assistant.retrieval.units import clean_for_display, sentence_units
from assistant.schemas import Citation, Profile


class Cited(NamedTuple):
    """A sentence the answer quotes, the passage it comes from and that passage's marker."""

    chunk_id: str
    text: str
    marker: str  # "[2]"


# Wording that asks whether someone is bound by, or entitled to, something.
_BINDING = re.compile(
    r"\b(?:doi[st]|doivent|devons|devez|devr\w+|oblig\w*|tenu\w*|soumis\w*|concern\w*|"
    r"s['’]appliqu\w*|appliqu\w*|applicable\w*|s['’]impos\w*|faut[- ]il|éligible\w*|"
    r"prétendre|bénéficier|droit\s+à|must|ha(?:ve|s)\s+to|need\s+to|required|obliged|"
    r"mandatory|compulsory|appl(?:y|ies)|eligible|entitled|subject\s+to)\b",
    re.IGNORECASE,
)
# What else a question can ask for: a figure, an amount, a sanction, a date, a definition.
_OTHER_ANSWER = re.compile(
    r"\b(?:combien|montants?|amendes?|sanction\w*|pénalit\w*|risqu\w*|quand|dates?|délais?|"
    r"échéances?|seuils?|définition|signifie|how\s+(?:much|many)|when|fines?|penalt\w+|"
    r"risks?|amounts?|deadlines?|thresholds?|define|definition|mean)\b",
    re.IGNORECASE,
)
# A question opening a clause with an interrogative word asks for something else than
# yes or no: « quelles communes doivent… », « que devons-nous… », "which towns must…".
_OPEN_QUESTION = re.compile(
    r"(?:^|[.:;!?]\s*)(?:et\s+|and\s+|alors\s+)?(?:quel\w*|lesquel\w*|qui\b|que\b|qu['’]|"
    r"quoi|comment|pourquoi|où|combien|quand|à\s+(?:qui|quoi|quel\w*)|"
    r"what|which|who|whom|how|why|where|when)",
    re.IGNORECASE,
)
# Words by which the asker speaks of their own collectivity.
_ASKER = re.compile(
    r"\b(?:nous|notre|nos|nôtre|ma|mon|mes|je|j['’]|moi|we|us|our|ours|my)\b|-on\b|"
    r"\bon\s+(?:doit|peut|est|a|devra)\b",
    re.IGNORECASE,
)
# Any word naming a kind of collectivity (the kinds' own table), or a vaguer one.
_KIND_WORDS = (
    "(?:"
    + "|".join([pattern.pattern for _, pattern in KINDS] + [r"communauté|community|council"])
    + ")"
)
# One collectivity the question describes: « une commune de 2 000 habitants », "a town".
_ONE_COLLECTIVITY = re.compile(rf"\b(?:une?|a|an)\s+{_KIND_WORDS}\b", re.IGNORECASE)
# Lemmas naming who is bound or how, not what: they say nothing of the rule's subject.
_GENERIC = {
    "devoir", "falloir", "obliger", "obligation", "obligatoire", "tenir", "tenu", "soumettre",
    "concerner", "appliquer", "applicable", "imposer", "pouvoir", "bénéficier", "éligible",
    "prétendre", "droit", "être", "avoir", "faire", "habitant", "agent", "commune", "ville",
    "mairie", "communauté", "intercommunalité", "interco", "epci", "agglomération", "agglo",
    "département", "région", "collectivité", "territorial", "local", "loi", "règle",
    "must", "have", "need", "require", "required", "oblige", "mandatory", "compulsory",
    "apply", "eligible", "entitle", "subject", "inhabitant", "staff", "employee", "town",
    "city", "municipality", "community", "council", "authority", "department", "region",
    "law", "rule", "do", "be", "can", "plus", "moins", "more", "than", "fewer", "less",
    "over", "under",
}  # fmt: skip
# Parts of speech that never name what a question is about.
_NO_SUBJECT = {"ADV", "PRON", "DET", "ADP", "AUX", "CCONJ", "SCONJ", "INTJ", "PUNCT"}
_FOCUS_SHARE = 0.5  # share of the question's focus (IDF-weighted) a rule must cover


def asks_for_verdict(query: Query) -> bool:
    """Whether the question asks yes or no about an obligation or eligibility of the asker.

    A follow-up without binding words of its own (« Et pour une commune de 12 000
    habitants ? ») carries on the obligation question it follows.
    """
    question = query.question
    if _OTHER_ANSWER.search(question) or _OPEN_QUESTION.search(question):
        return False
    binding = _BINDING.search(question) or (
        query.context and _BINDING.search(query.context) and _describes_asker(question)
    )
    # « Les communes de plus de 3 500 habitants doivent-elles… » asks about the collectivities
    # its own threshold sets apart, not about the asker whose profile is set.
    about_asker = _describes_asker(question) or (
        _has_profile(query.profile) and not find_thresholds(question)
    )
    return bool(binding) and about_asker


def _describes_asker(question: str) -> bool:
    return bool(_ASKER.search(question) or _ONE_COLLECTIVITY.search(question))


def _has_profile(profile: Profile | None) -> bool:
    return profile is not None and any(
        value is not None for value in (profile.kind, profile.population, profile.agents)
    )


def asker_profile(query: Query) -> Profile:
    """The asking collectivity: the conversation's profile, completed from the question;
    its kind only from words naming the asker's own (« notre commune », "a town")."""
    found = profile_from(query.question, query.profile)
    kind = query.profile.kind if query.profile else None
    if kind is None:
        named = _ASKER_KIND.search(query.question)
        kind = kind_of(named.group(0)) if named else None
        kind = None if kind == "collectivité" else kind
    return found.model_copy(update={"kind": kind})


# The kind of the asker's collectivity: the one named after « notre », « une », "our", "a".
_ASKER_KIND = re.compile(
    rf"\b(?:notre|ma|mon|une?|a|an|our|my)\s+(?:\w+\s+)?(?:{_KIND_WORDS}(?:\s+d\S+\s+\w+)?)",
    re.IGNORECASE,
)


def _focus(query: Query) -> list[str]:
    """The words of what is asked about: the question's content words whose lemma does not
    only say who is bound or how; the conversation's when the question has none."""
    for text in (query.question, query.context):
        language = ("en", "fr") if query.language == "en" else ("fr",)
        text = HEADCOUNT.sub(" ", text)
        if query.language == "fr":
            text = _naming_words(text)
        words = [
            w
            for w in re.findall(r"[^\W\d_]+", text)
            if len(w) > 2
            and w.lower() not in STOPWORDS
            and simplemma.lemmatize(w.lower(), lang=language) not in _GENERIC
            and kind_of(w) is None
        ]
        if words:
            return words
    return []


@lru_cache(maxsize=1024)
def _naming_words(text: str) -> str:
    """The French text without the words that say nothing of a subject (« aussi »,
    « vraiment », « nous »), tagged once per text: a question's focus is read several times
    per answer."""
    return " ".join(t.text for t in french_tagger()(text) if t.pos_ not in _NO_SUBJECT)


def covers_focus(rule: Rule, focus: list[str], language: str, lexical: Bm25Index | None) -> float:
    """The IDF-weighted share of the question's focus the rule's sentence names, read with
    its heading and the line before it (« Loi … « REEN » (2021) » says which law the
    obligation under it comes from); English words the corpus never uses say nothing
    either way."""
    concepts = query_concepts(" ".join(focus), language)
    said = set(tokenize(f"{rule.sentence} {rule.asks} {rule.heading} {_line_before(rule)}"))
    covered = total = 0.0
    for concept in concepts:
        if lexical is None:
            weight = 1.0
        else:
            seen = [t for t in concept if lexical.doc_freq.get(t)]
            if language == "en" and not seen:
                continue
            weight = max(lexical.idf(t) for t in (seen or concept))
        total += weight
        covered += weight if concept & said else 0.0
    return covered / total if total else 0.0


def _line_before(rule: Rule) -> str:
    """The sentence before the rule's in its passage ("" when it opens the passage)."""
    stated = " ".join(rule.sentence.split())
    previous = ""
    for unit in sentence_units(rule.passage):
        said = " ".join(unit.split())
        # A rule read from a list's lead-in and one item opens on the lead-in.
        if stated in said or (said and stated.startswith(said)):
            return previous
        previous = unit
    return ""


def rules_in(passages: Iterable[StoredChunk]) -> list[Rule]:
    """The rules read in these passages (no rulebook: an answerer used on its own)."""
    chunks = list(passages)
    return Rulebook(lambda: chunks).rules


# Whom something is open to: « s'adresse aux », « réservé aux », « éligibles », "open to".
_ELIGIBLE = re.compile(
    r"\b(?:s['’]adress\w*\s+(?:à|a|aux)|réservée?s?\s+(?:à|a|aux)|destinée?s?\s+(?:à|a|aux)|"
    r"ouverte?s?\s+(?:à|a|aux)|éligibles?|peu(?:t|vent)\s+(?:en\s+)?bénéficier|"
    r"(?:is|are)\s+(?:open|reserved|available)\s+to|eligible)\b",
    re.IGNORECASE,
)


def eligibility_rules(passage: StoredChunk, bare: bool = False) -> list[Rule]:
    """Whom a scheme is open to, as rules: one per threshold, since « aux communes de moins
    de 3 500 habitants et aux intercommunalités de moins de 15 000 » opens it to either.

    With `bare` (an eligibility question), a line that is a condition alone (a slide's
    « • Communes de moins de 3 500 habitants ») counts too, about what the lines before it
    name."""
    rules = []
    units = sentence_units(passage.text)
    for index, sentence in enumerate(units):
        thresholds = find_thresholds(" ".join(sentence.split()))
        alone = bare and bool(thresholds) and len(_WORD.findall(sentence)) <= _BARE_WORDS
        if sentence.rstrip().endswith("?") or not (_ELIGIBLE.search(sentence) or alone):
            continue
        shown = clean_for_display(sentence)
        about = clean_for_display(" ".join(units[max(0, index - _BARE_CONTEXT) : index + 1]))
        conditions = [([t.who], [t]) for t in thresholds] or [(kinds_in(sentence), [])]
        for kinds, only in conditions:
            kinds = [k for k in kinds if k != "collectivité"]
            rules.append(
                Rule(kinds, only, asks=about, sentence=shown, start=0, end=0, chunk_id=passage.id)
            )
    return rules


_WORD = re.compile(r"[^\W\d_]{3,}")
_BARE_WORDS = 4  # words of a line stating a condition and nothing else
_BARE_CONTEXT = 4  # lines before a bare condition that say what it is a condition of
# An eligibility question: « peut-elle bénéficier de… », « sommes-nous éligibles », "entitled".
_ASKS_ELIGIBILITY = re.compile(
    r"\b(?:bénéficier|éligible\w*|prétendre|droit\s+à|eligible|entitled|qualify)\b", re.I
)


def _choose(
    rules: list[Rule], query: Query, profile: Profile, cited: list[Cited], lexical: Bm25Index | None
) -> Rule | None:
    """The rule the question is about: the best cover of its focus; among equals, one
    for the asker's kind, one the known facts settle, one whose sentence is quoted."""
    focus = _focus(query)
    quoted = " ".join(" ".join(c.text.split()) for c in cited)
    best, best_key = None, None
    for rule in rules:
        share = covers_focus(rule, focus, query.language, lexical)
        if share < _FOCUS_SHARE:
            continue
        kinds = [applies_to_kind(t, profile.kind) for t in rule.thresholds] or [
            applies_to_kind(Threshold(k, True, 0, "habitants"), profile.kind) for k in rule.kinds
        ]
        settled = all(
            (profile.population if t.unit == "habitants" else profile.agents) is not None
            for t in rule.thresholds
        )
        key = (
            round(share, 3),
            True in kinds,
            False not in kinds,
            settled,
            " ".join(rule.sentence.split()) in quoted,
        )
        if best_key is None or key > best_key:
            best, best_key = rule, key
    return best


def rule_for(
    query: Query, passages: Iterable[StoredChunk], rulebook: Rulebook, lexical: Bm25Index | None
) -> Rule | None:
    """For a yes / no obligation question about the asker, the rule of the `passages` that
    it is about (the best cover of its focus), or None."""
    if not asks_for_verdict(query):
        return None
    ids = {p.id for p in passages}
    rules = [r for r in rulebook.rules if r.chunk_id in ids]
    return _choose(rules, query, asker_profile(query), [], lexical)


class Verdict(NamedTuple):
    """The verdict line an answer opens with (None: none belongs there), and the rule of the
    corpus that says otherwise for the asker when that is why there is none."""

    line: str | None
    differing: Rule | None = None


def verdict_for(
    query: Query,
    cited: list[Cited],
    rulebook: Rulebook | None,
    passages: Iterable[StoredChunk] = (),
    lexical: Bm25Index | None = None,
) -> Verdict:
    """The verdict of an answer: its line, or why there is none.

    `cited` are the quoted sentences; the rules come from `rulebook` (else are read in
    `passages`, the cited ones), restricted to the cited passages, with whom the cited
    passages open a scheme to (the rulebook holds obligations only); `lexical` gives the
    words' IDF, so that a rare word of the question counts more than « publier ».
    """
    if not cited or not asks_for_verdict(query):
        return Verdict(None)
    markers = {c.chunk_id: c.marker for c in cited}
    passages = [p for p in passages if p.id in markers]
    pool = rulebook.rules if rulebook is not None else rules_in(passages)
    rules = [r for r in pool if r.chunk_id in markers]
    bare = bool(_ASKS_ELIGIBILITY.search(query.question))
    rules += [rule for passage in passages for rule in eligibility_rules(passage, bare)]
    profile = asker_profile(query)
    rule = _choose(rules, query, profile, cited, lexical)
    if rule is None:
        return Verdict(None)
    differing = _gainsayer(rule, query, profile, pool, lexical, cited)
    if differing is not None:
        return Verdict(None, differing)
    language = "en" if query.language == "en" else "fr"
    return Verdict(_say(rule, profile, markers[rule.chunk_id], language))


def _gainsayer(
    rule: Rule,
    query: Query,
    profile: Profile,
    pool: list[Rule],
    lexical: Bm25Index | None,
    cited: list[Cited] = (),
) -> Rule | None:
    """Another rule on what is asked, about the asker's kind of collectivity, that says
    otherwise for the asker (None without one): the slides' « collectivités de plus de 3 500
    habitants » bind a commune of 8 000 inhabitants to open its data, the 2017 study's «
    communes de plus 50 agents et de 3500 habitants » does not when it has 30 agents, and
    leaves it open when its staff is not known. The corpus does not settle it: no verdict.
    The other rule is one of the corpus that covers the question's focus as well, or one the
    answer quotes that names part of it (« l'ouverture de leurs données » for « ouvrir nos
    données »): a verdict must not gainsay a rule shown under it; or one that names the same
    law or body (an acronym the corpus defines, by either form: « Loi pour une République
    numérique » above the slide's rule, « (LPRN) » in the study's) and part of the focus («
    l'ouverture de leurs données » does not name « ouvrir »)."""
    focus = _focus(query)
    quoted = " ".join(" ".join(c.text.split()) for c in cited)
    acronyms = lexical.acronyms if lexical is not None else []
    named = names_in(rule, acronyms)
    # obligations imports the answerer's Draft, which imports this module.
    from assistant.obligations import assess

    verdict = assess(rule, profile).verdict
    for other in pool:
        if other is rule or not _about_kind(other, profile.kind):
            continue
        cover = covers_focus(other, focus, query.language, lexical)
        shown = cover > 0 and " ".join(other.sentence.split()) in quoted
        same_law = cover > 0 and bool(named & names_in(other, acronyms))
        if cover < _FOCUS_SHARE and not shown and not same_law:
            continue
        if verdicts_differ(verdict, assess(other, profile).verdict):
            return other
    return None


def rule_citation(rule: Rule, n: int) -> Citation:
    """The citation of the passage a rule is read in."""
    return Citation(
        n=n,
        document_id=rule.document_id,
        title=rule.title,
        locator=rule.locator,
        page=rule.page,
        text=rule.passage,
        score=1.0,
        kind=rule.kind,
        date=rule.date,
        chunk_id=rule.chunk_id,
    )


def names_in(rule: Rule, acronyms: Iterable[tuple[str, str]]) -> set[str]:
    """The acronyms of `acronyms` (the corpus's (short, long) pairs) that the rule, its
    heading or the line before it names, by the acronym or by what it stands for."""
    said = f" {' '.join(tokenize(f'{rule.sentence} {rule.heading} {_line_before(rule)}'))} "
    named = set()
    for short, long in acronyms:
        forms = [tokenize(short), tokenize(long)]
        # An expansion of fewer than three words (« de Service Public ») is too common.
        forms[1] = forms[1] if len(forms[1]) >= 3 else []
        if any(form and f" {' '.join(form)} " in said for form in forms):
            named.add(short)
    return named


def verdicts_differ(one: str, other: str) -> bool:
    """Whether two verdicts for one collectivity disagree, one of them that a rule applies."""
    return one != other and "applies" in (one, other)


def _about_kind(rule: Rule, kind: str | None) -> bool:
    """Whether the rule may concern a collectivity of this kind (unknown: it may)."""
    kinds = [applies_to_kind(t, kind) for t in rule.thresholds] + [
        applies_to_kind(Threshold(k, True, 0, "habitants"), kind) for k in rule.kinds
    ]
    return False not in kinds


def _say(rule: Rule, profile: Profile, marker: str, language: str) -> str:
    """The verdict in words: yes, no and why, or what to state to know."""
    # obligations imports the answerer's Draft, which imports this module.
    from assistant.obligations import assess

    outcome = assess(rule, profile, language)
    en = language == "en"
    if outcome.verdict == "does_not_apply":
        # The kind first (as `assess` rules it out): « vous êtes une commune » settles it
        # whatever the population; else a figure of the asker's is outside a threshold.
        if (
            profile.kind
            and rule.kinds
            and all(
                applies_to_kind(Threshold(k, True, 0, "habitants"), profile.kind) is False
                for k in rule.kinds
            )
        ):
            whom = _whom(rule, language)
            if en:
                mine = ENGLISH_KIND.get(profile.kind, f"a {profile.kind}")
                return f"No, not as such: this concerns {whom} {marker}, and you are {mine}."
            mine = f"un {profile.kind}" if profile.kind == "département" else f"une {profile.kind}"
            return f"Non, pas en tant que telle : cela vise {whom} {marker}, et vous êtes {mine}."
        t = next(
            t
            for t in rule.thresholds
            if (value := _size(t, profile)) is not None and not t.holds_for(value)
        )
        size = f"{figure(_size(t, profile), language)} {_unit(t.unit, language)}"
        condition = t.describe(language)
        if en:
            return f"No: with {size}, you are outside {condition} {marker}."
        return f"Non : avec {size}, vous n'êtes pas dans le cas visé, {condition} {marker}."
    whom = _whom(rule, language)
    if outcome.verdict == "depends":
        ask = " ".join(MISSING_QUESTION[language][m] for m in outcome.missing)
        if en:
            return f"It depends on your collectivity: this concerns {whom} {marker}. {ask}"
        return f"Cela dépend de votre collectivité : cela vise {whom} {marker}. {ask}"
    facts = [
        f"{figure(value, language)} {_unit(unit, language)}"
        for unit, value in (("habitants", profile.population), ("agents", profile.agents))
        if value is not None and any(t.unit == unit for t in rule.thresholds)
    ]
    if en:
        with_facts = f"with {' and '.join(facts)}, " if facts else ""
        return f"Yes: {with_facts}you fall within {whom} {marker}."
    with_facts = f"avec {' et '.join(facts)}, " if facts else ""
    return f"Oui : {with_facts}vous êtes dans le cas visé, {whom} {marker}."


def _size(threshold: Threshold, profile: Profile) -> int | None:
    """The asker's figure a threshold is about: population or staff."""
    return profile.population if threshold.unit == "habitants" else profile.agents


def _unit(unit: str, language: str) -> str:
    if language == "en":
        return "inhabitants" if unit == "habitants" else "staff"
    return unit


def _whom(rule: Rule, language: str) -> str:
    """Whom the rule binds: its thresholds, else its kinds, else every collectivity."""
    if rule.thresholds:
        joiner = " and " if language == "en" else " et "
        return joiner.join(t.describe(language) for t in rule.thresholds)
    names = ENGLISH_KINDS if language == "en" else PLURALS
    if rule.kinds:
        return ", ".join(names.get(k, k) for k in rule.kinds)
    return "all local authorities" if language == "en" else "toutes les collectivités"
