"""The « Mes obligations » tab: every rule of the corpus with its verdict for the profile set
above the tabs, grouped by theme and sorted by deadline, with its citation, a Markdown
export and a print stylesheet. The list comes from the library (`assistant.obligations`);
this module only reads the profile's fields and renders."""

from __future__ import annotations

import html
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.obligations import (
    MISSING_LABELS,
    VERDICT_LABELS,
    Obligation,
    ObligationsReport,
    describe_profile,
    obligations_for,
    obligations_markdown,
    resolve_kind,
    rule_said,
)
from assistant.schemas import Profile

log = logging.getLogger(__name__)

_KEEP_S = 3600  # exports older than this are removed when a new one is written
_SYMBOLS = {"applies": "✓", "depends": "?", "does_not_apply": "✗"}
_HEADERS = ["Obligation", "Verdict", "Échéance", "Sanction", "Source"]

# Scoped to the report; on paper only the report is printed, in black on white.
STYLE = """
<style>
#obligations-report { line-height: 1.45; }
#obligations-report .obligations-summary { display: flex; flex-wrap: wrap; gap: 8px 18px;
  padding: 0; list-style: none; margin: 4px 0 12px; }
#obligations-report .obligations-table { width: 100%; border-collapse: collapse;
  font-size: 0.92em; margin-bottom: 18px; }
#obligations-report caption { text-align: left; font-weight: 600; padding: 2px 0 6px; }
#obligations-report th, #obligations-report td { border-bottom: 1px solid #d1d5db;
  padding: 6px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
#obligations-report th { white-space: nowrap; overflow-wrap: normal; }
#obligations-report .verdict { display: inline-block; font-weight: 700; border-radius: 6px;
  padding: 1px 8px; border: 1px solid currentColor; white-space: nowrap; }
#obligations-report .verdict-applies { color: #14532d; background: #dcfce7; }
#obligations-report .verdict-depends { color: #78350f; background: #fef3c7; }
#obligations-report .verdict-does_not_apply { color: #374151; background: #f3f4f6; }
#obligations-report .reason, #obligations-report .opening { display: block; font-size: 0.9em;
  color: #374151; margin-top: 2px; }
#obligations-report cite { font-style: normal; font-weight: 600; }
@media (max-width: 640px) {
  #obligations-report thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  #obligations-report tr { display: block; border-bottom: 2px solid #d1d5db; padding: 6px 0; }
  #obligations-report td { display: flex; gap: 8px; border: 0; padding: 2px 4px; }
  #obligations-report td::before { content: attr(data-label); flex: 0 0 6.5em;
    font-weight: 600; }
}
@media print {
  body * { visibility: hidden !important; }
  #obligations-print, #obligations-export, #obligations-help { display: none !important; }
  #obligations-report, #obligations-report * { visibility: visible !important; }
  #obligations-report { position: absolute; left: 0; top: 0; width: 100%; color: #000;
    font-size: 11pt; }
  #obligations-report .verdict { background: none !important; color: #000 !important; }
  #obligations-report th, #obligations-report td { border-bottom: 1px solid #000; }
  #obligations-report tr, #obligations-report caption { break-inside: avoid; }
  #obligations-report h3 { break-after: avoid; }
}
</style>
"""


