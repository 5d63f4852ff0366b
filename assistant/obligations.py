"""What applies to a collectivity: each rule of the corpus with its verdict for it.

The verdict (applies, does not apply, depends on a missing fact) is worked out from the
rule's kinds of collectivity and thresholds (`assistant.answering.rules`) and the profile
(kind, population, number of agents); nothing is decided by hand. The same list serves
`GET /api/obligations`, its Markdown export, the "Mes obligations" page and the chat
question « qu'est-ce qui s'applique à nous ? ».
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from assistant.answering.conditions import (
    ENGLISH_KINDS,
    KINDS,
    PLURALS,
    Threshold,
    applies_to_kind,
    figure,
    kind_of,
    profile_from,
)
from assistant.answering.extractive import Draft
from assistant.answering.rules import OTHER_THEME, THEMES, Rule, Rulebook
from assistant.answering.verdict import names_in, rule_citation, verdicts_differ
from assistant.errors import InvalidQuestionError
from assistant.query import Query
from assistant.retrieval.units import clean_for_display
from assistant.schemas import Citation, Profile

Verdict = Literal["applies", "does_not_apply", "depends"]
Missing = Literal["kind", "population", "agents"]
VERDICT_LABELS = {
    "fr": {
        "applies": "S'applique",
        "depends": "Dépend de votre collectivité",
        "does_not_apply": "Ne s'applique pas",
    },
    "en": {
        "applies": "Applies",
        "depends": "Depends on your collectivity",
        "does_not_apply": "Does not apply",
    },
}
MISSING_LABELS = {
    "fr": {"kind": "type de collectivité", "population": "population", "agents": "nombre d'agents"},
    "en": {"kind": "kind of collectivity", "population": "population", "agents": "staff count"},
}
_ORDER: dict[str, int] = {"applies": 0, "depends": 1, "does_not_apply": 2}
_OPENING = 160  # characters of the passage shown as its opening


class InvalidProfileError(InvalidQuestionError):
    """A profile the obligations cannot be worked out for (an unknown kind)."""

    code = "invalid_profile"


class RuleThreshold(BaseModel):
    """A condition on population or staff: « plus de 50 000 habitants »."""

    unit: Literal["habitants", "agents"]
    more_than: bool
    value: int
    text: str


class RuleSource(BaseModel):
    """Where a rule is stated: the document, the place in it, the sentence and its span."""

    document_id: str
    title: str
    locator: str
    page: int | None = None
    chunk_id: str
    sentence: str
    start: int = Field(description="Début de la phrase dans le passage (caractères)")
    end: int
    opening: str = Field(description="Le début du passage, pour le retrouver dans le document")


class RuleOut(BaseModel):
    """An obligation or eligibility rule read in the corpus."""

    id: str
    theme: str
    kinds: list[str] = Field(description="Types de collectivité visés ; vide : toutes")
    thresholds: list[RuleThreshold]
    asks: str
    deadline: str | None = None
    deadline_date: str | None = Field(None, description="AAAA-MM-JJ, pour trier")
    sanction: str | None = None
    source: RuleSource


class Obligation(BaseModel):
    """A rule and its verdict for the collectivity described."""

    verdict: Verdict
    missing: list[Missing] = Field(description="Ce qu'il faut préciser quand cela dépend")
    reason: str
    rule: RuleOut
    differing: list[str] = Field(
        [],
        description="Règles d'un autre document sur la même loi qui disent autrement pour "
        "cette collectivité (leurs id)",
    )


class ThemeGroup(BaseModel):
    """The obligations of one theme, sorted by deadline."""

    theme: str
    obligations: list[Obligation]


class ObligationsReport(BaseModel):
    """Every rule of the corpus with its verdict for the profile, grouped by theme."""

    profile: Profile
    counts: dict[str, int]
    themes: list[ThemeGroup]


def resolve_kind(value: str | None) -> str | None:
    """A kind of collectivity as written by a person ("CA", "communes") in its canonical
    name; unknown words raise InvalidProfileError listing the accepted kinds."""
    if value is None or not value.strip():
        return None
    kind = kind_of(value.strip())
    if kind is None:
        accepted = ", ".join(k for k, _ in KINDS)
        raise InvalidProfileError(
            f"Type de collectivité inconnu : « {value.strip()[:100]} ». Types acceptés : "
            f"{accepted} (ou les sigles CC, CA, EPCI)."
        )
    return None if kind == "collectivité" else kind


def rule_out(rule: Rule) -> RuleOut:
    """The public shape of a rule."""
    opening = clean_for_display(rule.passage)
    return RuleOut(
        id=rule.id,
        theme=rule.theme,
        kinds=rule.kinds,
        thresholds=[
            RuleThreshold(unit=t.unit, more_than=t.more_than, value=t.value, text=t.describe("fr"))
            for t in rule.thresholds
        ],
        asks=rule.asks,
        deadline=rule.deadline,
        deadline_date=rule.deadline_date,
        sanction=rule.sanction,
        source=RuleSource(
            document_id=rule.document_id,
            title=rule.title,
            locator=rule.locator,
            page=rule.page,
            chunk_id=rule.chunk_id,
            sentence=rule.sentence,
            start=rule.start,
            end=rule.end,
            opening=opening[:_OPENING] + ("…" if len(opening) > _OPENING else ""),
        ),
    )


def _whom(rule: Rule, language: str) -> str:
    """Whom the rule binds, in words: its thresholds, else its kinds, else everyone."""
    if rule.thresholds:
        return " et ".join(t.describe(language) for t in rule.thresholds)
    names = ENGLISH_KINDS if language == "en" else PLURALS
    if rule.kinds:
        return ", ".join(names.get(k, k) for k in rule.kinds)
    return "all local authorities" if language == "en" else "toutes les collectivités"


def assess(rule: Rule, profile: Profile, language: str = "fr") -> Obligation:
    """The rule's verdict for a collectivity: what rules it out, or what is missing."""
    missing: list[Missing] = []
    ruled_out = False
    if rule.kinds:
        covered = [
            applies_to_kind(Threshold(k, True, 0, "habitants"), profile.kind) for k in rule.kinds
        ]
        if profile.kind is None:
            missing.append("kind")
        elif not any(covered):
            ruled_out = all(c is False for c in covered)
            if not ruled_out:
                missing.append("kind")
    for threshold in rule.thresholds:
        value = profile.population if threshold.unit == "habitants" else profile.agents
        if value is None:
            fact: Missing = "population" if threshold.unit == "habitants" else "agents"
            if fact not in missing:
                missing.append(fact)
        elif not threshold.holds_for(value):
            ruled_out = True
    verdict: Verdict = "does_not_apply" if ruled_out else "depends" if missing else "applies"
    if ruled_out:
        missing = []  # nothing to state: it does not apply whatever the missing facts
    whom = _whom(rule, language)
    if language == "en":
        reason = {
            "applies": f"Concerns {whom}: you are in that case.",
            "does_not_apply": f"Concerns {whom}: you are not in that case.",
            "depends": f"Concerns {whom}: state your "
            + " and ".join(MISSING_LABELS["en"][m] for m in missing)
            + " to know.",
        }[verdict]
    else:
        reason = {
            "applies": f"Vise {whom} : vous êtes dans ce cas.",
            "does_not_apply": f"Vise {whom} : vous n'êtes pas dans ce cas.",
            "depends": f"Vise {whom} : précisez votre "
            + " et votre ".join(MISSING_LABELS["fr"][m] for m in missing)
            + " pour le savoir.",
        }[verdict]
    return Obligation(verdict=verdict, missing=missing, reason=reason, rule=rule_out(rule))


