"""Obligation and eligibility rules read from any document's sentences, stored once.

A sentence that states an obligation (« doivent », « sont tenues de », « obligation de »,
« est obligatoire », « s'applique aux », "must", "shall") and names whom it binds becomes a
`Rule`: who (kinds of collectivity), the population or staff thresholds, what it asks,
from when, the sanction the sentence or its neighbours give, a theme, and its source.
Sentences that only encourage, recommend or allow are left out. Nothing here knows a
particular document or law; the rules are worked out from the stored passages and cached
by the passage's content, so an unchanged passage is never read twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.answering.conditions import KINDS, Threshold, find_thresholds
from assistant.retrieval.store import StoredChunk
from assistant.retrieval.units import (
    clean_for_display,
    list_continuation,
    list_runs,
    sentence_units,
)

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "7"  # part of every cache key: a change of the reading redoes them all
RULES_FILE = "rules.json"

# Modal and legal wording that binds someone. Group "modal": what follows is what is asked.
_OBLIGATION = re.compile(
    r"(?P<modal>\b(?:doi(?:t|vent)|devr(?:a|ont)|(?:sont|est|seront|sera)\s+tenu(?:e|s|es)?\s+"
    r"(?:de|d['’])|(?:ont|a)\s+(?:l['’]obligation|obligation)\s+(?:de|d['’])|"
    r"obligation\s+(?:de|d['’])|must|shall|(?:is|are)\s+(?:required|obliged)\s+to)(?=\s|$)"
    r")|(?P<applies>\b(?:s['’]appliqu(?:e|ent)|s['’]impos(?:e|ent)|(?:sont|est)\s+"
    r"soumis(?:e|es)?|(?:est|sont|devient|deviennent)\s+obligatoires?|obligatoirement|"
    r"(?:is|are)\s+mandatory|appl(?:y|ies)\s+to)\b)",
    re.IGNORECASE,
)
# Words that only encourage, recommend or allow: before the binding word, they soften it.
_SOFT = re.compile(
    r"\b(?:encourag\w*|recommand\w*|conseill\w*|incit[ée]\w*|invit[ée]e?s?\s+à|"
    r"peu(?:t|vent)|pourr(?:a|ont|ait|aient)|facultati\w*|possibilité|souhait\w*|"
    r"may|can|could|should|encouraged|recommended|invited)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:n['’]|ne\s+)(?:est|sont|a|ont|seront|sera)\s+(?:pas|plus|jamais)\s+"
    r"(?:obligatoires?|tenu\w*|soumis\w*|l['’]obligation)|\baucune\s+obligation|"
    r"\bsans\s+obligation|\bpas\s+obligatoires?|\bnot\s+(?:required|mandatory|obliged)|"
    r"\bne\s+s['’](?:appliqu|impos)\w*\s+pas",
    re.IGNORECASE,
)
# A caution after the modal verb, not an act it binds to: « les acteurs publics doivent
# prendre garde à… », « doivent rester vigilants ».
_CAUTION = re.compile(
    r"\s*(?:prendre\s+garde|faire\s+attention|(?:être|etre|rester|demeurer)\s+"
    r"(?:vigilant|attenti[fv]|prudent)\w*|se\s+m[ée]fier|take\s+care|be\s+(?:careful|"
    r"mindful|wary))\b",
    re.IGNORECASE,
)
# Someone's view of what should be done, not a rule: « selon Charles-Pierre Astolfi, les
# collectivités doivent… », « les élus estiment que… ». « Selon la loi » still states one.
_REPORTED = re.compile(
    r"\b(?:selon|d['’]après|according\s+to)\s+(?!(?:la|le|les|l['’]|ce|cette|ces|the)?\s*"
    r"(?:lois?|décrets?|règlements?|codes?|directives?|articles?|textes?|ordonnances?|"
    r"dispositions?|laws?|regulations?|acts?)\b)"
    r"|\b(?:estim|consid[èée]r|pens|jug|affirm|believ|think|argu)\w*\s+(?:que|qu['’]|that)\b",
    re.IGNORECASE,
)
# Whom a rule can bind when no kind of collectivity is named: public bodies in general.
_ADDRESSEE = re.compile(
    r"\b(?:collectivit[ée]s?|communes?|intercommunalit[ée]s?|epci|communaut[ée]s?|"
    r"d[ée]partements?|r[ée]gions?|administrations?|organismes?|acteurs?\s+publics?|"
    r"autorit[ée]s?|personnes?\s+publiques?|[ée]tablissements?\s+publics?|"
    r"entit[ée]s?|op[ée]rateurs?|employeurs?|responsables?\s+(?:de|du|des)\s+traitements?|"
    r"public\s+(?:bodies|authorities|sector)|local\s+authorit(?:y|ies)|municipalit(?:y|ies))\b",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"\b(?:qui|auxquel\w*|lesquel\w*|desquel\w*|dont|où|which|who)\b", re.I)
# A list item that is an action: it opens on a French infinitive ("Publier", "Établir").
_INFINITIVE = re.compile(r"^[«\"(]?\s*[^\W\d_][\w’'-]*?(?:er|ir|re|oir)\b", re.IGNORECASE)
# Clauses: a sentence binding some and encouraging others is read clause by clause.
_CLAUSES = re.compile(r"\s*;\s*|,\s+(?=(?:alors que|tandis que|mais|whereas|while)\b)", re.I)

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("janvier", "january"), ("février", "fevrier", "february"), ("mars", "march"),
            ("avril", "april"), ("mai", "may"), ("juin", "june"), ("juillet", "july"),
            ("août", "aout", "august"), ("septembre", "september"), ("octobre", "october"),
            ("novembre", "november"), ("décembre", "decembre", "december"),
        ]
    )
    for m in names
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "à compter de janvier 2025", "depuis 2018", "avant le 1er juillet 2026", "d'ici mai 2018".
_DEADLINE = re.compile(
    r"\b(?P<lead>[àa]\s+compter\s+d(?:u|e|['’])|[àa]\s+partir\s+d(?:u|e|['’])|depuis(?:\s+le)?|"
    r"d[èe]s(?:\s+le)?|d['’]ici(?:\s+(?:le|au|à|a|fin))?|avant(?:\s+le)?|au\s+plus\s+tard(?:\s+le)?|"
    r"jusqu['’](?:au|en|à)|au|en|le|from|since|by|before|as\s+of|until)\s+(?:l['’]|le\s+)?"
    rf"(?:(?P<day>1er|\d{{1,2}})\s+)?(?:(?P<month>{_MONTH})\s+)?(?P<year>(?:19|20)\d{{2}})\b",
    re.IGNORECASE,
)
# A delay rather than a date: "3 ans après sa publication", "dans un délai de 18 mois".
_DELAY = re.compile(
    r"\b(?:\d+|un|une|deux|trois|six|douze|dix-huit)\s+(?:ans?|mois|jours|années?|years?|months?)"
    r"\s+(?:apr[èeé]s|[àa] compter|suivant|after|from)\b(?:\s+[^\s.;,()]+){0,14}",
    re.IGNORECASE,
)
_SANCTION = re.compile(
    r"\b(?:amendes?|sanction\w*|p[ée]nalit[ée]s?|astreintes?|fines?|penalt(?:y|ies)|"
    r"emprisonnement|prison)\b",
    re.IGNORECASE,
)
_NEIGHBOURS = 2  # units after a rule searched for its sanction
_MAX_ITEMS = 8

# Themes of local digital policy, each recognised by general words of the field. A rule's
# theme is the one its sentence names most (its section heading, then the document's
# title, weigh less): the sentence says what the rule is about, a heading or a title only
# frames it. These are the categories of the domain, not the headings of one document.
THEMES: list[tuple[str, re.Pattern]] = [
    ("Accessibilité", re.compile(r"accessibilit|handicap|\brgaa\b|malvoyant|déficien", re.I)),
    (
        "Données personnelles",
        re.compile(
            r"données personnelles|données à caractère personnel|\brgpd\b|\bgdpr\b|\bdpo\b|"
            r"\bdpd\b|protection des données|\bcnil\b|registre des traitements|personal data",
            re.I,
        ),
    ),
    (
        "Données publiques",
        re.compile(
            r"open ?data|données publiques|ouv\w+ (?:de |des |d')?(?:leurs |ses )?données|"
            r"partage\w* (?:de )?(?:leurs |des )?données|data act|data governance|"
            r"jeux? de données|réutilisation",
            re.I,
        ),
    ),
    (
        "Sécurité",
        re.compile(r"s[ée]curit|\bnis ?2?\b|rançongiciel|cyber|\banssi\b|incident|attaque", re.I),
    ),
    (
        "Numérique responsable",
        re.compile(
            r"numérique responsable|\breen\b|éco-?conception|sobriété|empreinte|environnement|"
            r"réemploi|écologique|durable|\bagec\b",
            re.I,
        ),
    ),
    (
        "Intelligence artificielle",
        re.compile(r"intelligence artificielle|\bia\b|\bai act\b|algorithm", re.I),
    ),
    (
        "Dématérialisation",
        re.compile(
            r"dématérialis|en ligne|saisine|paiement|démarches? (?:en ligne|administratives?)|"
            r"téléservice|archivage|"
            r"signature électronique",
            re.I,
        ),
    ),
]
OTHER_THEME = "Autres obligations"


@dataclass
class Found:
    """A rule as read in one passage's text: everything but where the passage comes from."""

    kinds: list[str]  # kinds of collectivity it binds; empty: any public body
    thresholds: list[Threshold]
    asks: str
    sentence: str  # the source sentence (with its list item when it is one)
    start: int  # character span of the sentence in the passage
    end: int
    deadline: str | None = None  # as the text says it: "à compter de janvier 2025"
    deadline_date: str | None = None  # ISO date for sorting: "2025-01-01"
    sanction: str | None = None


