"""Two `runstream serve` processes sharing one Redis and one MariaDB database
with the SQL fallback on; process A reaches Redis through a TCP proxy that a
test can cut. Helpers drive one run through both and check its log."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.schema import upgrade
from tests.services import require_mysql
from tests.support.live_server import LiveServer
from tests.support.redis_server import RedisServer
from tests.support.sql_backend import fresh_mysql_database
from tests.support.tcp_proxy import TcpProxy
from tests.support.tiers_harness import history

REDIS_TIMEOUT = 0.5


@dataclass
class Fleet:
    a: LiveServer
    b: LiveServer
    link_a: TcpProxy

    @property
    def urls(self) -> list[str]:
        return [self.a.url, self.b.url]


def migrated_mysql_database() -> contextlib.AbstractContextManager[str]:
    @contextlib.contextmanager
    def database() -> Iterator[str]:
        with fresh_mysql_database(require_mysql()) as url:
            engine = build_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url

    return database()


@contextlib.contextmanager
def fleet_of_two(redis: RedisServer, **env: str) -> Iterator[Fleet]:
    with migrated_mysql_database() as database:
        shared = {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_EVENT_LOG_FALLBACK": "sql",
            "RUNSTREAM_RUN_REPOSITORY": "sql",
            "RUNSTREAM_DATABASE_URL": database,
            "RUNSTREAM_REDIS_TIMEOUT_SECONDS": str(REDIS_TIMEOUT),
            **env,
        }
        link_a = TcpProxy(("127.0.0.1", redis.port))
        proxied = f"redis://127.0.0.1:{link_a.port}/0"
        servers: list[LiveServer] = []
        try:
            servers.append(LiveServer({**shared, "RUNSTREAM_REDIS_URL": proxied}))
            servers.append(LiveServer({**shared, "RUNSTREAM_REDIS_URL": redis.url}))
            yield Fleet(servers[0], servers[1], link_a)
        finally:
            for server in servers:
                server.stop()
            link_a.close()


@dataclass
class AlternatingProducer:
    """Appends numbered events to one run through each process in turn; an
    event refused by one process is retried through the next until stored."""

    urls: list[str]
    run_id: int
    acknowledged: list[tuple[str, int]] = field(default_factory=list)
    refusals: Counter[int] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        number, turn = 0, 0
        while not self.stop.is_set():
            number += 1
            while not self.stop.is_set():
                turn += 1
                url = self.urls[turn % len(self.urls)]
                if self._append(url, number):
                    break
                self.stop.wait(0.02)

    def _append(self, url: str, number: int) -> bool:
        try:
            reply = requests.post(
                f"{url}/runs/{self.run_id}/events",
                json={"event": {"category": "system", "action": "tick"},
                      "data": {"n": number}},
                timeout=15,
            )  # fmt: skip
        except requests.RequestException:
            self.refusals[0] += 1
            return False
        if reply.status_code != 201:
            self.refusals[reply.status_code] += 1
            return False
        body = reply.json()
        self.acknowledged += list(zip(body["ids"], body["sequences"], strict=True))
        return True


def log_violations(
    logs: list[list[dict[str, Any]]], acknowledged: list[tuple[str, int]]
) -> list[str]:
    """What breaks "one log": histories that differ between processes, gaps
    or repeats in the sequences, an acknowledged event missing, moved or doubled."""
    found = []
    first = logs[0]
    for index, other in enumerate(logs[1:], start=1):
        if [e["id"] for e in other] != [e["id"] for e in first]:
            found.append(f"process {index} serves another history than process 0")
    sequences = [e["sequence"] for e in first]
    if sequences != list(range(1, len(first) + 1)):
        found.append(f"sequences are not 1..{len(first)}")
    stored = Counter((e["id"], e["sequence"]) for e in first)
    for event_id, sequence in acknowledged:
        if stored[(event_id, sequence)] != 1:
            found.append(
                f"acknowledged {event_id} (sequence {sequence}) is stored "
                f"{stored[(event_id, sequence)]} times"
            )
    return found


def histories(urls: list[str], run_id: int) -> list[list[dict[str, Any]]]:
    return [history(url, run_id) for url in urls]


def kill_hard(server: LiveServer) -> None:
    """SIGKILL the service's worker processes and then its master: nothing runs
    its shutdown code."""
    master = server.process.pid
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) == master:
                os.kill(int(stat.parent.name), signal.SIGKILL)
    server.process.kill()
    server.process.wait(10)
