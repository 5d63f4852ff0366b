"""Structure-aware chunking: keep a slide, a section or a speaker's statement together."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from assistant.retrieval.units import split_sentences
from ingest.clean import BULLET, clean_text, strip_bullet
from ingest.load import SourceDocument

CHUNKER_VERSION = "12"  # bump when cleaning or chunking changes: forces a re-index

_MD_HEADING = re.compile(r"^#{1,6}\s+(.+)$")
_PART_MARKER = re.compile(r"^#\s?\d{1,2}$")
_NUMBERED_HEADING = re.compile(r"^\d{1,2}\.\s+[A-ZÉÈÀÂÎa-zé][^.;]{3,110}$")
# "Damien Bertrand (Agglopolys) : ..." or "Marléne le Dieu de Ville : ..."
_SPEAKER = re.compile(
    r"^(?:• )?(?P<name>[A-ZÉÈ][\wéèëïç'-]+"
    r"(?:\s+(?:le|la|de|du|des|Le|La|De)?\s*[A-ZÉÈ][\wéèëïç'-]+){1,3})"
    r"\s*(?:\((?P<org>[^()]{2,80})\))?\s*:\s*\S"
)
# A short label that announces what follows: "Etape 7:", "Objectifs :" (not a bullet item).
_TRAILING_LABEL = re.compile(rf"^(?!{re.escape(BULLET)})[^:\n]{{1,40}}:\s*$")
_BLOCK_JOIN = "\n\n"  # between the paragraphs of a chunk


@dataclass
class Chunk:
    """A passage of a document, with where it comes from."""

    doc_id: str
    text: str
    heading: str
    segment: int  # 1-based page (PDF), slide or text segment
    start: int  # character span in the cleaned segment text
    end: int
    page: int | None = None
    speakers: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    ordinal: int = 0

    def embed_text(self, title: str) -> str:
        """What the embedder reads: the document title and heading give the passage context."""
        context = " — ".join(part for part in (title, self.heading) if part)
        text = self.text.replace(BULLET, "")
        return f"{context}\n{text}" if context else text

    def content_id(self, title: str) -> str:
        """Identifier from the content: unchanged text keeps its id and its embedding."""
        digest = hashlib.sha256(f"{self.embed_text(title)}\x00{self.ordinal_salt}".encode())
        return f"{self.doc_id}:{digest.hexdigest()[:20]}"

    ordinal_salt: int = 0  # set only when the same text occurs twice in a document


@dataclass
class _Block:
    text: str
    start: int
    end: int
    speaker: str | None = None
    organisation: str | None = None


def _heading_of(line: str) -> str | None:
    line = strip_bullet(line)
    match = _MD_HEADING.match(line)
    if match:
        return match.group(1).replace("**", "").strip()
    if _PART_MARKER.match(line) or _NUMBERED_HEADING.match(line):
        return line
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 10 and sum(c.isupper() for c in letters) / len(letters) > 0.85:
        return line
    return None


def _sections(text: str, first_line_is_heading: bool) -> list[tuple[str | None, list[_Block]]]:
    """Split cleaned text into (heading, paragraph blocks) with character offsets."""
    sections: list[tuple[str | None, list[_Block]]] = [(None, [])]
    current: _Block | None = None
    pending_marker = False
    offset = 0
    seen_text = False
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        if not line:
            current = None
            continue
        heading = _heading_of(line)
        if first_line_is_heading and not seen_text and len(line) < 90:
            heading = heading or strip_bullet(line)
        seen_text = True
        if pending_marker and heading is None and len(line) < 90:
            # "#1" followed by its title: one heading.
            marker, blocks = sections[-1]
            sections[-1] = (f"{marker} {line}", blocks)
            pending_marker = False
            continue
        pending_marker = False
        if heading is not None:
            sections.append((heading, []))
            pending_marker = bool(_PART_MARKER.match(line))
            current = None
            continue
        speaker = _SPEAKER.match(line)
        if speaker or current is None:
            current = _Block(line, start, end)
            if speaker:
                current.speaker = speaker.group("name").strip()
                current.organisation = (speaker.group("org") or "").strip() or None
            sections[-1][1].append(current)
        else:
            current.text += "\n" + line
            current.end = end
    return [(h, b) for h, b in sections if b or h]


def _split_long(block: _Block, size: int, overlap: int) -> list[_Block]:
    """Cut a paragraph longer than `size` on sentence boundaries, with a little overlap."""
    if len(block.text) <= size:
        return [block]
    # List items keep their own lines, so a reader still sees where each item starts.
    sentences = []
    for item in re.split(rf"\n(?={re.escape(BULLET)})", block.text):
        for number, sentence in enumerate(split_sentences(item)):
            sentences.append((sentence, "\n" if number == 0 and item.startswith(BULLET) else " "))
    pieces, current = [], ""
    for sentence, separator in sentences:
        while len(sentence) > size:  # a "sentence" with no punctuation (a flattened table)
            cut = sentence.rfind(" ", 0, size) if " " in sentence[:size] else size
            cut = cut if cut > 0 else size
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > size:
            pieces.append(current)
            tail = current[-overlap:] if overlap else ""
            tail = tail[tail.find(" ") + 1 :] if " " in tail else ""
            fits = tail and len(tail) + 1 + len(sentence) <= size
            current = f"{tail} {sentence}" if fits else sentence
        else:
            current = f"{current}{separator}{sentence}".strip()
    if current:
        pieces.append(current)
    return [_Block(p, block.start, block.end, block.speaker, block.organisation) for p in pieces]


def chunk_document(document: SourceDocument, size: int = 900, overlap: int = 120) -> list[Chunk]:
    """Chunks of at most about `size` characters that respect the document's structure."""
    chunks: list[Chunk] = []
    heading = ""
    slides = document.kind == "slides"
    pages = [clean_text(page) for page in document.pages]
    if slides:
        pages = carry_trailing_labels(pages)
    for number, cleaned in enumerate(pages, start=1):
        if not cleaned:
            continue
        if slides:
            heading = ""
        for section_heading, blocks in _sections(cleaned, first_line_is_heading=slides):
            if section_heading is not None:
                heading = section_heading
            pieces = []
            for previous, block in zip([None, *blocks], blocks, strict=False):
                # After a lead-in, leave it room: the two are kept in one chunk.
                room = size
                if previous is not None and _opens_list(previous):
                    room = max(size // 2, size - len(previous.text) - len(_BLOCK_JOIN))
                pieces.extend(_split_long(block, room, overlap))
            group: list[_Block] = []
            for piece in pieces + [None]:
                full = group and (
                    piece is None
                    or piece.speaker is not None
                    or sum(len(b.text) + len(_BLOCK_JOIN) for b in group) + len(piece.text) > size
                )
                if full:
                    # A lead-in ("Nos recommandations :") belongs with the list it opens.
                    carry = (
                        piece is not None
                        and _opens_list(group[-1])
                        and len(group[-1].text) + len(_BLOCK_JOIN) + len(piece.text) <= size
                    )
                    lead = group[-1:] if carry else []
                    if len(group) > len(lead):
                        chunks.append(
                            _make_chunk(document, group[: len(group) - len(lead)], heading, number)
                        )
                    group = lead
                if piece is not None:
                    group.append(piece)
            if not blocks and section_heading and slides:
                # A slide that is only a title still says something ("Merci ...").
                chunks.append(Chunk(document.doc_id, section_heading, "", number, 0, 0))
    seen: dict[str, int] = {}
    for ordinal, chunk in enumerate(chunks):
        chunk.ordinal = ordinal
        chunk.page = chunk.segment if document.paged else None
        key = chunk.embed_text(document.title)
        chunk.ordinal_salt = seen.get(key, 0)
        seen[key] = chunk.ordinal_salt + 1
    return chunks


def carry_trailing_labels(pages: list[str]) -> list[str]:
    """Slides whose last line is a label ("Etape 7:") hand it to the next slide.

    A deck often puts a step's label at the foot of one slide and its content at the top
    of the next; the label means nothing without the content, so the two become one line.
    """
    pages = list(pages)
    for number in range(len(pages) - 1):
        lines = pages[number].rstrip().split("\n")
        following = pages[number + 1].lstrip()
        if not following or not _TRAILING_LABEL.match(lines[-1]):
            continue
        pages[number] = "\n".join(lines[:-1]).rstrip()
        pages[number + 1] = f"{lines[-1].strip()} {strip_bullet(following)}"
    return pages


def _opens_list(block: _Block) -> bool:
    """True for a paragraph that announces what follows ("… sont les suivants :")."""
    return block.speaker is None and block.text.rstrip().endswith(":")


def _make_chunk(document: SourceDocument, group: list[_Block], heading: str, segment: int) -> Chunk:
    speakers = [b.speaker for b in group if b.speaker]
    organisations = [b.organisation for b in group if b.organisation]
    return Chunk(
        doc_id=document.doc_id,
        text=_BLOCK_JOIN.join(b.text for b in group),
        heading=heading,
        segment=segment,
        start=group[0].start,
        end=group[-1].end,
        speakers=list(dict.fromkeys(speakers)),
        organisations=list(dict.fromkeys(organisations)),
    )


def locator(kind: str, chunk: Chunk, paged: bool) -> str:
    """Where a chunk is, for a reader: page or slide, then the section heading."""
    if paged:
        where = f"p. {chunk.segment}"
    elif kind == "slides":
        where = f"diapo {chunk.segment}"
    else:
        where = f"partie {chunk.segment}"
    return f"{where} — {chunk.heading}" if chunk.heading else where
