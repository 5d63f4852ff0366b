"""Conditional obligations: read thresholds in passages, compare them with the collectivity.

Nothing here knows a particular law: thresholds ("les intercommunalités de plus de 50 000
habitants") are read from the sentences the answer cites, and the collectivity's kind and
population from the question or the conversation's profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.schemas import Profile

# A whole number, "50 000" or "3500"; not the end of another one: neither the decimals of
# "2,5" nor the exponent of "1e308" (which would read as 5 and 308).
# A number, its groups of thousands separated throughout or not at all (« 2024 500 habitants »
# is a year, then 500); not the end of another number: neither decimals ("2,5") nor an
# exponent ("1e308").
NUMBER = r"(?<![\d.,])(?<!\d[eE])(?<!\d[eE][+-])(?:\d{1,3}(?:[\s\u00a0\u202f.,]\d{3})+|\d+)"
# "de plus de 50 000 habitants", "de moins de 3 500 habitants", "moins de 15000 habitants"
# "de plus 50 agents" (the second "de" dropped) is read too, but not a bare "plus 50 agents".
_THRESHOLD = re.compile(
    rf"(?P<who>(?:\b\w+[\s'’-]+){{0,3}}?)(?P<de>de\s+)?(?P<cmp>plus|moins)\s*(?P<of>de\s*)?"
    rf"(?P<n>{NUMBER})\s*(?P<unit>habitants|agents)",
    re.IGNORECASE,
)
# "… de plus de 50 agents et de 3 500 habitants": the second figure shares the comparison.
_AND_THRESHOLD = re.compile(
    rf"\s*(?:et|ou)\s+(?:de\s+)?(?P<n>{NUMBER})\s*(?P<unit>habitants|agents)", re.IGNORECASE
)
_POPULATION_CLAUSE = re.compile(
    rf"\b(?:compte|comptons|compter|a|avons|avec|de|has|have|with|of)?\s*(?:{NUMBER})\s*"
    r"(?:habitan\w*|inhabitants|residents|hab\b\.?)",
    re.IGNORECASE,
)
# Kinds of collectivity, most specific first; "intercommunalité" covers CC, CA and EPCI.
KINDS: list[tuple[str, re.Pattern]] = [
    (
        "communauté de communes",
        re.compile(r"\b(communaut[ée]s? de communes|cc|communit(y|ies) of communes)\b", re.I),
    ),
    (
        "communauté d'agglomération",
        re.compile(
            r"\b(communaut[ée]s? d.agglom[ée]ration|ca|agglo|agglomeration communit(y|ies)|"
            r"urban communit(y|ies))\b",
            re.I,
        ),
    ),
    (
        "intercommunalité",
        re.compile(
            r"\b(intercommunalit[ée]s?|intercos?\b|epci|intercommunality|intermunicipal)", re.I
        ),
    ),
    (
        "commune",
        re.compile(r"\b(communes?|mairies?|municipalit(y|ies)|towns?|villes?|city)\b", re.I),
    ),
    ("département", re.compile(r"\b(d[ée]partements?|department)\b", re.I)),
    ("région", re.compile(r"\b(r[ée]gions?|region)\b", re.I)),
    ("collectivité", re.compile(r"\b(collectivit[ée]s?|local authorit(y|ies))\b", re.I)),
]
_INTERCOMMUNAL = {"communauté de communes", "communauté d'agglomération", "intercommunalité"}


def figure(value: int, language: str) -> str:
    """A number as the answer's language writes it: "50\u202f000", "50,000"."""
    return f"{value:,}".replace(",", "," if language == "en" else "\u202f")


