"""French-aware tokenisation and the persisted BM25 index."""

from __future__ import annotations

import difflib
import json
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import simplemma
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH
from text_to_num import alpha2digit

from assistant.retrieval.vocabulary import acronym_pairs, ocr_corrections, ocr_readings

_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+")
_NAME_NUMBER = re.compile(r"^([^\W\d_]{2,})(\d{1,4})$")
# "D'après l'étude" means "according to": no topic word, unlike "3 ans après".
_ACCORDING_TO = re.compile(r"\bd['’]après\b", re.IGNORECASE)
_THOUSANDS = re.compile(r"(?<=\d)[\s\u00a0\u202f.](?=\d{3}(?!\d))")
# Words too common in this domain's questions to tell passages apart, beyond grammar words.
_QUESTION_WORDS = {
    "quel",
    "quelle",
    "quels",
    "quelles",
    "combien",
    "comment",
    "pourquoi",
    "quand",
    "lequel",
    "laquelle",
    "lesquels",
    "lesquelles",
    "auquel",
    "auxquels",
    "auxquelles",
    "est",
    "sont",
    "fait",
    "faut",
    "peut",
    "doit",
    "what",
    "which",
    "how",
    "many",
    "much",
    "does",
    "do",
    "did",
    "is",
    "are",
    "the",
    "when",
    "who",
    "why",
    "dit",
    "selon",
    "notre",
    "nos",
    "mon",
    "ma",
    "mes",
    "votre",
    "vos",
    "cela",
    "ca",
    "y",
    "a",
    "avoir",
    "etre",
    "être",
    "doivent",
    "faire",
    "peuvent",
    "need",
    "needs",
    "have",
    "has",
    "our",
    "my",
    "there",
    "elle",
    "il",
    "ils",
    "elles",
    "t",
    "lui",
    "leur",
    "leurs",
    # Words about the documents rather than in them.
    "document",
    "documents",
    "corpus",
    "disent",
    "mentionne",
    "mentionnes",
    "mentionnés",
    "ressortent",
    "fais",
    "croise",
    "synthese",
    "synthèse",
    "say",
    "says",
    "according",
}
STOPWORDS = {w for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN)} | _QUESTION_WORDS
_STEMMER = Stemmer.Stemmer("french")
# Bump when tokenisation or the indexed text changes: ingestion then rebuilds the BM25 index.
TOKENIZER_VERSION = "11"


def _is_word(word: str) -> bool:
    """A word of French or English (simplemma's dictionaries): never an OCR misreading."""
    return simplemma.is_known(word, lang="fr") or simplemma.is_known(word, lang="en")


def fold_accents(text: str) -> str:
    """Strip diacritics: OCR drops and doubles accents, so matching must ignore them."""
    text = text.replace("œ", "oe").replace("Œ", "OE")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# Ordinals however written read as one token per rank: "troisième" (made "3ème" by
# text2num), "3e", "3ème", the OCR's "3°" or "3¢" all read "ord3".
_ORDINAL = re.compile(r"\b(?P<digit>\d{1,2})(?:(?:er|re|ère|ere|ème|eme|e|nd|nde|st|rd|th)\b|[°¢])")
# A word that may be an ordinal: text2num reads it alone, even below its threshold
# ("première" → "1ère", "deuxième" → "2ème", "first" → "1st").
_PER_CENT = re.compile(r"\b(?:pour\s?cent|per\s?cent|percent)\b", re.IGNORECASE)
_ORDINAL_WORD = re.compile(r"\b[^\W\d_]+(?:ième|ieme|ier|ière|iere|first|second|th)\b")


def spell_numbers(text: str) -> str:
    """Number words as digits (text2num): "trois mille cinq cents" → "3500", "dix-huit" →
    "18", "troisième" → "3ème"; French first, then English ("twenty two" → "22")."""
    text = alpha2digit(alpha2digit(_PER_CENT.sub("%", text), "fr"), "en")
    return _ORDINAL_WORD.sub(_ordinal_digits, text)


