"""`assistant serve`: the port taken first, then the corpus indexed, then workers that a
supervisor restarts when one dies.

The socket is bound (and listening) before anything slow happens, so a port already in
use is reported at once rather than after minutes of indexing, and requests arriving
while a worker starts wait in the backlog. Workers are uvicorn processes under uvicorn's
own supervisor (`Multiprocess`), even when there is one: a worker killed by the system
or by a native crash is replaced within seconds, and one that stops answering its
supervisor's health pings is killed and replaced.
"""

from __future__ import annotations

import socket

from assistant.errors import ConfigurationError

APP_FACTORY = "assistant.serving.api:create_app"  # each worker builds the app from ASSISTANT_*
# Seconds a worker may leave its supervisor's ping unanswered before it is deemed hung and
# replaced. A worker starting on a busy machine (a fresh interpreter, then the imports)
# takes longer than uvicorn's 5 s default, and was killed in a loop.
HEALTHCHECK_S = 30


class PortInUseError(ConfigurationError):
    """The address to serve on cannot be bound."""

    code = "port_in_use"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or PortInUseError saying how to pick another port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise PortInUseError(
            f"Impossible d'écouter sur {host}:{port} ({exc.strerror}) : le port est "
            f"peut-être déjà pris. Choisissez-en un autre : assistant serve --port 8080, "
            f"ou ASSISTANT_PORT=8080 make run."
        ) from exc
    return sock


def run_workers(sock: socket.socket, workers: int, log_level: str = "info") -> None:
    """Serve the app on `sock` with `workers` supervised processes until SIGINT/SIGTERM."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_worker_healthcheck=HEALTHCHECK_S,
    )
    Multiprocess(config, sockets=[sock]).run()
