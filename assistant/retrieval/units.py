"""Sentence units: a segmenter for French administrative text, and a passage's sentences
(wrapped lines re-joined, list items and sentences apart) with their context."""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd
from pysbd.lang.french import French
from text_to_num import alpha2digit

from ingest.clean import BULLET

_SEGMENTER = pysbd.Segmenter(language="fr", clean=False)
# Abbreviations a sentence rarely ends on ("art.", "cf.", "hab."), from pysbd's French list.
_ABBREVIATIONS = frozenset(a for a in French.Abbreviation.ABBREVIATIONS if "." not in a) | {
    "n", "p", "pp", "no", "v", "mme", "mlle", "mm", "dr", "pr", "me", "st", "ste",
}  # fmt: skip
_LAST_WORD = re.compile(r"(?:^|[\s(«'’])(?P<word>[^\W\d_]{1,5})\.$")
# What opens a sentence's continuation: a digit, a code letter ("L. 1112-23", "R. 2"),
# or a lower-case letter or closing punctuation (no sentence starts there).
_GOES_ON_AFTER_ABBREVIATION = re.compile(r"^(?:\d|[A-Z]\.\s|[A-Z]\.?\d|°)")
_NEVER_STARTS = re.compile(r"^[a-zàâäéèêëîïôöùûüç,;:)\]»%]")