def _deadline_key(item: Obligation) -> tuple[int, str]:
    date = item.rule.deadline_date
    return (0, date) if date else (1, "")


def obligations_for(
    rules: list[Rule],
    profile: Profile,
    language: str = "fr",
    themes: set[str] | None = None,
    acronyms: Iterable[tuple[str, str]] = (),
) -> ObligationsReport:
    """Every rule with its verdict, grouped by theme (in the domain's order), each group
    sorted by deadline (rules without one last, in document order). A rule lists the rules
    of other documents of its theme naming the same law or body (one of `acronyms`, the
    corpus's (short, long) pairs) that say otherwise for the collectivity."""
    order = [name for name, _ in THEMES] + [OTHER_THEME]
    acronyms = list(acronyms)
    named = {rule.id: names_in(rule, acronyms) for rule in rules}
    assessed = {rule.id: assess(rule, profile, language) for rule in rules}
    groups: dict[str, list[Obligation]] = {}
    for rule in rules:
        if themes is None or rule.theme in themes:
            item = assessed[rule.id]
            item.differing = [
                other.id
                for other in rules
                if other.theme == rule.theme
                and other.document_id != rule.document_id
                and named[rule.id] & named[other.id]
                and verdicts_differ(item.verdict, assessed[other.id].verdict)
            ]
            groups.setdefault(rule.theme, []).append(item)
    counts = {verdict: 0 for verdict in _ORDER}
    for items in groups.values():
        items.sort(key=_deadline_key)
        for item in items:
            counts[item.verdict] += 1
    return ObligationsReport(
        profile=profile,
        counts=counts,
        themes=[
            ThemeGroup(theme=theme, obligations=groups[theme])
            for theme in sorted(groups, key=lambda t: order.index(t) if t in order else len(order))
        ],
    )