@lru_cache(maxsize=4096)
def ordinal_digits(word: str) -> str:
    """A lower-case word in digits when text2num reads it as a number ("première" →
    "1ère", "troisieme" → "3ème", "second" → "2nd"), else unchanged."""
    digits = alpha2digit(alpha2digit(word, "fr", threshold=0), "en", threshold=0)
    if digits == word and word.endswith(("ieme", "iere")):  # typed without its accent
        return ordinal_digits(f"{word[:-3]}{'è'}{word[-2:]}")
    return digits


def _ordinal_digits(match: re.Match) -> str:
    return ordinal_digits(match.group(0))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return fold_accents(_STEMMER.stemWord(word))


def tokenize(text: str) -> list[str]:
    """Lower-cased, elision-free, stop-word-free, stemmed and accent-folded tokens.

    Numbers keep their digits with thousands separators removed, so "50 000",
    "50.000" and "50000" are the same token.
    """
    return [token for _, token in words_and_tokens(text)]


def words_and_tokens(text: str) -> list[tuple[str, str]]:
    """Each indexed word of `text` (lower-cased, as written) with its token."""
    text = spell_numbers(_ACCORDING_TO.sub(" ", text.lower()))
    text = _ORDINAL.sub(_rank_token, _THOUSANDS.sub("", text))
    text = _ELISION.sub(" ", text)
    pairs = []
    for word in _TOKEN.findall(text):
        if word in STOPWORDS or fold_accents(word) in STOPWORDS:
            continue
        if word.isdigit():
            pairs.append((word, word))
        elif len(word) > 1:
            pairs.append((word, _stem(word)))
    return pairs


def _rank_token(match: re.Match) -> str:
    return f" ord{int(match.group('digit'))} "


