"""Load test: the real server on loopback, N concurrent clients for T seconds on /api/ask.

Starts `assistant serve` as a child process on a free port of 127.0.0.1, on the index of
corpus/ (built under `<data_dir>/bench/load` unless --data-dir names one), with the rate
limit off so that it measures the server, not the limiter. Each client asks questions
from a rotating list, one after the other, until the time or the request budget is spent.
Prints requests, throughput, latency percentiles, errors by status and the server's
memory (RSS from /proc) before and after.

`python -m benchmarks.load [--clients 20] [--seconds 60] [--max-requests 100000]`
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from assistant.settings import PROJECT_ROOT, Settings
from benchmarks.scale import rss_mb
from evals.metrics import percentile
from ingest.index import ingest

# Everyday questions of agents, in French; not the evaluation's gold questions.
QUESTIONS = [
    "Notre commune de 4 000 habitants doit-elle publier ses données en open data ?",
    "Quelles sont les obligations d'accessibilité numérique pour le site de la mairie ?",
    "Comment mettre en place une stratégie numérique responsable dans une agglomération ?",
    "Que change la directive NIS 2 pour une communauté de communes ?",
    "Qui peut nous aider à sécuriser nos systèmes d'information contre les rançongiciels ?",
    "Quelles sanctions en cas de non-respect du RGAA ?",
    "Faut-il désigner un délégué à la protection des données dans une petite commune ?",
    "Comment les collectivités utilisent-elles l'intelligence artificielle ?",
    "Quel est le calendrier des prochaines réunions plénières ?",
    "Comment réduire l'empreinte environnementale de notre parc informatique ?",
    "Quelles aides existent pour l'inclusion numérique des habitants ?",
    "Does a small municipality need an accessibility statement?",
]
SERVER_START_S = 180.0  # model loading included
REQUEST_TIMEOUT_S = 60.0


@dataclass
class LoadResult:
    """What a load run measured."""

    clients: int
    seconds: float
    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # "HTTP 503", "ReadTimeout"…
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    rss_peak_mb: float = 0.0

    @property
    def throughput(self) -> float:
        """Requests answered (any status) per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in ms (nearest rank) of the successful requests."""
        value = percentile(self.latencies_ms, q)
        return float("nan") if value is None else value

    def server_errors(self) -> int:
        """Responses with a 5xx status."""
        return sum(n for kind, n in self.errors.items() if kind.startswith("HTTP 5"))

    def summary(self) -> dict:
        """The figures, rounded, for printing or JSON."""
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "ok": len(self.latencies_ms),
            "throughput_rps": round(self.throughput, 2),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "errors": dict(self.errors),
            "rss_before_mb": round(self.rss_before_mb, 1),
            "rss_after_mb": round(self.rss_after_mb, 1),
            "rss_growth_mb": round(self.rss_after_mb - self.rss_before_mb, 1),
            "rss_peak_mb": round(self.rss_peak_mb, 1),
        }


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(settings: Settings, log_path: Path) -> Iterator[tuple[str, int]]:
    """`assistant serve` as a child process on loopback; yields (base URL, pid)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_DATA_DIR=str(settings.data_dir),
        ASSISTANT_CORPUS_DIR=str(settings.corpus_dir),
        ASSISTANT_EMBEDDER=settings.embedder,
        ASSISTANT_RATE_LIMIT_PER_MINUTE="0",  # measure the server, not the limiter
        PYTHONPATH=str(PROJECT_ROOT),
    )
    command = [sys.executable, "-m", "assistant.cli", "serve", "--no-index", "--port", str(port)]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, env=env, cwd=settings.data_dir, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"The server exited with code {server.returncode}.")
        try:
            if httpx.get(f"{url}/api/health", timeout=5).json().get("status") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"The server did not answer within {SERVER_START_S:.0f} s.")


def run_clients(url: str, clients: int, seconds: float, max_requests: int) -> LoadResult:
    """`clients` threads asking questions until `seconds` or `max_requests` are spent."""
    result = LoadResult(clients=clients, seconds=seconds)
    lock = threading.Lock()
    budget = iter(range(max_requests))
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as http:
            n = index
            while time.monotonic() < deadline:
                with lock:
                    if next(budget, None) is None:
                        return
                question = QUESTIONS[n % len(QUESTIONS)]
                n += clients
                started = time.perf_counter()
                try:
                    response = http.post("/api/ask", json={"question": question})
                    outcome = (
                        None if response.status_code == 200 else f"HTTP {response.status_code}"
                    )
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                elapsed_ms = (time.perf_counter() - started) * 1000
                with lock:
                    result.requests += 1
                    if outcome is None:
                        result.latencies_ms.append(elapsed_ms)
                    else:
                        result.errors[outcome] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_S + 10)
    result.seconds = time.monotonic() - started
    return result


def run_load(
    settings: Settings, clients: int, seconds: float, max_requests: int, log_path: Path
) -> LoadResult:
    """Serve the index of `settings` and measure it under `clients` concurrent clients."""
    with running_server(settings, log_path) as (url, pid):
        httpx.post(f"{url}/api/ask", json={"question": QUESTIONS[0]}, timeout=120)  # warm-up
        rss_before = rss_mb(pid)
        result = run_clients(url, clients, seconds, max_requests)
        result.rss_before_mb = rss_before
        result.rss_after_mb = rss_mb(pid)
        result.rss_peak_mb = rss_mb(pid, "VmHWM")
    return result


def report(summary: dict) -> str:
    """The figures as a Markdown table."""
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(summary["errors"].items())) or "0"
    rows = [
        ("Clients × durée", f"{summary['clients']} × {summary['seconds']} s"),
        ("Requêtes (réussies)", f"{summary['requests']} ({summary['ok']})"),
        ("Débit", f"{summary['throughput_rps']} req/s"),
        (
            "Latence p50 / p95 / p99",
            f"{summary['p50_ms']} / {summary['p95_ms']} / {summary['p99_ms']} ms",
        ),
        ("Erreurs", errors),
        (
            "RSS serveur avant → après (pic)",
            f"{summary['rss_before_mb']} → "
            f"{summary['rss_after_mb']} Mo (+{summary['rss_growth_mb']} Mo ; pic "
            f"{summary['rss_peak_mb']} Mo)",
        ),
    ]
    lines = ["| Mesure | Valeur |", "|---|---|", *[f"| {k} | {v} |" for k, v in rows]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Build or update the index, run the load test, print and save the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=60, help="duration of the test")
    parser.add_argument("--max-requests", type=int, default=100_000, help="request budget")
    parser.add_argument("--data-dir", type=Path, help="an indexed data directory to serve")
    args = parser.parse_args(argv)
    settings = Settings()
    out_dir = settings.data_dir / "bench"
    data_dir = args.data_dir or out_dir / "load"
    settings = settings.model_copy(update={"data_dir": data_dir, "chroma_url": None})
    if args.data_dir is None:
        print("Index of corpus/ …", file=sys.stderr)
        print(ingest(settings.corpus_dir, settings, progress=False).summary(), file=sys.stderr)
    print(f"Load: {args.clients} clients × {args.seconds:.0f} s on /api/ask …", file=sys.stderr)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = run_load(
        settings, args.clients, args.seconds, args.max_requests, out_dir / "load-server.log"
    )
    summary = result.summary()
    (out_dir / "load.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(report(summary))
    print(f"\nResults in {out_dir / 'load.json'}; server log in {out_dir / 'load-server.log'}")
    return summary


if __name__ == "__main__":
    main()
