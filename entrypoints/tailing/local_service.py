"""A `runstream serve` child process, for `runstream demo` (and tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

START_SECONDS = 30.0
STOP_SECONDS = 15.0


class ServiceFailed(Exception):
    """The service did not come up; the message ends with its last log lines."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class LocalService:
    """`runstream serve` on host:port in a child process, its output in a log file."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        command: list[str] | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.env = dict(os.environ if env is None else env)
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="runstream-serve-")[1])
        self.command = command or [
            sys.executable,
            "-m",
            "runstream.entrypoints.cli",
            "serve",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = START_SECONDS) -> None:
        """Start the server and return once `/healthz` answers."""
        command = [*self.command, "--host", self.host, "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        deadline = time.monotonic() + timeout
        while not healthy(self.url):
            if self.process.poll() is not None:
                raise ServiceFailed(f"the service exited ({self.process.returncode})")
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceFailed(f"no answer on {self.url} after {timeout:g} s")
            time.sleep(0.05)

    def stop(self) -> None:
        """Ask the server to stop (SIGTERM, graceful), then kill it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])
