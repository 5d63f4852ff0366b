"""HTML and Markdown for the chat: source cards with the cited sentence highlighted, a
passage in its context, and a conversation exported with its sources.

Every piece of document text is untrusted (a document may hold HTML or script): it is
escaped before it reaches the page.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from assistant.answer import clean_for_display
from assistant.documents import PassageInContext
from assistant.schemas import AskResponse, Citation

_MARKERS = re.compile(r"(?:\s*\[\d{1,2}\])+")
_QUOTES = "“”«»\"' "
_FRAGMENT_SPLIT = re.compile(r"\s*(?:;|…|\s-\s|(?<=[.!?])\s+)\s*")
_WORD = re.compile(r"\w{4,}")
_MIN_FRAGMENT = 15
_LABELS = {
    "fr": {
        "none": "Aucune source citée pour cette réponse.",
        "open": "Voir dans le document",
        "passage": "Passage",
        "of": "sur",
        "page": "page entière",
        "surrounding": "texte autour du passage",
        "neighbours": "passages voisins (fichier source indisponible)",
    },
    "en": {
        "none": "No source cited for this answer.",
        "open": "Show in the document",
        "passage": "Passage",
        "of": "of",
        "page": "whole page",
        "surrounding": "text around the passage",
        "neighbours": "neighbouring passages (source file unavailable)",
    },
}


def cited_sentences(answer: str, n: int) -> list[str]:
    """The parts of the answer that carry the marker `[n]`, without markers and quotes."""
    sentences = []
    for line in answer.split("\n"):
        start = 0
        for group in _MARKERS.finditer(line):
            text = line[start : group.start()]
            start = group.end()
            if f"[{n}]" in group.group():
                text = text.strip().lstrip("-•* ").strip(_QUOTES)
                if text:
                    sentences.append(text)
    return sentences


def _flexible(fragment: str) -> re.Pattern:
    words = fragment.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)


def highlight_spans(passage: str, quotes: list[str]) -> list[tuple[int, int]]:
    """Character spans of `passage` that the quotes come from (best effort, merged).

    Quotes are matched piece by piece (clauses, list items) with flexible whitespace; when
    nothing matches (a paraphrasing LLM), the passage sentence sharing most words wins.
    """
    spans = []
    for quote in quotes:
        for fragment in _FRAGMENT_SPLIT.split(quote):
            fragment = fragment.strip(_QUOTES + ".,:")
            if len(fragment) < _MIN_FRAGMENT:
                continue
            match = _flexible(fragment).search(passage)
            if match:
                spans.append((match.start(), match.end()))
    if not spans and quotes:
        spans = _closest_sentence(passage, " ".join(quotes))
    return _merge(sorted(spans))


def _closest_sentence(passage: str, quote: str) -> list[tuple[int, int]]:
    wanted = {w.casefold() for w in _WORD.findall(quote)}
    best, best_score = None, 0.0
    for match in re.finditer(r"[^.!?\n]+[.!?]?", passage):
        words = {w.casefold() for w in _WORD.findall(match.group())}
        if not words:
            continue
        score = len(words & wanted) / len(words | wanted)
        if score > best_score:
            best, best_score = (match.start(), match.end()), score
    return [best] if best and best_score >= 0.2 else []


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _escape(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def highlighted_html(passage: str, spans: list[tuple[int, int]]) -> str:
    """The passage escaped, with `<mark>` around the spans."""
    out, last = [], 0
    for start, end in spans:
        out.append(_escape(passage[last:start]))
        out.append(f"<mark>{_escape(passage[start:end])}</mark>")
        last = end
    out.append(_escape(passage[last:]))
    return "".join(out)


def display_passage(text: str) -> str:
    """A passage as read: one line per paragraph, OCR slips fixed like in the answers."""
    paragraphs = [clean_for_display(p) for p in re.split(r"\n\s*\n", text)]
    return "\n".join(p for p in paragraphs if p)


def _meta_line(citation: Citation) -> str:
    parts = [citation.kind, citation.date or "", citation.locator]
    return " · ".join(html.escape(p) for p in parts if p)


def render_sources(response: AskResponse | None, turn: int | None = None) -> str:
    """Numbered source cards matching the answer's `[n]` markers (HTML, text escaped).

    `turn` (the answer's rank in the conversation) is written on the cards' container.
    """
    if response is None:
        return "<div class='sources-empty'>Les sources de la réponse s'afficheront ici.</div>"
    labels = _LABELS[response.language]
    turn_attribute = f" data-turn='{turn}'" if turn is not None else ""
    if not response.citations:
        return f"<div class='sources-empty'{turn_attribute}>{labels['none']}</div>"
    cards = []
    for c in response.citations:
        passage = display_passage(c.text)
        spans = highlight_spans(passage, cited_sentences(response.answer, c.n))
        chunk = html.escape(c.chunk_id, quote=True)
        cards.append(
            f"<div class='source-card' id='source-{c.n}' data-n='{c.n}'>"
            f"<div class='source-head'><span class='source-n'>[{c.n}]</span> "
            f"<span class='source-title'>{html.escape(c.title)}</span></div>"
            f"<div class='source-meta'>{_meta_line(c)}</div>"
            f"<div class='source-text'>{highlighted_html(passage, spans)}</div>"
            f"<button type='button' class='open-context' data-chunk='{chunk}'>"
            f"{labels['open']}</button></div>"
        )
    return f"<div class='source-cards'{turn_attribute}>" + "".join(cards) + "</div>"


def render_context(context: PassageInContext, language: str = "fr") -> str:
    """A passage in its document: the text around it, the passage itself marked."""
    labels = _LABELS.get(language, _LABELS["fr"])
    where = f"{labels['passage']} {context.n} {labels['of']} {context.total}"
    meta = " · ".join(
        html.escape(p) for p in (context.kind, context.date or "", context.locator) if p
    )
    return (
        "<div class='context-view'>"
        f"<div class='context-head'><b>{html.escape(context.title)}</b></div>"
        f"<div class='source-meta'>{meta} — {where} ({labels[context.context]})</div>"
        "<div class='context-text'>"
        f"<span class='context-before'>{_escape(context.before)}</span>"
        f"<mark class='context-passage'>{_escape(context.passage)}</mark>"
        f"<span class='context-after'>{_escape(context.after)}</span>"
        "</div></div>"
    )


def conversation_markdown(turns: list[dict], profile: dict | None = None) -> str:
    """A conversation as Markdown: each question, its answer and its sources."""
    lines = [
        "# Conversation — Assistant numérique des territoires",
        "",
        f"Exportée le {datetime.now().strftime('%d/%m/%Y à %H:%M')}.",
    ]
    described = {k: v for k, v in (profile or {}).items() if v}
    if described:
        parts = [str(described.get("kind", "")), _population(described.get("population"))]
        lines.append(f"Collectivité : {', '.join(p for p in parts if p)}.")
    for number, turn in enumerate(turns, start=1):
        response = AskResponse.model_validate(turn["response"])
        lines += ["", f"## {number}. {turn['question']}", "", response.answer]
        if response.citations:
            lines += ["", "**Sources**", ""]
            for c in response.citations:
                when = f", {c.date}" if c.date else ""
                excerpt = " ".join(c.text.split())
                excerpt = excerpt[:400] + ("…" if len(excerpt) > 400 else "")
                lines.append(f"- [{c.n}] *{c.title}* ({c.kind}{when}) — {c.locator}")
                lines.append(f"  > {excerpt}")
    return "\n".join(lines) + "\n"


def _population(value) -> str:
    if not value:
        return ""
    return f"{int(value):,} habitants".replace(",", "\u202f")