class Bm25Index:
    """BM25 over chunk texts, saved to disk beside the vector store."""

    def __init__(
        self,
        ids: list[str],
        model: bm25s.BM25 | None,
        doc_freq: dict[str, int],
        corrections: dict[str, str] | None = None,
        acronyms: list[tuple[str, str]] | None = None,
        readings: dict[str, str] | None = None,
    ):
        self.ids = ids
        self.model = model
        self.doc_freq = doc_freq
        self.corrections = corrections or {}  # OCR misreadings → the corpus's word
        self.acronyms = [tuple(pair) for pair in acronyms or []]  # (short, long) it defines
        self.readings = readings or {}  # misread words → as a reader should see them
        self._expansions = [(tokenize(short), tokenize(long)) for short, long in self.acronyms]
        self._vocabulary = sorted(doc_freq)
        self._variants: dict[str, list[str]] = {}

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> Bm25Index:
        """Index the texts (one per id), reading the corpus's OCR misreadings and the
        acronyms it defines from the texts themselves (`assistant/retrieval/vocabulary.py`)."""
        if not texts:
            return cls([], None, {})
        words = [words_and_tokens(t) for t in texts]
        surface_counts = Counter(p for pairs in words for p in pairs)
        corrections = ocr_corrections(surface_counts, _is_word)
        corpus = [[corrections.get(t, t) for _, t in pairs] or ["_vide_"] for pairs in words]
        # The vocabulary in sorted order: bm25s numbers it in set order, which changes with
        # each process's string hashing, and with it the order its scores are summed in (a
        # fresh build would break ties between passages another way).
        vocabulary = {token: i for i, token in enumerate(sorted({t for d in corpus for t in d}))}
        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index(
            ([[vocabulary[t] for t in tokens] for tokens in corpus], vocabulary),
            show_progress=False,
        )
        doc_freq: dict[str, int] = {}
        for tokens in corpus:
            for token in set(tokens):
                doc_freq[token] = doc_freq.get(token, 0) + 1
        readings = ocr_readings(surface_counts, corrections, _is_word)
        return cls(ids, model, doc_freq, corrections, acronym_pairs(texts), readings)

    def save(self, directory: Path) -> None:
        """Write the index files into `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.save(str(directory), show_progress=False)
        (directory / "ids.json").write_text(
            json.dumps(
                {
                    "ids": self.ids,
                    "doc_freq": self.doc_freq,
                    "corrections": self.corrections,
                    "acronyms": self.acronyms,
                    "readings": self.readings,
                    "tokenizer": TOKENIZER_VERSION,
                },
                sort_keys=True,  # the same index writes the same file
            ),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, directory: Path) -> Bm25Index:
        """Read an index written by `save`."""
        meta = json.loads((directory / "ids.json").read_text(encoding="utf-8"))
        model = bm25s.BM25.load(str(directory), show_progress=False) if meta["ids"] else None
        return cls(
            meta["ids"],
            model,
            meta["doc_freq"],
            meta.get("corrections"),
            meta.get("acronyms"),
            meta.get("readings"),
        )

    @staticmethod
    def is_current(directory: Path) -> bool:
        """Whether `directory` holds an index built with today's tokenisation."""
        path = directory / "ids.json"
        if not path.is_file():
            return False
        return json.loads(path.read_text(encoding="utf-8")).get("tokenizer") == TOKENIZER_VERSION

    def readable(self, text: str) -> str:
        """`text` with the corpus's OCR misreadings read as the words meant ("fravail" →
        "travail", "Numerique" → "Numérique"), for a reader; the passages keep their text."""
        if not self.readings:
            return text

        def read(match: re.Match) -> str:
            word = match.group(0)
            meant = self.readings.get(word.lower())
            if meant is None:
                return word
            if word.isupper() and len(word) > 1:
                return meant.upper()
            return meant[0].upper() + meant[1:] if word[0].isupper() else meant

        return _WORD.sub(read, text)

    def idf(self, token: str) -> float:
        """Inverse document frequency; unseen tokens get the highest value."""
        n = len(self.ids)
        df = self.doc_freq.get(token, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def variants(self, token: str) -> list[str]:
        """Indexed spellings of a token the index lacks: OCR turns "arcom" into "carcom",
        and the stemmer leaves "accompagnent" whole beside the corpus's "accompagn".

        Only for tokens of five letters or more, so short words do not drift.
        """
        if token in self.doc_freq or len(token) < 5 or token.isdigit():
            return []
        if token not in self._variants:
            self._variants[token] = difflib.get_close_matches(
                token, self._vocabulary, n=2, cutoff=0.8
            )
        return self._variants[token]

    def query_tokens(self, query: str) -> list[str]:
        """The query's tokens, read as the corpus reads them, with each acronym the corpus
        defines completed by its other form ("DPO" brings "délégué protection données",
        and the long form brings "dpo")."""
        tokens = [part for t in tokenize(query) for part in self.split(self.corrections.get(t, t))]
        present = set(tokens)
        for short, long in self._expansions:
            if short and set(short) <= present:
                added = [t for t in long if t not in present]
            elif long and set(long) <= present:
                added = [t for t in short if t not in present]
            else:
                continue
            tokens.extend(added)  # a form the query already has (expanded) weighs once
            present.update(added)
        return tokens

    def split(self, token: str) -> list[str]:
        """A name and its number typed as one word ("nis2") as the corpus writes them, apart
        ("NIS 2"), when it knows both and not the joined form."""
        match = _NAME_NUMBER.match(token)
        if match is None or token in self.doc_freq:
            return [token]
        parts = list(match.groups())
        return parts if all(p in self.doc_freq for p in parts) else [token]

    def search(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Best (id, score) pairs with a positive score, optionally within `allowed` ids."""
        if self.model is None:
            return []
        tokens = self.query_tokens(query)
        tokens = [v for t in tokens for v in [t, *self.variants(t)]]
        tokens = [t for t in tokens if t in self.model.vocab_dict]
        if not tokens:
            return []
        scores = self.model.get_scores(tokens)
        order = np.argsort(-scores)
        results = []
        for i in order:
            if scores[i] <= 0 or len(results) >= k:
                break
            if allowed is None or self.ids[i] in allowed:
                results.append((self.ids[i], float(scores[i])))
        return results