@dataclass
class Rule(Found):
    """A rule with its source passage and theme."""

    id: str = ""
    theme: str = OTHER_THEME
    document_id: str = ""
    title: str = ""
    locator: str = ""
    page: int | None = None
    chunk_id: str = ""
    heading: str = ""
    kind: str = ""  # the document's kind (slides, study…), for citations
    date: str | None = None
    passage: str = field(default="", repr=False)


def kinds_in(text: str) -> list[str]:
    """Every kind of collectivity a text names, most specific first ("communautés de
    communes" is not also "communes"); the generic "collectivité" is left out."""
    found = []
    for kind, pattern in KINDS:
        if pattern.search(text):
            if kind != "collectivité":
                found.append(kind)
            text = pattern.sub(" ", text)
    return found


def deadline_in(text: str) -> tuple[str | None, str | None]:
    """The date or delay a rule runs from, as written, and as an ISO date when it is one."""
    for match in _DEADLINE.finditer(text):
        lead = match.group("lead").lower()
        if lead in ("au", "le") and not (match.group("day") or match.group("month")):
            continue  # "au 2018" is not a date; "en 2025" is
        month = _MONTHS.get((match.group("month") or "").lower(), 1)
        day = match.group("day") or "1"
        day = 1 if day.lower() == "1er" else int(day)
        year = int(match.group("year"))
        return clean_for_display(match.group(0)), f"{year:04d}-{month:02d}-{min(day, 28):02d}"
    delay = _DELAY.search(text)
    if delay:
        return clean_for_display(delay.group(0)).rstrip(" )"), None
    return None, None


