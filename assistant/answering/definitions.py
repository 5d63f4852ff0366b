"""Definition questions (« c'est quoi X », "what is X") answered from the corpus itself.

The question is recognised by its form alone (regular expressions over the French and
English ways of asking what something is), and the term X is what the form leaves. The
answer comes from what the corpus says of X, with no list of terms:
1. the acronym ↔ expansion pair the corpus defines (`assistant.retrieval.vocabulary`), when
   X is the acronym or its expansion: « RGAA : Référentiel général … [1] », quoting the
   sentence that defines the pair;
2. otherwise the first sentence introducing X (« X est un … », « X désigne … », « X vise à
   … », « X (…) : … ») among the retrieved passages, then among the passages a search for
   X alone finds.
Nothing found: None, and the ordinary answerer answers or refuses.

spaCy (`fr_core_news_sm`, tagger only) is loaded once, on first need, and only for the
one form whose term may be a clause rather than a noun phrase: « qu'est-ce que X » with
X of several words (« qu'est-ce que la commune risque ? » asks what it risks, and only a
tagger reading the whole question tells the verb "risque" from the noun). Every other
form, a single word or an acronym never pays its load time (several seconds).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.answering.extractive import LEAD, Draft
from assistant.answering.quoting import quote_in_context
from assistant.language import french_tagger
from assistant.query import Query
from assistant.retrieval.fusion import Hit, HybridRetriever
from assistant.retrieval.units import clean_for_display, sentence_units
from assistant.retrieval.vocabulary import acronym_pairs
from assistant.schemas import Citation, Filters

_A = r"['’]"  # an apostrophe, straight or typographic
_META = (  # words naming the kind of term asked about: « l'acronyme DSP », "the term X"
    rf"(?:(?:l{_A}\s*|le\s+|the\s+)?(?:acronyme|sigle|abréviation|abreviation|terme|mot|"
    r"expression|notion|acronym|abbreviation|term|word)\s+)?"
)
_TERM = rf"{_META}(?P<term>[^?]+?)"
_END = r"\s*[?.!]*\s*$"
# « qu'est-ce que X » may also ask what a subject does (« qu'est-ce que la commune
# risque ? »): the one form whose term is checked for a verb.
_OPEN_FORM = re.compile(rf"^qu{_A}\s*est[\s-]ce\s+(?:que\s+|qu{_A}\s*)\s*,?\s*{_TERM}{_END}", re.I)
_FORMS = [
    # « c'est quoi X », « c'est qui X », « qu'est-ce que c'est (que) X »
    re.compile(
        rf"^(?:et\s+)?(?:c{_A}\s*est\s+(?:quoi|qui)|qu{_A}\s*est[\s-]ce\s+que\s+c{_A}\s*est"
        rf"(?:\s+que|\s+qu{_A})?)\s*,?\s*{_TERM}{_END}",
        re.IGNORECASE,
    ),
    _OPEN_FORM,
    # « que signifie X », « que veut dire X », « que désigne X »
    re.compile(
        rf"^(?:que|qu{_A})\s*(?:signifient|signifie|veulent\s+dire|veut\s+dire|désignent|"
        rf"désigne|recouvre)\s+{_TERM}{_END}",
        re.IGNORECASE,
    ),
    # « à quoi correspond X »
    re.compile(rf"^à\s+quoi\s+(?:correspond|correspondent|renvoie)\s+{_TERM}{_END}", re.I),
    # « X, c'est quoi ? », « le DPO c'est qui ? », « X, ça veut dire quoi ? »
    re.compile(
        rf"^{_TERM}\s*,?\s*(?:c{_A}\s*est\s+quoi|c{_A}\s*est\s+qui|qu{_A}\s*est[\s-]ce\s+que\s+"
        rf"c{_A}\s*est|ça\s+veut\s+dire\s+quoi|veut\s+dire\s+quoi|signifie\s+quoi)"
        rf"(?:\s+exactement)?{_END}",
        re.IGNORECASE,
    ),
    # « définition de X », « quelle est la définition du X », "definition of X"
    re.compile(
        rf"^(?:[^?]{{0,40}}\s)?(?:définition|definition)\s+(?:de\s+la\s+|de\s+l{_A}\s*|du\s+|"
        rf"des\s+|de\s+|d{_A}\s*|of\s+){_TERM}{_END}",
        re.IGNORECASE,
    ),
    # « définir X », "define X"
    re.compile(rf"^(?:define|définir|definir)\s+{_TERM}{_END}", re.IGNORECASE),
    # "what does X stand for / mean"
    re.compile(rf"^what\s+(?:does|do)\s+{_TERM}\s+(?:stand\s+for|mean){_END}", re.IGNORECASE),
    # "what is X", "what's X", "what are X", "what is meant by X"
    re.compile(
        rf"^what(?:{_A}s|\s+is|\s+are)\s+(?:meant\s+by\s+|an?\s+{_META}|the\s+{_META})?"
        rf"{_TERM}{_END}",
        re.IGNORECASE,
    ),
]
_DETERMINER = re.compile(rf"^(?:(?:le|la|les|un|une|des|du|the|an?)\s+|l{_A}\s*)", re.IGNORECASE)
# A term opening on a pronoun is a clause (« qu'est-ce que je dois faire ») or a pointer to
# the conversation (« c'est quoi ça »), never a term.
_PRONOUN = re.compile(
    rf"^(?:je|j{_A}|tu|il|elle|on|nous|vous|ils|elles|ça|ca|cela|ceci|ce|c{_A}|qui|que|quoi|"
    r"i|we|you|they|it|this|that|these|those|there|which|who|how|why|when|where)\b",
    re.IGNORECASE,
)
# A subject pronoun anywhere makes it a clause too: "what are the issues it highlights".
_SUBJECT = re.compile(
    rf"(?:^|\s)(?:j{_A}|(?:je|tu|il|elle|nous|vous|ils|elles|we|you|he|she|it|they)\b)",
    re.IGNORECASE,
)
_QUOTES = str.maketrans("", "", '«»“”"')
MAX_TERM_WORDS = 8
_ACRONYM = re.compile(r"^[^\W\d_][\w&.-]{1,9}$")
_NUMBER = re.compile(r"^\d{1,2}$")

# What introduces a term in a sentence, after the term (and an optional parenthesis or
# apposition): « est un … », « désigne … », « vise à … », « (…) : ».
_INTRODUCES = (
    r"(?:\s*\([^()]{1,160}\))?\s*(?:,[^,]{1,100},\s*)?"
    r"(?:(?:est|sont)\s+(?:un|une|le|la|l['’]|les|des|du|ce|cette|celui|celle|ceux)\b"
    r"|d[ée]sign\w*|signifi\w*|vis(?:e|ent)\s+[àa]|correspond\w*\s+[àa]|consist\w*"
    r"|a\s+pour\s+(?:objet|objectif|but|mission)|ont\s+pour\s+(?:objet|objectif|but|mission)"
    r"|d[ée]finit|regroup\w*|repr[ée]sent\w*|(?:is|are|means|stands\s+for)\b)"
)
_COLON_AFTER_PARENTHESIS = r"\s*\([^()]{1,160}\)\s*:"
# What names a term after its description: « … ou « REEN » », « … dite loi REEN », "known as".
_NAMED = (
    r"(?:\bou\s+[«\"]\s*|\b(?:dite?s?|appel[ée]e?s?|nomm[ée]e?s?|called|known\s+as)\s+"
    r"(?:[«\"]\s*)?(?:(?:le|la|les)\s+|l')?)"
)
LOOKUP = 10  # passages a search for the term alone brings when the retrieved ones lack it
QUOTES = 2  # sentences quoted at most: the defining one, then one introducing the term
STANDS_FOR = {
    "fr": "{short} : {long} {marker}",
    "en": "{short} stands for “{long}” (quoted in French) {marker}",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(folded.replace("’", "'").split())


def _is_acronym(word: str) -> bool:
    return bool(_ACRONYM.match(word)) and sum(c.isupper() for c in word) >= 2


def _is_clause(question: str, start: int, end: int) -> bool:
    """Whether the question's words between `start` and `end` hold a verb: a clause, not
    a noun phrase. The whole question is tagged: its words tell a verb from a noun."""
    return any(t.pos_ in {"VERB", "AUX"} for t in french_tagger()(question) if start <= t.idx < end)


def definition_term(question: str) -> str | None:
    """The term a definition question asks about (« C'est quoi le RGAA ? » → "RGAA"), or
    None when the question does not ask what something is."""
    question = " ".join(question.translate(_QUOTES).split())
    for form in _FORMS:
        match = form.match(question)
        if match:
            break
    else:
        return None
    term = _DETERMINER.sub("", match.group("term").strip(" ,;:")).strip()
    words = term.split()
    if not words or len(words) > MAX_TERM_WORDS or _PRONOUN.match(term) or _SUBJECT.search(term):
        return None
    # A term ending on an acronym (« la loi REEN », "NIS 2") is a name: no tagger needed.
    named = _is_acronym(words[-1]) or len(words) > 1 and _NUMBER.match(words[-1])
    if (
        len(words) > 1
        and not named
        and form is _OPEN_FORM
        and _is_clause(question, *match.span("term"))
    ):
        return None
    return term


@dataclass
class _Found:
    """A sentence of a passage that defines or introduces the term."""

    hit: Hit
    position: int  # the sentence's index among the passage's sentence units
    pair: tuple[str, str] | None = None  # (short, long), when the sentence defines it


def _acronym_pairs(term: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The corpus's (short, long) pairs the term names: by its acronym alone or with one word
    naming its kind or its number (« loi REEN », "NIS 2", typed "rgaa" too), or by its
    expansion; an acronym the corpus expands in several ways gives each pair."""
    folded = _fold(term)
    named = [p for p in pairs if folded in (_fold(p[0]), _fold(p[1]))]
    words = term.split()
    for i, word in enumerate(words):
        spelled, rest = [word], words[:i] + words[i + 1 :]
        if i + 1 < len(words) and _NUMBER.match(words[i + 1]):
            spelled += [word + words[i + 1], f"{word}-{words[i + 1]}"]
            rest = words[:i] + words[i + 2 :]
        # « loi REEN » is the REEN; « GIP Recia » is one GIP, named Recia: what GIP
        # stands for does not say what it is.
        if not rest or (len(rest) == 1 and not rest[0][:1].isupper()):
            spelled = {s.casefold() for s in spelled}
            named += [p for p in pairs if p[0].casefold() in spelled]
    return list(dict.fromkeys(named))


def _acronyms(term: str) -> list[str]:
    """The acronym a term of two words names (« loi REEN » → "REEN")."""
    words = term.split()
    return [w for w in words if _is_acronym(w)] if len(words) == 2 else []


def _defines(sentence: str, short: str, long: str) -> bool:
    """Whether the sentence states the pair: "long (short)", "short (long)", "long ou short"
    or "short - long"."""
    s, lf = re.escape(_fold(short)), re.escape(_fold(long))
    return bool(
        re.search(
            rf"{lf}\s*\(\s*{s}\b|\b{s}\s*\(\s*(?:l'|d')?{lf}"
            rf"|{lf}\s+ou\s+[«\"]?\s*{s}\b|\b{s}\s+[-–]\s+{lf}",
            " ".join(_fold(sentence).split()),
        )
    )


def _introduces(sentence: str, names: list[str], speakers: frozenset[str] = frozenset()) -> bool:
    """Whether the sentence introduces one of the names: « X est un … », « X désigne … ».
    A line opening on one of its passage's `speakers` (folded) reports what they said:
    « Pascal Chammas : Longtemps, … » is no glossary line."""
    folded = _fold(sentence)
    for name in names:
        term = re.escape(_fold(name))
        start = rf"(?:^|(?<=[\s«\"'(]))(?:{term})(?=[\s,(:])"
        if re.search(start + _INTRODUCES + r"\b", folded) or re.search(
            start + _COLON_AFTER_PARENTHESIS, folded
        ):
            return True
        if re.search(rf"\S\s+{_NAMED}{term}(?=[\s»\",.;:)]|$)", folded):
            return True  # « la loi visant à réduire … ou « REEN » »
        glossary = re.match(rf"^(?:(?:le|la|les|l')\s*)?{term}\s*:\s*\S+(?:\s+\S+){{2}}", folded)
        if glossary and _fold(name) not in speakers:
            return True  # a glossary line: « DPO : délégué à la protection des données »
    return False


def _find(
    hits: list[Hit], names: list[str], pairs: list[tuple[str, str]]
) -> tuple[_Found | None, _Found | None]:
    """The first sentence defining one of the pairs, and the first introducing a name."""
    defining = introducing = None
    for hit in hits:
        said_by = str(hit.chunk.metadata.get("speakers", "")).split("; ")
        speakers = frozenset(_fold(s) for s in said_by if s)
        for position, sentence in enumerate(sentence_units(hit.chunk.text)):
            pair = next((p for p in pairs if _defines(sentence, *p)), None)
            if defining is None and pair:
                short, long = pair
                defining = _Found(hit, position, (short, _expansion(sentence, short, long)))
            elif introducing is None and _introduces(sentence, names, speakers):
                introducing = _Found(hit, position)
            if defining and introducing:
                return defining, introducing
    return defining, introducing


def _lookup(
    retriever: HybridRetriever | None, names: list[str], filters: Filters | dict | None
) -> list[Hit]:
    """Passages a search for the term alone finds (within the question's filters)."""
    if retriever is None:
        return []
    if isinstance(filters, dict):
        filters = Filters(**filters)
    text = " ".join(names)
    return retriever.retrieve(text, LOOKUP, filters, lexical_query=text)


def definition_answer(
    query: Query,
    hits: list[Hit],
    retriever: HybridRetriever | None = None,
    filters: Filters | dict | None = None,
) -> Draft | None:
    """The definition of the term a definition question asks about, cited; None when the
    question asks something else or the corpus neither expands nor introduces the term.

    The acronym pairs are the index's (`retriever.lexical.acronyms`) and those the
    retrieved passages define; `retriever`, when given, searches the term alone if the
    retrieved passages do not define it.
    """
    if query.brief:
        return None
    term = definition_term(query.question)
    if term is None:
        return None
    known = list(retriever.lexical.acronyms) if retriever is not None else []
    passages = hits
    for attempt in range(2):
        # Pairs are read from sentences too: wrapped lines joined, a pair cut by a line
        # break in the passage ("… d'Amélioration\nd'Accessibilité (RGAA)") is found.
        sentences = (u for h in passages for u in sentence_units(h.chunk.text))
        pairs = _acronym_pairs(term, [*known, *acronym_pairs(sentences)])
        names = list(dict.fromkeys([term, *_acronyms(term), *(n for p in pairs for n in p)]))
        defining, introducing = _find(passages, names, pairs)
        if attempt or (defining if pairs else introducing):
            break
        ids = {h.chunk.id for h in hits}
        looked_up = _lookup(retriever, names[:3], filters)
        passages = [*hits, *(h for h in looked_up if h.chunk.id not in ids)]
    found = [f for f in (defining, introducing) if f]
    if not found:
        return None
    return _compose(query, term, found[:QUOTES])


def _expansion(sentence: str, short: str, long: str) -> str:
    """The expansion as the sentence writes it. Schwartz–Hearst keeps the shortest match,
    which may start on a small word ("de Service Public" for DSP): the word before it
    comes along when it is capitalised with the acronym's first letter ("Délégation")."""
    if long[:1].isupper():
        return long
    words, wanted = sentence.split(), [_fold(w) for w in long.split()]
    for i in range(1, len(words) - len(wanted) + 1):
        if [_fold(w) for w in words[i : i + len(wanted)]] == wanted:
            before = words[i - 1].lstrip("«(\"'")
            if before[:1].isupper() and _fold(before[:1]) == _fold(short[:1]):
                return f"{before} {long}"
    return long


def _compose(query: Query, term: str, found: list[_Found]) -> Draft:
    """The lead (« X : expansion [1] ») and the quoted sentences, each with its `[n]`."""
    language = query.language if query.language in LEAD else "fr"
    numbers: dict[str, int] = {}
    hits: dict[str, Hit] = {}
    for f in found:
        numbers.setdefault(f.hit.chunk.id, len(numbers) + 1)
        hits.setdefault(f.hit.chunk.id, f.hit)
    lines = []
    pair = found[0].pair
    if pair:
        short, long = pair
        marker = f"[{numbers[found[0].hit.chunk.id]}]"
        lines.append(STANDS_FOR[language].format(short=short, long=long, marker=marker))
    else:
        lines.append(LEAD[language])
    quoted: set[str] = set()
    for f in found:
        text = clean_for_display(
            quote_in_context(f.hit.chunk.text, f.position, False, "", f.hit.sections)
        )
        if text in quoted:
            continue
        quoted.add(text)
        shown = f"“{text}”" if language == "en" else text
        lines.append(f"- {shown} [{numbers[f.hit.chunk.id]}]")
    citations = [Citation(n=n, **hits[i].to_passage().model_dump()) for i, n in numbers.items()]
    trace = {"definition": {"term": term, "pair": list(pair) if pair else None}}
    return Draft(
        "\n".join(lines), abstained=False, citations=citations, answerer="definition", trace=trace
    )