@dataclass
class Threshold:
    """A population condition read in a sentence: who, more or less than, how many."""

    who: str  # a kind from KINDS, "collectivité" when unspecified
    more_than: bool
    value: int
    unit: str  # "habitants" or "agents"

    def describe(self, language: str) -> str:
        """'les intercommunalités de plus de 50 000 habitants', in the question's language."""
        number = figure(self.value, language)
        if language == "en":
            unit = "inhabitants" if self.unit == "habitants" else "staff"
            more = "more" if self.more_than else "fewer"
            return f"{ENGLISH_KINDS.get(self.who, self.who)} with {more} than {number} {unit}"
        more = "plus" if self.more_than else "moins"
        return f"{PLURALS.get(self.who, self.who)} de {more} de {number} {self.unit}"

    def holds_for(self, population: int) -> bool:
        """Whether a collectivity of this population meets the condition."""
        return population > self.value if self.more_than else population < self.value


PLURALS = {
    "communauté de communes": "les communautés de communes",
    "communauté d'agglomération": "les communautés d'agglomération",
    "intercommunalité": "les intercommunalités",
    "commune": "les communes",
    "département": "les départements",
    "région": "les régions",
    "collectivité": "les collectivités",
}
ENGLISH_KINDS = {
    "communauté de communes": "communautés de communes",
    "communauté d'agglomération": "communautés d'agglomération",
    "intercommunalité": "intercommunalities",
    "commune": "communes",
    "département": "départements",
    "région": "regions",
    "collectivité": "local authorities",
}
# One collectivity of each kind, in English, with its article: "you are a commune".
ENGLISH_KIND = {
    "communauté de communes": "a communauté de communes",
    "communauté d'agglomération": "a communauté d'agglomération",
    "intercommunalité": "an intercommunality",
    "commune": "a commune",
    "département": "a département",
    "région": "a region",
    "collectivité": "a local authority",
}


def _to_int(number: str) -> int:
    return int(re.sub(r"\D", "", number))


def kind_of(text: str) -> str | None:
    """The first kind of collectivity named in a text."""
    for kind, pattern in KINDS:
        if pattern.search(text):
            return kind
    return None


def find_thresholds(sentence: str) -> list[Threshold]:
    """Population conditions stated in a sentence."""
    found = []
    for match in _THRESHOLD.finditer(sentence):
        if not (match.group("de") or match.group("of")):
            continue
        who = (
            kind_of(match.group("who"))
            or kind_of(sentence[: match.start()][-60:])
            or "collectivité"
        )
        more = match.group("cmp").lower() == "plus"
        found.append(Threshold(who, more, _to_int(match.group("n")), match.group("unit").lower()))
        also = _AND_THRESHOLD.match(sentence, match.end())
        if also:
            found.append(Threshold(who, more, _to_int(also.group("n")), also.group("unit").lower()))
    return found


# A figure of inhabitants or agents, and what comes right before it.
HEADCOUNT = re.compile(
    rf"(?P<n>{NUMBER})\s*(?:k\s+)?"
    r"(?P<unit>habitan\w*|hab\b\.?|inhabitants|residents|people|agents|staff|employees)\b",
    re.IGNORECASE,
)
# Words making a figure a condition (« de plus de 3 500 habitants »), not someone's size.
_COMPARATOR = re.compile(
    r"\b(?:plus|moins|au[- ]delà|au[- ]dessus|au[- ]dessous|en[- ]dessous|partir|"
    r"more|fewer|less|over|under|above|below|least|most|exceeding)\s*(?:de|d['’]|than|of)?\s*$",
    re.IGNORECASE,
)
# A figure given to a class of collectivities (« les communes de 10 000 habitants »).
_CLASS = re.compile(
    r"\b(?:les|des|ces|aux|toutes|all|those|every|towns|cities|municipalities)\s+"
    r"(?:\w+\s+){0,3}?"
    r"(?:de|d['’]|of|with)\s*$",
    re.IGNORECASE,
)


def asker_figures(question: str) -> dict[str, int]:
    """The asker's population and staff as the question gives them ("we have 12,000
    inhabitants", « une commune de 4 200 habitants et 30 agents »); a figure that states a
    condition (« de plus de 3 500 habitants », "over 3,500") or sizes a class of
    collectivities (« les communes de 10 000 habitants ») is not the asker's."""
    found: dict[str, int] = {}
    for match in HEADCOUNT.finditer(question):
        before = question[: match.start()]
        if _COMPARATOR.search(before) or _CLASS.search(before[-60:]):
            continue
        unit = match.group("unit").lower()
        fact = "agents" if unit in ("agents", "staff", "employees") else "population"
        found.setdefault(fact, int(re.sub(r"\D", "", match.group("n"))))
    return found


