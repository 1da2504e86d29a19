"""`streamlit run app.py` in a subprocess, for the browser tests: start, wait until healthy, stop.

The command line is Streamlit's own e2e one (headless, no usage stats, no file watcher) on a
free loopback port. The server runs in its own process group, so stopping it also ends any
training worker it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 60.0
CHROMIUM = Path("/usr/bin/chromium")
# Headless and quiet: this machine's closed network refuses Chromium's background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


def _stop(server: subprocess.Popen) -> None:
    """Terminate the server's whole process group, then kill it if it lingers."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


class ServerError(RuntimeError):
    """The app server did not come up; the message carries the end of its output."""


def _log_tail(log: IO[str], lines: int = 40) -> str:
    log.flush()
    log.seek(0)
    return "\n".join(log.read().splitlines()[-lines:]) or "(no output)"


@contextmanager
def running_app(
    models_dir: Path, log: IO[str] | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """The base URL of app.py served with STREAMREC_MODELS_DIR=`models_dir` (and any extra
    `env`, e.g. STREAMREC_VIEWER=1), until exit.

    The server's output goes to `log` (a temporary file by default). ServerError, with the
    end of that output, if it is not healthy within SERVER_START_SECONDS.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "app.py"]
    command += ["--server.headless", "true", "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port), "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none"]
    with contextlib.ExitStack() as stack:
        if log is None:
            log = stack.enter_context(tempfile.TemporaryFile(mode="w+"))
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "STREAMREC_MODELS_DIR": str(models_dir), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole, workers included
        )
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            while not _healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise ServerError(
                        f"streamlit did not become healthy at {url}:\n{_log_tail(log)}"
                    )
                time.sleep(0.25)
            yield url
        finally:
            _stop(server)
