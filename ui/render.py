"""HTML and Markdown for the chat: answers, source cards with the cited sentence
highlighted, a passage in its context, and a conversation exported with its sources.

Every piece of document text is untrusted (a document may hold HTML, script, Markdown
images or links): it is escaped before it reaches the page. Answers quote documents, so an
answer keeps only its own structure as Markdown (bullets, bold, `[n]` markers) and shows
the rest as written.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from assistant.answering.extractive import clean_for_display
from assistant.schemas import AskResponse, Citation
from assistant.serving.documents import PassageInContext

_MARKERS = re.compile(r"(?:\s*\[\d{1,2}\])+")
_QUOTES = "“”«»\"' "
_FRAGMENT_SPLIT = re.compile(r"\s*(?:;|…|\s-\s|(?<=[.!?])\s+)\s*")
_WORD = re.compile(r"\w{4,}")
_MIN_FRAGMENT = 15
# What lets text build an image, a link or HTML in Markdown: brackets (links, images,
# reference definitions), angle brackets and "&" (tags, autolinks, entities), the backslash
# (which would undo an escape), "@" (addresses made links). As character references they
# show as themselves and build nothing.
_LIVE = str.maketrans(
    {
        "[": "&#91;",
        "]": "&#93;",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        "\\": "&#92;",
        "@": "&#64;",
    }
)
# Bare web addresses, which GitHub-flavoured Markdown turns into links: "http://", "www.".
_ADDRESS = re.compile(r"(?<=[a-z])://|(?<=\bwww)\.", re.IGNORECASE)
_BULLET = re.compile(r"\s*(?:[-*•]|\d{1,2}[.)])\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# Markdown marks a document's text may hold, shown as plain text in the cards.
_EMPHASIS = re.compile(r"(\*\*|__)(\S(?:.*?\S)?)\1", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
# A marker of the answer; one followed by "(", ":" or "[" could make a link, and is escaped.
_OWN_MARKER = re.compile(r"(\[\d{1,3}\])(?![(:\[])")
CORPUS_COLUMNS = ["Document", "Type", "Date", "Pages", "Passages", "Alertes"]
_LABELS = {
    "fr": {
        "none": "Aucune source citée pour cette réponse.",
        "for": "Sources de la réponse n°",
        "open": "Voir dans le document",
        "passage": "Passage",
        "of": "sur",
        "page": "page entière",
        "surrounding": "texte autour du passage",
        "neighbours": "passages voisins (fichier source indisponible)",
    },
    "en": {
        "none": "No source cited for this answer.",
        "for": "Sources of answer no.",
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


def as_text(text: str) -> str:
    """Text for a Markdown view that shows as written: no image, link or HTML comes out."""
    text = text.translate(_LIVE)
    return _ADDRESS.sub(lambda m: m.group().replace(":", "&#58;").replace(".", "&#46;"), text)


def answer_markdown(answer: str) -> str:
    """An answer for the chat: its bullets, bold and `[n]` markers stay Markdown, and the
    text it quotes from documents shows as written (an image or a link in a document stays
    text, and the browser fetches nothing)."""
    lines = []
    for line in answer.split("\n"):
        bullet = _BULLET.match(line)
        head = bullet.group() if bullet else ""
        rest = line[len(head) :] if bullet else line.lstrip()
        pieces = _BOLD.split(rest)  # text, bold, text, bold…
        lines.append(
            head
            + "".join(
                f"**{_quoted(piece)}**" if i % 2 else _quoted(piece)
                for i, piece in enumerate(pieces)
            )
        )
    return "\n".join(lines)


def _quoted(text: str) -> str:
    pieces = _OWN_MARKER.split(text)  # text, marker, text, marker…
    return "".join(piece if i % 2 else as_text(piece) for i, piece in enumerate(pieces))


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


def plain_text(text: str) -> str:
    """Document text without its Markdown marks: `**bold**`, `__bold__`, `# ` headings."""
    text = _EMPHASIS.sub(r"\2", text)
    return _HEADING.sub("", text)


def display_passage(text: str) -> str:
    """A passage as read: one line per paragraph, OCR slips fixed like in the answers, no
    Markdown marks."""
    paragraphs = [clean_for_display(plain_text(p)) for p in re.split(r"\n\s*\n", text)]
    return "\n".join(p for p in paragraphs if p)


def _meta_line(citation: Citation) -> str:
    parts = [citation.kind, citation.date or "", citation.locator]
    return " · ".join(html.escape(p) for p in parts if p)


def render_sources(
    response: AskResponse | None, turn: int | None = None, question: str | None = None
) -> str:
    """Numbered source cards matching the answer's `[n]` markers (HTML, text escaped).

    `turn` (the answer's rank in the conversation) is written on the cards' container, and
    a line above the cards names the answer (its rank and its question).
    """
    if response is None:
        return "<div class='sources-empty'>Les sources de la réponse s'afficheront ici.</div>"
    labels = _LABELS[response.language]
    turn_attribute = f" data-turn='{turn}'" if turn is not None else ""
    head = ""
    if turn is not None:
        asked = " ".join((question or "").split())
        asked = f" : « {html.escape(asked[:160])}{'…' if len(asked) > 160 else ''} »"
        head = f"<p class='sources-for'>{labels['for']} {turn + 1}{asked if question else ''}</p>"
    if not response.citations:
        return f"<div class='sources-empty'{turn_attribute}>{head}{labels['none']}</div>"
    cards = []
    for c in response.citations:
        passage = display_passage(c.text)
        spans = highlight_spans(passage, cited_sentences(plain_text(response.answer), c.n))
        chunk = html.escape(c.chunk_id, quote=True)
        cards.append(
            f"<div class='source-card' id='source-{c.n}' data-n='{c.n}' tabindex='-1'>"
            f"<div class='source-head'><span class='source-n'>[{c.n}]</span> "
            f"<span class='source-title'>{html.escape(c.title)}</span></div>"
            f"<div class='source-meta'>{_meta_line(c)}</div>"
            # Focusable: a long passage scrolls, and the keyboard must scroll it too.
            f"<div class='source-text' tabindex='0'>{highlighted_html(passage, spans)}</div>"
            f"<button type='button' class='open-context' data-chunk='{chunk}'>"
            f"{labels['open']}</button></div>"
        )
    return f"<div class='source-cards'{turn_attribute}>{head}" + "".join(cards) + "</div>"


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
        f"<div class='context-text' tabindex='0' role='region' aria-label='{where}'>"
        f"<span class='context-before'>{_escape(plain_text(context.before))}</span>"
        f"<mark class='context-passage'>{_escape(plain_text(context.passage))}</mark>"
        f"<span class='context-after'>{_escape(plain_text(context.after))}</span>"
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
        lines.append(f"Collectivité : {as_text(', '.join(p for p in parts if p))}.")
    for number, turn in enumerate(turns, start=1):
        response = AskResponse.model_validate(turn["response"])
        question = as_text(" ".join(turn["question"].split()))
        lines += ["", f"## {number}. {question}", "", answer_markdown(response.answer)]
        if response.citations:
            lines += ["", "**Sources**", ""]
            for c in response.citations:
                when = f", {c.date}" if c.date else ""
                excerpt = " ".join(c.text.split())
                excerpt = excerpt[:400] + ("…" if len(excerpt) > 400 else "")
                source = f"*{as_text(c.title)}* ({as_text(c.kind + when)}) — {as_text(c.locator)}"
                lines.append(f"- [{c.n}] {source}")
                lines.append(f"  > {as_text(excerpt)}")
    return "\n".join(lines) + "\n"


def _population(value) -> str:
    if not value:
        return ""
    return f"{int(value):,} habitants".replace(",", "\u202f")


def alerts_text(flagged: list[str]) -> str:
    """What the corpus says of a document's lines addressed to an assistant."""
    if not flagged:
        return ""
    return f"{len(flagged)} ligne(s) adressée(s) à un assistant, jamais citée(s)"


def corpus_table(documents: list) -> str:
    """The indexed documents as an HTML table that fits its page: the title (its file
    under it), type, date, pages, passages and alerts; on a phone each row stacks."""
    if not documents:
        return (
            "<p class='corpus-empty'>Aucun document indexé pour l'instant. La première "
            "indexation du corpus prend quelques minutes au démarrage du serveur ; vous "
            "pouvez aussi ajouter un document ci-dessous.</p>"
        )
    head = "".join(f"<th scope='col'>{name}</th>" for name in CORPUS_COLUMNS)
    rows = []
    for d in documents:
        cells = [
            f"<span class='doc-title'>{html.escape(d.title)}</span>"
            f"<span class='doc-file'>{html.escape(d.file)}</span>",
            html.escape(d.kind or ""),
            html.escape(d.date or ""),
            str(d.pages or ""),
            str(d.chunks),
            alerts_text(d.flagged),
        ]
        rows.append(
            "<tr>"
            + "".join(
                f"<td data-label='{name}'>{cell}</td>"
                for name, cell in zip(CORPUS_COLUMNS, cells, strict=True)
            )
            + "</tr>"
        )
    return (
        "<table class='corpus-table'><caption>Documents indexés "
        f"({len(documents)})</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