def describe_profile(profile: Profile, language: str = "fr") -> str:
    """« communauté d'agglomération, 70 000 habitants, 120 agents », or what is unknown."""
    en = language == "en"
    parts = []
    if profile.kind:
        parts.append(profile.kind)
    if profile.population is not None:
        unit = "inhabitants" if en else "habitants"
        parts.append(f"{figure(profile.population, language)} {unit}")
    if profile.agents is not None:
        parts.append(f"{figure(profile.agents, language)} {'staff' if en else 'agents'}")
    if not parts:
        return "collectivity not described" if en else "collectivité non précisée"
    return ", ".join(parts)


def _md(text: str) -> str:
    """Text of a document made inert in Markdown (no link, no emphasis, no HTML)."""
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", re.sub(r"[ \t\r\n]+", " ", text.strip()))


def where(obligation: Obligation) -> str:
    """« Titre, diapo 18 — Heading » or « Titre, p. 4 »."""
    source = obligation.rule.source
    place = source.locator or (f"p. {source.page}" if source.page else "")
    return f"{source.title}, {place}" if place else source.title


def obligations_markdown(report: ObligationsReport) -> str:
    """The report as a Markdown document to keep or share."""
    labels = VERDICT_LABELS["fr"]
    counts = report.counts
    lines = [
        f"# Mes obligations — {_md(describe_profile(report.profile))}",
        "",
        "Établi à partir des règles relevées dans les documents indexés : chaque ligne "
        "renvoie à sa source. À vérifier auprès des textes officiels.",
        "",
        f"- {labels['applies']} : {counts['applies']}",
        f"- {labels['depends']} : {counts['depends']}",
        f"- {labels['does_not_apply']} : {counts['does_not_apply']}",
    ]
    for group in report.themes:
        lines += ["", f"## {_md(group.theme)}", ""]
        for item in group.obligations:
            rule = item.rule
            lines.append(f"### {labels[item.verdict]} — {_md(rule.asks)}")
            lines.append("")
            lines.append(f"- **Verdict** : {labels[item.verdict]}. {_md(item.reason)}")
            lines.append(f"- **Échéance** : {_md(rule.deadline or 'non précisée')}")
            if rule.sanction:
                lines.append(f"- **Sanction** : {_md(rule.sanction)}")
            lines.append(f"- **Source** : {_md(where(item))} — « {_md(rule.source.sentence)} »")
            for other in item.differing:
                lines.append(
                    f"- **Un autre document dit autrement** : {_md(rule_said(report, other))}"
                )
            lines.append("")
    if not report.themes:
        lines += ["", "Aucune règle d'obligation n'a été relevée dans les documents indexés."]
    return "\n".join(lines).rstrip() + "\n"


def rule_said(report: ObligationsReport, rule_id: str) -> str:
    """« Titre, partie 2 — « the rule's sentence » » for a rule of the report."""
    for group in report.themes:
        for item in group.obligations:
            if item.rule.id == rule_id:
                return f"{where(item)} — « {item.rule.source.sentence} »"
    return rule_id


# A question asking what applies to the asker: which obligations, what must we do.
_WHAT_APPLIES = re.compile(
    r"qu['’]est[- ]ce qui (?:s['’]appliqu|nous concern|s['’]impos|nous (?:est|sont) (?:applicable|"
    r"obligatoire|impos))|quoi (?:s['’]appliqu|nous sommes tenus|sommes[- ]nous tenus)|"
    r"quel(?:le)?s?\s+(?:sont\s+)?(?:les\s+|nos\s+|mes\s+)?(?:obligations?|règles?|"
    r"exigences?|contraintes? (?:légales|réglementaires))|"
    r"(?:que|qu['’]est[- ]ce que)\s+(?:devons|doit)[- ](?:nous|on|elle|il)\b|"
    r"à quoi (?:sommes[- ]nous|est[- ](?:elle|il)|suis[- ]je) (?:tenu|soumis|obligé)|"
    r"s['’]appliqu\w*\s+(?:à|a)\s+(?:nous|notre|ma|mon)|"
    r"\bwhat (?:applies|rules apply|obligations|must we|do we have to|are our obligations)|"
    r"\bwhich (?:obligations|rules)|\bapplies to us\b",
    re.IGNORECASE,
)
# The asker, or a collectivity the question describes by its own figures ("de 70 000
# habitants"; "de plus de 3 500 habitants" quotes a threshold, it describes no one).
_ASKER = re.compile(r"\b(?:nous|notre|nos|on|ma|mon|mes|je|we|us|our|my)\b", re.IGNORECASE)
_FIGURE = re.compile(
    r"(?<!plus de )(?<!moins de )(?<!more than )(?<!fewer than )(?<!over )(?<!under )"
    r"(?<![\d.,])(?<!\d[\s\u202f\u00a0])\d[\d\s\u202f\u00a0.,]*\s*"
    r"(?:habitants|inhabitants|agents|staff)",
    re.IGNORECASE,
)


