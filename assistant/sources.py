"""The documents a question names: "l'étude de 2017", "le Flash de l'ANPP", "the slides".

A question comparing sources names them by what their metadata says: words of the title or
of the publisher, the year of the date, the kind of document. Only words that single out a
document count: a word found in the names of most documents, or in much of the corpus text
("collectivités", "numérique"), names none of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from assistant.retrieval.lexical import Bm25Index, tokenize

# How a question names each kind of document the manifest knows.
KIND_WORDS = {
    "slides": "diaporama diapositives présentation slides deck presentation",
    "meeting-report": "compte-rendu compte rendu procès-verbal minutes",
    "study": "étude study",
    "survey-brief": "enquête sondage survey",
    "thematic-synthesis": "synthèse thématique",
    "report": "rapport report",
    "guide": "guide",
    "law": "loi décret law decree",
}
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
MAX_CORPUS_SHARE = 0.1  # a word in more of the passages than this is a topic, not a name


def name_tokens(meta: Mapping[str, object]) -> set[str]:
    """Tokens that name a document: its title, publisher, kind and year."""
    kind = str(meta.get("kind") or "")
    text = " ".join(str(meta.get(key) or "") for key in ("title", "publisher"))
    names = set(tokenize(f"{text} {KIND_WORDS.get(kind, '')}"))
    return names | set(_YEAR.findall(str(meta.get("date") or "")))


def named_documents(
    question: str, catalog: Mapping[str, Mapping[str, object]], lexical: Bm25Index
) -> list[str]:
    """Identifiers of the documents the question names, in catalog order.

    `catalog` maps each document id to its metadata (title, kind, date, publisher).
    """
    if len(catalog) < 2:
        return []
    names = {doc_id: name_tokens(meta) for doc_id, meta in catalog.items()}
    asked = set(tokenize(question)) | set(_YEAR.findall(question))
    passages = max(len(lexical.ids), 1)
    named = []
    for doc_id, tokens in names.items():
        for token in tokens & asked:
            holders = sum(token in other for other in names.values())
            common = lexical.doc_freq.get(token, 0) / passages > MAX_CORPUS_SHARE
            if holders <= len(names) // 2 and not common:
                named.append(doc_id)
                break
    return named


def without_names(question: str, catalog: Mapping[str, Mapping[str, object]]) -> str:
    """The question without the words naming documents: what to look for inside each."""
    names = set().union(*(name_tokens(meta) for meta in catalog.values()))
    kept = [w for w in question.split() if not (set(tokenize(w)) | set(_YEAR.findall(w))) & names]
    return " ".join(kept)
