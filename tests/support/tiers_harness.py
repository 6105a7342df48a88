"""A service on a Redis it does not share (so tests can stop, freeze and restart
it) over an SQLite archive, with helpers to drive runs through the outage."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.support.live_server import LiveServer
from tests.support.polling import wait_until
from tests.support.redis_server import RedisServer
from tests.support.sql_backend import fresh_sqlite_url
from tests.support.sse_client import follow

REDIS_TIMEOUT = 0.5


OUTPUT_LINES = 300  # of the service's output, shown when a test fails


@contextlib.contextmanager
def tiered_service(redis: RedisServer, **env: str) -> Iterator[LiveServer]:
    with fresh_sqlite_url() as database:
        live = LiveServer(
            {
                "RUNSTREAM_EVENT_LOG": "redis",
                "RUNSTREAM_RUN_REPOSITORY": "sql",
                "RUNSTREAM_DATABASE_URL": database,
                "RUNSTREAM_REDIS_URL": redis.url,
                "RUNSTREAM_REDIS_TIMEOUT_SECONDS": str(REDIS_TIMEOUT),
                **env,
            }
        )
        try:
            yield live
        except BaseException:
            live.stop()  # its output then ends with how it stopped
            print(f"--- the service's output (last {OUTPUT_LINES} lines) ---")
            print("\n".join(live.output().splitlines()[-OUTPUT_LINES:]))
            raise
        finally:
            live.stop()


def history(base_url: str, run_id: int, start: str = "-") -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while start is not None:
        page = requests.get(
            f"{base_url}/runs/{run_id}/events",
            params={"start_id": start, "limit": 10000},
            timeout=30,
        )
        assert page.status_code == 200, page.text
        body = page.json()
        events.extend(body["events"])
        start = body["next_id"]
    return events


def await_status(base_url: str, run_id: int, timeout: float = 60.0) -> str:

    def ended() -> str | None:
        status = requests.get(f"{base_url}/runs/{run_id}", timeout=10).json()["status"]
        return None if status in ("pending", "running") else str(status)

    return wait_until(ended, f"run {run_id} to end", timeout, interval=0.05)


@dataclass
class Producer:
    """An external producer appending one event at a time until stopped,
    recording every acknowledged id, every status and the slowest request."""

    base_url: str
    run_id: int
    acknowledged: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    slowest: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        number = 0
        while not self.stop.is_set():
            number += 1
            began = time.monotonic()
            reply = requests.post(
                f"{self.base_url}/runs/{self.run_id}/events",
                json={"event": {"category": "system", "action": "tick"},
                      "data": {"n": number}},
                timeout=30,
            )  # fmt: skip
            self.slowest = max(self.slowest, time.monotonic() - began)
            self.statuses.append(reply.status_code)
            if reply.status_code == 201:
                self.acknowledged.extend(reply.json()["ids"])
            time.sleep(0.005)


@dataclass
class Subscriber:
    """Follows a run like EventSource until `close`, reconnecting with
    Last-Event-ID whenever the server ends the stream early."""

    base_url: str
    run_id: int
    frames: list[Any] = field(default_factory=list)
    reconnects: int = 0

    def run(self) -> None:
        self.frames, self.reconnects = follow(
            self.base_url, f"/runs/{self.run_id}/events/stream"
        )


def start_thread(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread
