"""A corpus that is not ours, for the obligations tests: one PDF with two rules of different
kinds and thresholds (one with a deadline and a sanction) and one sentence that only
encourages."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import make_pdf

SOBRIETY = (
    "Les communes de plus de 10 000 habitants doivent publier un schéma de sobriété "
    "numérique avant le 1er juillet 2027."
)
SANCTION = "En cas de manquement, une amende de 20 000 € peut être prononcée."
ENCOURAGED = "Les communes de moins de 10 000 habitants sont encouragées à publier un tel schéma."
REFERENT = (
    "Les départements de plus de 200 agents sont tenus de désigner un référent pour la "
    "cybersécurité."
)
PAGES = [
    "Guide des règles numériques des territoires\n\n"
    "Ce guide rassemble les règles applicables aux collectivités.",
    f"Sobriété numérique\n\n{SOBRIETY} {SANCTION}\n\n{ENCOURAGED}",
    f"Sécurité des systèmes d'information\n\n{REFERENT}",
]
TITLE = "Guide des règles numériques des territoires"


def write_rules_corpus(folder: Path) -> Path:
    """The guide as a real PDF and its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    make_pdf(folder / "guide-regles.pdf", PAGES, title=TITLE)
    manifest = {"documents": [{"file": "guide-regles.pdf", "title": TITLE, "kind": "guide"}]}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return folder
