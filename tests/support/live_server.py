"""`runstream serve` in a subprocess, on a free port, for tests over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from tests.support.polling import poll

ROOT = Path(__file__).resolve().parents[2]
TAKEOVER_WORKER = "runstream.entrypoints.live.takeover.TakeoverWorker"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A running server; `url` is its base URL. Stop it with `stop()`."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int = 1,
        gunicorn_app: str | None = None,
        log: Path | None = None,
    ) -> None:
        """`runstream serve`, or with `gunicorn_app` ("module:factory()") that
        app under gunicorn with the worker class `runstream serve` uses. Its
        output goes to a temporary file, or to `log`, kept after it stops."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # read until stop(), then closed with the object
        self.log = open(log, "w+b") if log else tempfile.TemporaryFile()  # noqa: SIM115
        full_env = {**os.environ, "RUNSTREAM_HEARTBEAT_SECONDS": "0.3", **env}
        command = [sys.executable, "-m", "runstream.entrypoints.cli", "serve"]
        command += ["--port", str(self.port)]
        command += ["--workers", str(workers)]
        if gunicorn_app is not None:
            command = [sys.executable, "-m", "gunicorn", gunicorn_app]
            command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]
            command += ["--worker-class", f"{TAKEOVER_WORKER}"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=self.log, stderr=self.log
        )
        self._await_health()

    def _await_health(self, timeout: float = 30.0) -> None:

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            try:
                return requests.get(self.url + "/healthz", timeout=1).status_code == 200
            except (requests.ConnectionError, requests.Timeout):
                return False

        if poll(healthy, timeout, interval=0.05):
            return
        self.stop()
        raise RuntimeError(f"server never became healthy:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