def asks_what_applies(question: str) -> bool:
    """Whether a question asks which rules apply to the collectivity it speaks for."""
    described = _ASKER.search(question) or _FIGURE.search(question)
    return bool(_WHAT_APPLIES.search(question) and described)


def _themes_asked(question: str) -> set[str] | None:
    """The themes a question names (« quelles obligations d'accessibilité »), None: all."""
    named = {theme for theme, pattern in THEMES if pattern.search(question)}
    return named or None


def obligations_answer(
    query: Query, rulebook: Rulebook, acronyms: Iterable[tuple[str, str]] = ()
) -> Draft | None:
    """The answer to « qu'est-ce qui s'applique à nous ? » from the rules, cited; None when
    the question asks something else or no rule answers it. `acronyms` (the corpus's pairs)
    tell which rules name the same law."""
    if not asks_what_applies(query.question):
        return None
    language = "en" if query.language == "en" else "fr"
    profile = profile_from(query.question, query.profile)
    rules = rulebook.rules
    report = obligations_for(rules, profile, language, _themes_asked(query.question), acronyms)
    if not report.themes:
        return None
    by_id = {rule.id: rule for rule in rules}
    items = sorted(
        ((item, group.theme) for group in report.themes for item in group.obligations),
        key=lambda pair: _ORDER[pair[0].verdict],
    )
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    labels = VERDICT_LABELS[language]
    sections: dict[str, list[str]] = {verdict: [] for verdict in _ORDER}
    for item, _ in items:  # numbered in the order the reader meets them
        rule = by_id[item.rule.id]
        if rule.chunk_id not in numbers:
            numbers[rule.chunk_id] = len(numbers) + 1
            citations.append(rule_citation(rule, numbers[rule.chunk_id]))
    en = language == "en"
    for item, theme in items:
        rule = by_id[item.rule.id]
        details = [theme, rule.deadline] if rule.deadline else [theme]
        asks = f"“{_short(rule.asks)}”" if language == "en" else _short(rule.asks)  # a quote
        line = f"- {asks} ({' ; '.join(details)}) [{numbers[rule.chunk_id]}]"
        if item.verdict == "depends":
            line += f" — {item.reason}"
        others = sorted({numbers[by_id[i].chunk_id] for i in item.differing})
        if others:
            cited = "".join(f"[{n}]" for n in others)
            line += (
                f" — another document says otherwise {cited}"
                if en
                else (f" — un autre document dit autrement {cited}")
            )
        sections[item.verdict].append(line)
    who = describe_profile(profile, language)
    lines = [
        f"For your collectivity ({who}), the rules found in the documents:"
        if en
        else f"Pour votre collectivité ({who}), d'après les règles relevées dans les documents :"
    ]
    for verdict in _ORDER:
        if sections[verdict]:
            lines += ["", f"**{labels[verdict]}** ({len(sections[verdict])})", *sections[verdict]]
    missing = {m for g in report.themes for o in g.obligations for m in o.missing}
    if missing:
        asked = " ; ".join(MISSING_LABELS[language][m] for m in sorted(missing))
        lines += [
            "",
            f"To settle what depends on it, state your {asked}."
            if en
            else f"Pour trancher ce qui en dépend, précisez : {asked}.",
        ]
    return Draft("\n".join(lines), abstained=False, citations=citations, answerer="obligations")


def _short(text: str, limit: int = 180) -> str:
    """A rule's request cut at a word for a chat line."""
    text = text.rstrip(" .")
    if len(text) <= limit:
        return text
    return text[: text.rfind(" ", 0, limit)].rstrip(" ,;:") + "…"