def theme_of(sentence: str, heading: str = "", title: str = "") -> str:
    """The theme a rule belongs to, from its sentence first, then heading and title."""
    best, best_score = OTHER_THEME, 0.0
    for theme, pattern in THEMES:
        score = (
            2.0 * len(pattern.findall(sentence))
            + 1.0 * len(pattern.findall(heading))
            + 0.5 * len(pattern.findall(title))
        )
        if score > best_score:
            best, best_score = theme, score
    return best


def _binding_clause(sentence: str) -> tuple[str, re.Match] | None:
    """The clause of a sentence that binds, with its binding words; None when none does."""
    if sentence.rstrip().endswith("?") or _NEGATED.search(sentence):
        return None
    for clause in _CLAUSES.split(sentence):
        match = _OBLIGATION.search(clause)
        if match and match.group("modal") and _CAUTION.match(clause, match.end()):
            continue
        if match and not _SOFT.search(clause[: match.start()]):
            if _REPORTED.search(sentence[: sentence.find(clause) + match.start()]):
                return None  # a view reported, not a rule
            return clause, match
    return None


def _subject(clause: str, match: re.Match) -> str:
    """The words before the binding verb that can be its subject: after the last comma
    (« A compter de 2025, les communes … doivent »), else the clause's opening words
    (« Les communes, ainsi que les EPCI, doivent »)."""
    before = clause[: match.start()]
    last = re.split(r"[,;:–]|\s-\s", before)[-1]
    return last if _ADDRESSEE.search(last) else re.split(r"[,;:–]", before)[0]


def _addressed(clause: str, match: re.Match) -> bool:
    """Whether the clause names whom it binds: as the subject of a modal verb, anywhere
    for « s'applique aux », « est obligatoire pour », « obligation de ». A relative clause
    (« les défis auxquels les collectivités doivent répondre ») describes, it does not bind."""
    if match.group("modal") and not match.group("modal").lower().startswith("obligation"):
        subject = _subject(clause, match)
        if _RELATIVE.search(subject):
            return False
        return bool(_ADDRESSEE.search(subject) or find_thresholds(subject))
    return bool(_ADDRESSEE.search(clause) or find_thresholds(clause))


