"""The servers the SSE load benchmark measures, besides nginx+Nchan (nchan.py):
`runstream serve` on a Redis event log, and the naive one-XREAD-per-subscriber
server (benchmarks.naive_sse). Events go straight into Redis for both."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

import requests

from benchmarks.load_parts import children_of
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.model import NewEvent
from tests.support.live_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ServerProcess:
    """A server started with `--port`; its worker processes do the work."""

    name = ""

    def __init__(self, command: list[str], env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)], cwd=ROOT,
            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.session = requests.Session()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.session.get(self.url + "/healthz", timeout=1)
                if len(self.workers()) >= workers:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)

    def workers(self) -> list[int]:
        return children_of(self.process.pid) or [self.process.pid]

    def held(self) -> int | None:
        """Connected subscribers as the server counts them."""
        try:
            text = self.session.get(self.url + "/metrics", timeout=5).text
        except requests.RequestException:
            return None
        for line in text.splitlines():
            if line.startswith("runstream_sse_subscribers "):
                return int(float(line.split()[1]))
        return None

    def end_runs(self, run_ids: list[int]) -> None:
        """The runs' terminal events end their streams (appended by the caller)."""

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.session.close()


class Runstream(ServerProcess):
    name = "runstream"

    def __init__(self, redis_url: str, log: RedisStreamEventLog, workers: int) -> None:
        self._log = log
        self._db = tempfile.mkdtemp(prefix="sse-load-runs-")
        env = {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_REDIS_URL": redis_url,
            "RUNSTREAM_RUN_REPOSITORY": "sql",  # shared by the workers
            "RUNSTREAM_DATABASE_URL": f"sqlite:///{self._db}/runs.db",
            "RUNSTREAM_EVENT_ARCHIVE": "none",
        }
        command = [sys.executable, "-m", "runstream.entrypoints.cli", "serve"]
        super().__init__([*command, "--workers", str(workers)], env, workers)

    def make_runs(self, count: int) -> list[int]:
        url = f"{self.url}/runs"
        made = [self.session.post(url, json={"task": "bench"}) for _ in range(count)]
        return [response.json()["id"] for response in made]

    def append(self, run_id: int, events: list[NewEvent]) -> None:
        self._log.append(run_id, events)

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self._db, ignore_errors=True)


class Naive(ServerProcess):
    name = "naive XREAD"

    def __init__(self, redis_url: str, log: RedisStreamEventLog, workers: int) -> None:
        self._log = log
        self._next = 10_000_000
        command = [sys.executable, "-m", "benchmarks.naive_sse", "--redis", redis_url]
        super().__init__(command, {}, 1)

    def make_runs(self, count: int) -> list[int]:
        from runstream.application.start_run import started_event
        from runstream.domain.model import Run

        ids = list(range(self._next, self._next + count))
        self._next += count
        for run_id in ids:
            self._log.append(run_id, [started_event(Run(task="bench", id=run_id))])
        return ids

    def append(self, run_id: int, events: list[NewEvent]) -> None:
        self._log.append(run_id, events)
