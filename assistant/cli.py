"""Command line: `assistant ingest | ask | serve | eval`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from assistant.errors import AssistantError
from assistant.settings import Settings

app = typer.Typer(help="Assistant numérique des territoires.", no_args_is_help=True)


def _fail(exc: AssistantError) -> None:
    typer.secho(f"Erreur : {exc}", fg="red", err=True)
    raise typer.Exit(1)


@app.command()
def ingest(
    path: Annotated[
        Path | None, typer.Argument(help="Dossier ou fichier (défaut : corpus/)")
    ] = None,
) -> None:
    """Index a folder or a file; only what changed is embedded again."""
    from ingest.index import ingest as run_ingest

    settings = Settings()
    try:
        report = run_ingest(path or settings.corpus_dir, settings)
    except AssistantError as exc:
        _fail(exc)
    for _, message in report.errors:
        typer.secho(f"Ignoré : {message}", fg="yellow", err=True)
    typer.echo(report.summary())


@app.command()
def ask(
    question: str,
    as_json: Annotated[bool, typer.Option("--json", help="Réponse JSON complète")] = False,
) -> None:
    """Ask one question and print the cited answer."""
    from assistant.core import build_assistant

    try:
        response = build_assistant(Settings()).ask(question)
    except AssistantError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(response.model_dump(), ensure_ascii=False, indent=2))
        return
    typer.echo(response.answer)
    for c in response.citations:
        typer.echo(f"[{c.n}] {c.title} — {c.locator}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    index: Annotated[bool, typer.Option(help="Indexer corpus/ s'il a changé")] = True,
    workers: Annotated[
        int | None, typer.Option(help="Processus de service (défaut : ASSISTANT_WORKERS)")
    ] = None,
) -> None:
    """Serve the chat UI at / and the API at /api (docs at /docs), restarting a dead worker."""
    from assistant.server import bind, run_workers
    from ingest.index import IndexBusyError, index_version
    from ingest.index import ingest as run_ingest

    settings = Settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host, port = host or settings.host, port or settings.port
    try:
        sock = bind(host, port)  # before indexing: a taken port is said at once
    except AssistantError as exc:
        _fail(exc)
    if index:
        typer.echo(
            f"Indexation de {settings.corpus_dir} (la première fois : quelques minutes ; "
            "ensuite, seuls les fichiers modifiés)…"
        )
        try:
            typer.echo(run_ingest(settings.corpus_dir, settings).summary())
        except IndexBusyError as exc:
            # Another process is indexing: serve what is published; its result is picked
            # up as soon as it is published.
            served = index_version(settings.index_dir)
            now = f"l'index publié ({served})" if served else "aucun index pour l'instant"
            typer.secho(
                f"{exc} Le serveur démarre sur {now} et prendra le nouvel index dès sa "
                "publication.",
                fg="yellow",
                err=True,
            )
        except AssistantError as exc:
            _fail(exc)
    typer.echo(f"Assistant prêt : http://{host}:{port}/ (API : http://{host}:{port}/docs)")
    run_workers(sock, workers or settings.workers)


@app.command("eval")
def evaluate(
    url: Annotated[
        str | None, typer.Option(help="Évaluer un serveur en cours (ex. http://127.0.0.1:8000)")
    ] = None,
    gold: Annotated[Path | None, typer.Option(help="Fichier de référence JSONL")] = None,
    baseline: Annotated[bool, typer.Option(help="Comparer au RAG naïf")] = True,
    limit: Annotated[int | None, typer.Option(help="N'évaluer que les N premiers cas")] = None,
    refusal: Annotated[
        bool,
        typer.Option(
            help="Refuser quand la confiance est trop basse (--no-refusal : répondre à tout, "
            "pour mesurer les réponses seules ; en processus uniquement)"
        ),
    ] = True,
) -> None:
    """Score the assistant against the gold set and write the report."""
    from evals.gold import DEFAULT_GOLD
    from evals.run import main as run_eval
    from evals.run import summary_text

    if url and not refusal:
        typer.secho(
            "Erreur : --no-refusal évalue l'assistant en processus ; retirez --url.",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    settings = Settings()
    out_dir = settings.data_dir / "eval"
    try:
        report = run_eval(
            gold or DEFAULT_GOLD,
            url,
            out_dir,
            with_baseline=baseline,
            limit=limit,
            settings=settings,
            refusal=refusal,
        )
    except AssistantError as exc:
        _fail(exc)
    typer.echo(summary_text(out_dir))
    typer.echo(f"Rapport : {report} (et {report.with_suffix('.html').name})")


if __name__ == "__main__":
    app()