def _asked(clause: str, match: re.Match) -> str:
    """What the rule asks: what follows the modal verb, or the whole clause."""
    asked = clause[match.end() :] if match.group("modal") else clause
    asked = clean_for_display(asked.strip(" :,"))
    return asked[:1].upper() + asked[1:]


_CONTENT_WORD = re.compile(r"[^\W\d_]{5,}")


def _continued(binding: tuple[str, re.Match], previous: Found) -> Found | None:
    """The earlier rule a sentence without an addressee goes on with: its subject names
    what that rule asks for (« La déclaration doit… » after « … publier une déclaration »)."""
    clause, match = binding
    if not match.group("modal") or _ADDRESSEE.search(clause[: match.start()]):
        return None
    subject = {w.lower() for w in _CONTENT_WORD.findall(clause[: match.start()])}
    asked = {w.lower() for w in _CONTENT_WORD.findall(previous.asks)}
    return previous if subject and subject <= asked else None


def _span(text: str, unit: str, start: int) -> tuple[int, int]:
    """Where a sentence unit sits in the passage (its lines re-joined, so spaces differ)."""
    words = unit.split()
    if not words:
        return start, start
    pattern = r"[\s•*»·-]*".join(re.escape(w) for w in words)
    match = re.compile(pattern).search(text, start) or re.compile(pattern).search(text)
    return (match.start(), match.end()) if match else (start, start)


def _sanction_near(units: list[str], first: int, last: int) -> str | None:
    """The sanction the rule's own sentence, or one of the next ones, states."""
    for index in range(first, min(len(units), last + 1 + _NEIGHBOURS)):
        unit = units[index]
        if index > last and _binding_clause(unit):
            break  # the next rule's sanction is not this one's
        if _SANCTION.search(unit):
            return clean_for_display(unit)
    return None


def extract_rules(text: str, continuation: Iterable[str] = ()) -> list[Found]:
    """The rules stated in a passage's text; `continuation` holds the list items the
    passage's closing list goes on with in the next passage."""
    units = sentence_units(text)
    runs = list_runs(text)
    extra = list(continuation)
    all_units = units + extra
    found: list[Found] = []
    cursor = 0
    index = 0
    consumed: set[int] = set()
    while index < len(units):
        unit = units[index]
        start, end = _span(text, unit, cursor)
        cursor = max(cursor, end)
        # A passage opening mid-sentence (chunks overlap) holds a fragment: its sentence is
        # read whole in the previous passage.
        fragment = index == 0 and unit[:1].islower()
        binding = _binding_clause(unit) if index not in consumed and not fragment else None
        earlier = _continued(binding, found[-1]) if binding and found else None
        if binding is None or not (earlier or _addressed(*binding)):
            index += 1
            continue
        clause, match = binding
        kinds = kinds_in(clause[: match.start()] if match.group("modal") else clause)
        thresholds = find_thresholds(clause)
        kinds = list(dict.fromkeys([t.who for t in thresholds if t.who != "collectivité"] + kinds))
        asked = _asked(clause, match)
        if earlier:  # « La déclaration doit être mise à jour… » after « … publier une déclaration »
            kinds, thresholds = earlier.kinds, earlier.thresholds
            asked = clean_for_display(clause.strip(" :,"))
        items: list[int] = []
        if unit.rstrip().endswith(":"):
            for after in range(index + 1, len(all_units)):
                in_list = after >= len(units) or runs[after] is not None
                if not in_list or len(items) >= _MAX_ITEMS:
                    break
                if not asked and not _INFINITIVE.match(all_units[after]):
                    break
                items.append(after)
        consumed.update(items)
        base = dict(kinds=kinds, thresholds=thresholds)
        last = items[-1] if items else index
        sanction = _sanction_near(all_units, index, last)
        if not asked and items:  # "… doivent :" and actions: one rule per action
            for item in items:
                item_text = clean_for_display(all_units[item])
                deadline = deadline_in(f"{unit} {item_text}")
                item_end = _span(text, all_units[item], cursor)[1] if item < len(units) else end
                found.append(
                    Found(
                        **base,
                        asks=item_text[:1].upper() + item_text[1:],
                        sentence=f"{clean_for_display(unit)} {item_text}",
                        start=start,
                        end=max(end, item_end),
                        deadline=deadline[0],
                        deadline_date=deadline[1],
                        sanction=sanction,
                    )
                )
        elif asked:
            listed = [clean_for_display(all_units[i]) for i in items]
            whole = f"{asked} : {' ; '.join(listed)}" if listed else asked
            deadline = deadline_in(unit)
            if deadline == (None, None) and listed:
                deadline = deadline_in(" ".join(listed))
            found.append(
                Found(
                    **base,
                    asks=whole,
                    sentence=clean_for_display(unit),
                    start=start,
                    end=end,
                    deadline=deadline[0],
                    deadline_date=deadline[1],
                    sanction=sanction,
                )
            )
        index += 1
    return found


