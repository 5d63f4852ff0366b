"""A quoted sentence with the context a reader needs: its lead-in, its list, its antecedent."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.retrieval.fusion import Hit
from assistant.retrieval.units import (
    goes_on,
    is_headline,
    list_continuation,
    list_runs,
    sentence_units,
    title_only,
)

# A sentence opening on a pronoun for the one before it ("Cela suppose…") needs that one.
_ANAPHORA = re.compile(
    r"^(?:cela|ceci|ça|celui-ci|celle-ci|ceux-ci|celles-ci|this|these)\b", re.IGNORECASE
)
_ANTECEDENT = 400  # characters: the longest sentence brought in as what a pronoun refers to
_HEADLINE_FOLLOWER = 260  # characters: the longest line a headline brings along
_LIST_BUDGET = 700  # characters of a quoted list
_LEAD_BUDGET = 900  # characters of the lines a lead-in ending with ":" brings along
_LEAD_LINES = 7  # lines a lead-in ending with ":" brings along at most
_NEIGHBOUR = 300  # characters: the longest sentence brought in around the answer's best one


def quote_in_context(
    passage: str,
    position: int,
    wants_list: bool = False,
    following: str = "",
    sections: tuple[str, ...] = (),
) -> str:
    """Sentence `position` of the passage with the lead-in it completes, or the list it introduces.

    For a question asking for a list, a list introduced right after the sentence
    ("… stratégie numérique responsable. Les objectifs sont : …") comes along too, and
    a sentence that is one item of a bulleted list brings the whole list. `following` is
    the document's next passage, if retrieved: a list cut at the passage's end goes on there.
    `sections` are the headings of the sections the passage's last sentence announces
    ("… à travers trois dispositifs."): they are that sentence's list.
    """
    units = sentence_units(passage)
    text = units[position]
    if wants_list and sections and position == len(units) - 1:
        return f"{text.rstrip(' .:')} : {' ; '.join(sections)}"
    if title_only(passage) and following:
        # A section's title alone ("Les partenaires de la démarche"): what it heads is in
        # the document's next passage.
        return f"{text} : {' ; '.join(_bounded(sentence_units(following)[:_LEAD_LINES], 0))}"
    runs = list_runs(passage)
    if wants_list and runs[position] is not None:
        members = [i for i, r in enumerate(runs) if r == runs[position]]
        if len(members) > 1:
            first = members[0]
            # The list's lead-in ("… doivent :") or, on a slide, its title line.
            lead = (
                units[first - 1]
                if first > 0 and (units[first - 1].endswith(":") or is_headline(units[first - 1]))
                else ""
            )
            items = [units[i] for i in members]
            if members[-1] == len(units) - 1 and following:
                items += list_continuation(passage, following)
            items = _bounded([i.rstrip(" ;,") for i in items], position - first)
            return f"{lead} {' ; '.join(items)}".strip()
    if position > 0 and (
        units[position - 1].rstrip().endswith(":")
        or (_ANAPHORA.match(text) and len(units[position - 1]) <= _ANTECEDENT)
    ):
        # A lead-in the sentence completes, or the one "Cela suppose…" refers back to.
        text = f"{units[position - 1]} {text}"
    follows = position + 1 < len(units) and units[position + 1].rstrip().endswith(":")
    if wants_list and not text.rstrip().endswith(":") and follows:
        position += 1
        text = f"{text} {units[position]}"
    elif is_headline(text) and position + 1 < len(units):
        # "3e réunion plénière : 9 décembre" only names an item; the next line says what
        # it is about.
        next_line = units[position + 1]
        if len(next_line) <= _HEADLINE_FOLLOWER and not is_headline(next_line):
            position += 1
            text = f"{text} {next_line}"
    if text.rstrip().endswith(":"):
        after = units[position + 1 : position + 1 + _LEAD_LINES]
        if wants_list and following and position + 1 + _LEAD_LINES > len(units):
            after += list_continuation(passage, following)
        items: list[str] = []
        for unit in after:
            if len(unit) > 260 or sum(len(i) for i in items) > _LEAD_BUDGET:
                break
            items.append(unit.rstrip(" ;,"))
        if items:
            text = f"{text} {' ; '.join(items)}"
    return text


def with_neighbours(passage: str, position: int, text: str, quotable: Callable[[str], bool]) -> str:
    """`text`, the quote of sentence `position`, with the sentences just before and after it
    in the passage: the best sentence's answer is often completed by its neighbour (the
    figure of a label, the second condition of a rule). A neighbour already quoted, too
    long to be one sentence, or not `quotable` (an order to an assistant) stays out, and so
    does a lead-in after it (« Les objectifs sont : »), whose list is not quoted."""
    units = sentence_units(passage)
    before = units[position - 1] if position > 0 else ""
    after = units[position + 1] if position + 1 < len(units) else ""
    if after.rstrip().endswith(":"):
        after = ""
    if after and after not in text and len(after) <= _NEIGHBOUR and quotable(after):
        text = f"{text} {after}"
    if before and before not in text and len(before) <= _NEIGHBOUR and quotable(before):
        text = f"{before} {text}"
    return text


def next_passage(hits: list[Hit], index: int) -> str:
    """The text of the passage after hit `index`'s in its document: the one the retriever
    gave it (see `HybridRetriever`), or else one retrieved among `hits`."""
    if hits[index].following:
        return hits[index].following
    meta = hits[index].chunk.metadata
    return next(
        (
            h.chunk.text
            for h in hits
            if h.chunk.metadata.get("doc_id") == meta.get("doc_id")
            and h.chunk.metadata.get("ordinal") == (meta.get("ordinal") or 0) + 1
            and goes_on(
                hits[index].chunk.text, meta.get("segment"), h.chunk.metadata.get("segment")
            )
        ),
        "",
    )


def _bounded(items: list[str], keep: int) -> list[str]:
    """The items of a list up to a length budget, always including item `keep`."""
    out: list[str] = []
    for index, item in enumerate(items):
        if sum(len(i) for i in out) + len(item) > _LIST_BUDGET and index > keep:
            break
        out.append(item)
    return out