def profile_from_fields(*values) -> Profile:
    """The profile from the shared fields' values: kind, population, then agents if shown."""
    kind, population, agents = (list(values) + [None, None, None])[:3]
    try:
        kind = resolve_kind(kind) if isinstance(kind, str) else None
    except AssistantError:
        kind = None  # the dropdown's « (non précisé) »
    return Profile(
        kind=kind,
        population=int(population) if population is not None else None,
        agents=int(agents) if agents is not None else None,
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _row(item: Obligation, said: Callable[[str], str]) -> str:
    rule = item.rule
    label = VERDICT_LABELS["fr"][item.verdict]
    if item.verdict == "depends":
        label += " : " + ", ".join(MISSING_LABELS["fr"][m] for m in item.missing)
    verdict = (
        f"<span class='verdict verdict-{item.verdict}'>"
        f"<span aria-hidden='true'>{_SYMBOLS[item.verdict]} </span>{_e(label)}</span>"
        f"<span class='reason'>{_e(item.reason)}</span>"
    )
    for other in item.differing:
        verdict += (
            f"<span class='reason'>Un autre document dit autrement : {_e(said(other))}</span>"
        )
    source = rule.source
    place = _e(source.locator or (f"p. {source.page}" if source.page else ""))
    citation = (
        f"<cite>{_e(source.title)}</cite>{', ' + place if place else ''}"
        f"<span class='opening'>Début du passage : « {_e(source.opening)} »</span>"
    )
    cells = [
        _e(rule.asks),
        verdict,
        _e(rule.deadline or "non précisée"),
        _e(rule.sanction or "non précisée"),
        citation,
    ]
    tds = "".join(
        f"<td data-label='{_e(h)}'>{c}</td>" for h, c in zip(_HEADERS, cells, strict=True)
    )
    return f"<tr>{tds}</tr>"


def render_report(report: ObligationsReport) -> str:
    """The report as accessible HTML: a heading per theme, a captioned table each."""
    labels = VERDICT_LABELS["fr"]
    who = describe_profile(report.profile)
    parts = [
        STYLE,
        "<section id='obligations-report' aria-labelledby='obligations-title'>",
        f"<h2 id='obligations-title'>Mes obligations — {_e(who)}</h2>",
        "<p>Chaque règle relevée dans les documents indexés, avec son verdict pour votre "
        "collectivité. À vérifier auprès des textes officiels.</p>",
        "<ul class='obligations-summary' aria-label='Synthèse'>",
        *(
            f"<li><strong>{report.counts[v]}</strong> {_e(labels[v].lower())}</li>"
            for v in ("applies", "depends", "does_not_apply")
        ),
        "</ul>",
    ]
    if not report.themes:
        parts.append("<p>Aucune règle d'obligation n'a été relevée dans les documents indexés.</p>")
    header = "".join(f"<th scope='col'>{_e(h)}</th>" for h in _HEADERS)
    for group in report.themes:
        count = len(group.obligations)
        parts += [
            f"<h3>{_e(group.theme)}</h3>",
            "<table class='obligations-table'>",
            f"<caption>{_e(group.theme)} : {count} règle{'s' if count > 1 else ''}, "
            "triées par échéance</caption>",
            f"<thead><tr>{header}</tr></thead><tbody>",
            *(_row(item, lambda rule_id: rule_said(report, rule_id)) for item in group.obligations),
            "</tbody></table>",
        ]
    parts.append("</section>")
    return "\n".join(parts)


def write_markdown(folder: Path, markdown: str) -> Path:
    """The export as a file only the server's user can read; old exports are removed."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    cutoff = time.time() - _KEEP_S
    for old in folder.glob("mes-obligations-*.md"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass  # removed by another request meanwhile
    path = folder / f"mes-obligations-{uuid.uuid4().hex[:12]}.md"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    with os.fdopen(os.open(path, flags, 0o600), "w", encoding="utf-8") as out:
        out.write(markdown)
    return path


def build_obligations_tab(
    get_assistant: Callable[[], Assistant],
    profile_inputs: list[gr.components.Component],
    export_dir: Path,
) -> gr.Tab:
    """The « Mes obligations » tab (to be built inside the page's `gr.Tabs`); it follows
    the shared profile fields `profile_inputs` (kind, population, and agents if any)."""

    def show(*values):
        profile = profile_from_fields(*values)
        try:
            assistant = get_assistant()
            report = obligations_for(
                assistant.rulebook.rules, profile, acronyms=assistant.retriever.lexical.acronyms
            )
        except AssistantError as exc:
            message = f"<p role='alert'>Liste indisponible : {_e(exc)}</p>"
            return message, gr.update(value=None)
        except Exception:  # never a stack trace in front of a person
            log.exception("Listing obligations failed")
            return "<p role='alert'>Erreur interne : réessayez.</p>", gr.update(value=None)
        path = write_markdown(export_dir, obligations_markdown(report))
        return render_report(report), gr.update(value=str(path))

    with gr.Tab("Mes obligations", id="obligations") as tab:
        gr.Markdown(
            "Le type, la population et le nombre d'agents se règlent une seule fois, en haut "
            "de la page : la discussion et cette liste les utilisent tous deux.",
            elem_id="obligations-help",
        )
        with gr.Row():
            download = gr.DownloadButton(
                "Télécharger en Markdown", value=None, elem_id="obligations-export", size="sm"
            )
            print_button = gr.Button("Imprimer", size="sm", elem_id="obligations-print")
        report = gr.HTML("", elem_id="obligations", padding=False)
    outputs = [report, download]
    tab.select(show, profile_inputs, outputs)
    for component in profile_inputs:
        component.change(show, profile_inputs, outputs, show_progress="hidden")
    print_button.click(None, js="() => window.print()")
    return tab