@lru_cache(maxsize=65536)
def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, whitespace-normalised (pysbd's French rules).

    A cut the segmenter makes after an abbreviation is mended when what follows cannot
    open a sentence: « art. L. 1112-23 du CGCT », « p. 12 », « M. Dupont », « 3 500 hab.
    en 2020 » stay whole, whatever the abbreviation (pysbd's list, or one capital letter).
    """
    flat = " ".join(text.split())
    if not flat:
        return []
    sentences: list[str] = []
    for piece in _SEGMENTER.segment(flat):
        piece = piece.strip()
        if not piece:
            continue
        if sentences and _goes_on(sentences[-1], piece):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _goes_on(sentence: str, following: str) -> bool:
    """Whether `following` continues `sentence` (the cut was not a sentence end)."""
    if _NEVER_STARTS.match(following):
        return True
    match = _LAST_WORD.search(sentence)
    if match is None:
        return False
    word = match.group("word")
    if len(word) == 1 and word.isupper():  # an initial or a code letter: "M.", "L."
        return True
    return word.casefold() in _ABBREVIATIONS and bool(_GOES_ON_AFTER_ABBREVIATION.match(following))


_MAX_UNIT = 320  # characters: longer "sentences" are flattened lists, cut at line ends
# OCR reads the capital I of an acronym as a lower-case l: « l'lA » for « l'IA ».
MISREAD_I = re.compile(r"\bl(?=[A-Z]{1,4}\b)")
_OCR_FIXES = [
    (re.compile(r"\bI'(?=[a-zàâéèêîôû])"), "l'"),
    (MISREAD_I, "I"),
    (re.compile(r"eé"), "é"),
    (re.compile(r"\bceuvre"), "œuvre"),
    (re.compile(r"\s+&\s+(?=[a-zé])"), " à "),
    (re.compile(r"'{2,}"), "'"),
    # A bracketed number in a document (a footnote call, or a hostile fake citation) would
    # read as one of the answer's own [n] markers: it is never shown.
    (re.compile(r"\s*\[\d+\]"), ""),
    (re.compile(r"\s+([,.])"), r"\1"),
    # No text ends on an article: one left alone at the end is the start of a line the
    # page cut off (a slide's last line « Les »).
    (re.compile(r"\s*[;,]?\s+(?:Les|Le|La|Des|Du|Un|Une)$"), ""),
]
_LINE_END = re.compile(r"[.!?:;»)]$")
_LINE_START = re.compile(r"^(?!I'|l')[A-ZÉÈÀÂÎ«\"]")
_WRAPPED = 70  # a line this long ended because the page did, not because the item did
# A line that is only a figure ("45 %", "3 500", "+12 M€"): its label is the next line.
_FIGURE_ALONE = re.compile(r"^[+\-–]?\d[\d\s.,\u00a0\u202f]*(?:%|€|k€|M€|Md€|[a-zA-Z]{1,3})?$")


def clean_for_display(text: str) -> str:
    """Undo frequent OCR misreadings in text shown to a reader (meaning unchanged)."""
    text = " ".join(text.split())
    for pattern, replacement in _OCR_FIXES:
        text = pattern.sub(replacement, text)
    return text


def _logical_lines(paragraph: str) -> list[tuple[str, bool]]:
    """Lines re-joined where the PDF layout wrapped them, each flagged when a list item."""
    lines: list[tuple[str, bool]] = []
    for line in paragraph.split("\n"):
        line = line.strip()
        if not line:
            continue
        previous, item = lines[-1] if lines else ("", False)
        if line.startswith(BULLET):
            lines.append((line[len(BULLET) :].strip(), True))
        elif _FIGURE_ALONE.match(line) and previous and len(previous) < _WRAPPED:
            lines.append((line, False))  # a figure opens the line of its label
        elif (
            previous
            and not _LINE_END.search(previous)
            and (
                not _LINE_START.match(line)
                or len(previous) >= _WRAPPED
                or _FIGURE_ALONE.match(previous)  # "45 %" above its label on a slide
            )
        ):
            lines[-1] = (f"{previous} {line}", item)
        else:
            lines.append((line, False))
    if len(lines) > 1 and _FIGURE_ALONE.match(lines[-1][0]) and not lines[-2][1]:
        # A figure closing the paragraph follows its label ("Communes équipées / 45 %").
        lines[-2:] = [(f"{lines[-2][0]} {lines[-1][0]}", False)]
    return lines


# A blank line the page layout put inside a sentence: the paragraph stops on a comma or an
# open parenthesis and the next one goes on in lower case (« (moteur, sensoriel, cognitif, »
# / « psychique) »).
_BROKEN_PARAGRAPH = re.compile(r"(?<=[,(])[ \t]*\n[ \t]*\n\s*(?=[a-zà-ÿ])")


@lru_cache(maxsize=4096)
def _units(text: str) -> tuple[tuple[str, int | None], ...]:
    """Each unit with the number of the bulleted list it belongs to, None outside lists.

    A list runs over blank lines as long as the next line is another item.
    """
    units: list[tuple[str, int | None]] = []
    runs = 0
    run: int | None = None
    for paragraph in re.split(r"\n\s*\n", _BROKEN_PARAGRAPH.sub("\n", text)):
        for line, item in _logical_lines(paragraph):
            if item and run is None:
                runs += 1
                run = runs
            elif not item:
                run = None
            for sentence in split_sentences(line):
                while len(sentence) > _MAX_UNIT:
                    cut = sentence.rfind(" ", 0, _MAX_UNIT)
                    cut = cut if cut > 0 else _MAX_UNIT
                    units.append((sentence[:cut], run))
                    sentence = sentence[cut:].strip()
                if sentence:
                    units.append((sentence, run))
    return tuple(units)


def sentence_units(text: str) -> list[str]:
    """Sentences of a passage: wrapped lines joined, list items and sentences apart."""
    return [unit for unit, _ in _units(text)]


def list_runs(text: str) -> list[int | None]:
    """For each of `sentence_units(text)`, the bulleted list it is part of (None: none)."""
    return [run for _, run in _units(text)]


_HEADLINE = 60  # characters: a line this short with no closing stop names, it does not say


def is_headline(text: str) -> bool:
    """A short line without a closing stop: a title or an item's name, not a statement."""
    text = text.rstrip()
    return len(text) <= _HEADLINE and not text.endswith((".", ":", "!", "?", ";"))


def title_only(text: str) -> bool:
    """Whether the passage is a title alone ("Les partenaires de la démarche")."""
    units = _units(text)
    return len(units) == 1 and is_headline(units[0][0])


def goes_on(text: str, segment: object, next_segment: object) -> bool:
    """Whether the passage goes on in the next one of its document: it ends on a list item
    or a lead-in (":"), or it is a title alone on the same page or slide (a slide's title
    alone is that slide's content, not the next one's)."""
    units = _units(text)
    if not units:
        return False
    last, run = units[-1]
    if run is not None or last.rstrip().endswith(":"):
        return True
    return title_only(text) and segment == next_segment


# "… à travers trois dispositifs." or "… se décline en 10 étapes :": a count of what follows
# (number words are read by text2num, "trois" as "3").
_ANNOUNCES = re.compile(
    r"\b(?P<n>\d{1,2})\s+[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*)?\s*[.:]?$", re.IGNORECASE
)


def announced(text: str) -> int:
    """How many items the passage's last sentence announces ("trois dispositifs."), or 0."""
    units = _units(text)
    match = _ANNOUNCES.search(alpha2digit(units[-1][0], "fr", threshold=0)) if units else None
    if match is None:
        return 0
    count = int(match.group("n"))
    return count if 2 <= count <= 10 else 0


_PROBE = 40  # characters of the next passage looked for at the end of this one


def list_continuation(text: str, following: str) -> list[str]:
    """The items a list closing `text` goes on with at the start of `following`.

    `following` is the next passage of the same document; it may repeat the end of `text`
    (chunks overlap), which is skipped. Empty when `text` does not end on a list item or
    `following` does not open on more of them.
    """
    runs = list_runs(text)
    if not runs or runs[-1] is None:
        return []
    probe = following[:_PROBE]
    at = text.rfind(probe) if len(probe) == _PROBE else -1
    if at >= 0 and following.startswith(text[at:]):
        following = following[len(text) - at :]
    units = _units(following.strip())
    if not units or units[0][1] is None:
        return []
    first = units[0][1]
    return [unit for unit, run in itertools.takewhile(lambda u: u[1] == first, units)]


@dataclass(frozen=True)
class SentenceUnit:
    """One sentence of a passage, with what a reader of it alone would need: the document
    title, the section or slide heading, and the lead-in of the list it is an item of."""

    chunk_id: str  # the passage it comes from: a hit is still a passage
    text: str
    context: str

    @property
    def indexed(self) -> str:
        """What is searched and embedded: the context, then the sentence."""
        return f"{self.context}\n{self.text}" if self.context else self.text

    @property
    def key(self) -> str:
        """Content hash: an unchanged sentence in an unchanged context keeps its vector."""
        return hashlib.sha256(self.indexed.encode()).hexdigest()[:20]


def passage_sentences(chunk_id: str, text: str, title: str, heading: str) -> list[SentenceUnit]:
    """The sentence units of a passage, each with its context (see `SentenceUnit`)."""
    units = _units(text)
    header = " — ".join(part for part in (title, heading) if part)
    result = []
    lead_in = ""
    for sentence, run in units:
        if run is None:
            lead_in = sentence if sentence.rstrip().endswith(":") else ""
        context = " — ".join(part for part in (header, lead_in if run is not None else "") if part)
        result.append(SentenceUnit(chunk_id, clean_for_display(sentence), context))
    return result