def profile_from(question: str, profile: Profile | None) -> Profile:
    """The asking collectivity: the conversation's profile, completed from the question."""
    profile = profile or Profile()
    figures = asker_figures(question)
    kind = profile.kind or kind_of(question)
    return Profile(
        kind=None if kind == "collectivité" else kind,
        population=figures.get("population") if profile.population is None else profile.population,
        agents=figures.get("agents") if profile.agents is None else profile.agents,
    )


def without_population(question: str) -> str:
    """The question without the asker's own population ("notre commune compte 4 200 habitants"):
    it describes the asker, not what to look for in the documents."""

    def drop(match: re.Match) -> str:
        before = question[: match.start()]
        return match.group(0) if re.search(r"\b(plus|moins)\s*de\s*$", before, re.I) else " "

    return _POPULATION_CLAUSE.sub(drop, question)


def applies_to_kind(threshold: Threshold, kind: str | None) -> bool | None:
    """Whether the threshold's subject covers this kind; None when it cannot be told."""
    if kind is None or threshold.who == "collectivité":
        return None
    if threshold.who == "intercommunalité":
        return kind in _INTERCOMMUNAL
    if kind == "intercommunalité":
        return threshold.who in _INTERCOMMUNAL or None
    return threshold.who == kind


_QUANTITY = re.compile(
    rf"(?P<n>{NUMBER})\s*(?P<unit>%|€|euros?|habitants|inhabitants|ans?|years?|mois|months?|"
    r"agents)(?!\w)",
    re.IGNORECASE,
)
_UNITS = {
    "euro": "€",
    "euros": "€",
    "inhabitants": "habitants",
    "an": "ans",
    "year": "ans",
    "years": "ans",
    "month": "mois",
    "months": "mois",
}
# "chaque année" states a period of one year as surely as "tous les 1 an" would.
_PERIODS = [
    (
        re.compile(
            r"\b(chaque année|tous les ans|annuel\w*|every year|each year|annually)\b", re.I
        ),
        "ans",
    ),
    (re.compile(r"\b(chaque mois|tous les mois|mensuel\w*|every month|monthly)\b", re.I), "mois"),
]


def quantities(text: str) -> set[tuple[int, str]]:
    """(value, unit) pairs stated in a text: "50 000 €", "15 %", "3 ans", "chaque année"…"""
    out = set()
    for match in _QUANTITY.finditer(text):
        unit = match.group("unit").lower()
        out.add((_to_int(match.group("n")), _UNITS.get(unit, unit)))
    for pattern, unit in _PERIODS:
        if pattern.search(text):
            out.add((1, unit))
    return out


def contradicted(question: str, evidence: str, profile: Profile) -> list[tuple[int, str]]:
    """Figures the question asserts that the evidence contradicts.

    A figure counts as contradicted when the evidence states another figure of the same
    unit and never this one; the asker's own population and staff are no claim about the
    corpus.
    """
    stated = quantities(evidence)
    units = {u for _, u in stated}
    own = {(profile.population, "habitants"), (profile.agents, "agents")}
    return sorted(
        (value, unit)
        for value, unit in quantities(question)
        if unit in units and (value, unit) not in stated and (value, unit) not in own
    )


def premise_warning(claims: list[tuple[int, str]], marker: str, language: str) -> str:
    """The line that corrects a false premise before the answer."""
    singular = {"ans": "an"}  # "1 an", as "chaque année" reads
    figures = ", ".join(
        f"{value:,} {singular.get(unit, unit) if value == 1 else unit}".replace(",", "\u202f")
        for value, unit in claims
    )
    if language == "en":
        return f"Careful: the documents do not say {figures}; here is what they state {marker}."
    return (
        f"Attention : les documents ne disent pas {figures} ; voici ce qu'ils indiquent {marker}."
    )