def _passage_key(text: str, continuation: list[str]) -> str:
    payload = json.dumps([EXTRACTOR_VERSION, text, continuation], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _from_json(data: dict) -> Found:
    data = dict(data)
    data["thresholds"] = [Threshold(**t) for t in data["thresholds"]]
    return Found(**data)


class Rulebook:
    """Every rule of the indexed passages, worked out on first use and cached by content.

    `load` returns the published chunks; `cache` (e.g. `<index>/rules.json`) keeps each
    passage's rules under the hash of its text, so that only new or changed passages are
    read again after a re-indexing.
    """

    def __init__(self, load: Callable[[], Iterable[StoredChunk]], cache: Path | None = None):
        self._load = load
        self._cache = cache
        self._rules: list[Rule] | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, rules: list[Rule]) -> Rulebook:
        """A rulebook holding these rules (tests, other sources)."""
        book = cls(list)
        book._rules = list(rules)
        return book

    @property
    def rules(self) -> list[Rule]:
        """The rules, in document order."""
        if self._rules is None:
            with self._lock:
                if self._rules is None:
                    self._rules = self._build()
        return self._rules

    def _read_cache(self) -> dict:
        if self._cache is None or not self._cache.is_file():
            return {}
        try:
            data = json.loads(self._cache.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("Rules cache %s unreadable (%s): rules are read again.", self._cache, exc)
            return {}
        return data.get("passages", {}) if data.get("version") == EXTRACTOR_VERSION else {}

    def _write_cache(self, passages: dict) -> None:
        if self._cache is None:
            return
        tmp = self._cache.with_name(f".{self._cache.name}.{os.getpid()}.tmp")
        try:
            self._cache.parent.mkdir(parents=True, exist_ok=True)
            payload = {"version": EXTRACTOR_VERSION, "passages": passages}
            tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self._cache)
        except OSError as exc:  # a read-only data folder: the rules are still served
            log.warning("Rules cache %s not written (%s).", self._cache, exc)
            tmp.unlink(missing_ok=True)

    def _build(self) -> list[Rule]:
        chunks = sorted(
            self._load(),
            key=lambda c: (str(c.metadata.get("doc_id", "")), c.metadata.get("ordinal") or 0),
        )
        by_position = {(c.metadata.get("doc_id"), c.metadata.get("ordinal")): c for c in chunks}
        cached, used = self._read_cache(), {}
        rules: list[Rule] = []
        seen: set[tuple[str, str]] = set()  # overlapping passages state a rule twice
        for chunk in chunks:
            meta = chunk.metadata
            if meta.get("speakers"):
                continue  # a participant's words in a meeting are an opinion, not a rule
            following = by_position.get((meta.get("doc_id"), (meta.get("ordinal") or 0) + 1))
            continuation = list_continuation(chunk.text, following.text) if following else []
            key = _passage_key(chunk.text, continuation)
            if key in cached:
                found = [_from_json(f) for f in cached[key]]
            else:
                found = extract_rules(chunk.text, continuation)
            used[key] = [asdict(f) for f in found]
            for rule in found:
                key = (str(meta.get("doc_id", "")), " ".join(rule.asks.lower().split()))
                if key not in seen:
                    seen.add(key)
                    rules.append(_with_source(rule, chunk))
        if used != cached:
            self._write_cache(used)
        return rules


def _with_source(found: Found, chunk: StoredChunk) -> Rule:
    meta = chunk.metadata
    page = meta.get("page")
    rule_id = hashlib.sha1(f"{chunk.id}:{found.start}:{found.asks}".encode()).hexdigest()[:12]
    return Rule(
        **{f: getattr(found, f) for f in Found.__dataclass_fields__},
        id=rule_id,
        theme=theme_of(
            f"{found.sentence} {found.asks}", meta.get("heading", ""), meta.get("title", "")
        ),
        document_id=meta.get("doc_id", ""),
        title=meta.get("title", ""),
        locator=meta.get("locator", ""),
        page=page if isinstance(page, int) and page > 0 else None,
        chunk_id=chunk.id,
        heading=meta.get("heading", ""),
        kind=meta.get("kind", ""),
        date=meta.get("date") or None,
        passage=chunk.text,
    )
