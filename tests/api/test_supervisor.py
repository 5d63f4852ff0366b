"""`assistant serve` as a user runs it: the port checked first, a killed worker replaced."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from admin_http import small_index
from helpers import free_port

from assistant.server import PortInUseError, bind

pytestmark = pytest.mark.integration


def _environment(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_DATA_DIR=str(settings.data_dir),
        ASSISTANT_CORPUS_DIR=str(settings.corpus_dir),
        ASSISTANT_EMBEDDER="hash",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    return env


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(c) for c in children)
    return found


def _wait_healthy(url: str, timeout_s: float) -> float:
    """Seconds until /api/health answers 200; fails after timeout_s."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


def _is_worker(pid: int) -> bool:
    """True for a running worker: not a zombie its parent has yet to reap, nor
    multiprocessing's resource tracker."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and b"resource_tracker" not in cmdline


def _workers(parent: int, count: int, without: int = 0, timeout_s: float = 90) -> list[int]:
    """The supervisor's `count` workers, once `without` is no longer among them."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = [child for child in _children(parent) if _is_worker(child)]
        if len(workers) == count and without not in workers:
            return workers
        time.sleep(0.1)
    raise AssertionError(f"the supervisor does not have {count} workers")


def test_a_killed_worker_is_replaced_and_answers_again(tmp_path):
    """Two workers (the default): while the supervisor replaces the killed one, the other
    answers; the replacement is a new process."""
    workers = 2
    settings = small_index(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--no-index", "--port", str(port)]
        + ["--workers", str(workers)],
        env=_environment(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(url, 120)
        before = _workers(server.pid, workers)
        os.kill(before[0], signal.SIGKILL)
        answering_s = _wait_healthy(url, 90)
        after = _workers(server.pid, workers, without=before[0])
        assert set(after) - set(before)  # a new process took the killed one's place
        question = {"question": "Qui anime le groupe ?"}
        assert httpx.post(f"{url}/api/ask", json=question, timeout=30).status_code == 200
        print(f"{workers} worker(s): answering {answering_s:.1f} s after a SIGKILL")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_a_taken_port_is_reported_before_indexing(tmp_path):
    settings = small_index(tmp_path)
    (settings.corpus_dir / "nouveau.txt").write_text("Un document à indexer.", encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            env=_environment(settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert f"127.0.0.1:{port}" in run.stderr and "--port" in run.stderr
    assert "Indexation" not in run.stdout  # nothing was indexed before the port was checked


def test_bind_says_which_address_is_taken():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port}"):
            bind("127.0.0.1", port)
