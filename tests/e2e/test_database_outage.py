"""MariaDB unreachable while Redis is fine: live streams go on, the run
completes, and its record's final update lands once MariaDB is back (issue 7)."""

from __future__ import annotations

import threading

import pytest
import requests

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.schema import upgrade
from tests.services import require_mysql
from tests.support.live_server import LiveServer
from tests.support.polling import joined, wait_until
from tests.support.redis_server import RedisServer
from tests.support.sql_backend import fresh_mysql_database
from tests.support.sse_client import SseStream
from tests.support.tcp_proxy import TcpProxy
from tests.support.tiers_harness import await_status, history, start_thread

pytestmark = [pytest.mark.redis, pytest.mark.mysql, pytest.mark.e2e, pytest.mark.slow]
RUN = {
    "task": "outlive the database",
    "executor": "simulated",
    "params": {"teams": 2, "workers_per_team": 2, "tokens_per_worker": 200,
               "chunk_delay_ms": 10, "seed": 3},
}  # fmt: skip


class Reader:
    """One SSE connection read to its end; `connected` is set at the first event."""

    def __init__(self, url: str, run_id: int) -> None:
        self.url, self.run_id = url, run_id
        self.frames: list = []
        self.connected = threading.Event()

    def run(self) -> None:
        stream = SseStream(self.url, f"/runs/{self.run_id}/events/stream", timeout=60)
        for frame in stream.events():
            self.connected.set()
            if frame.event == "close":
                break
            self.frames.append(frame)
        stream.close()


def test_a_database_outage_neither_stops_streams_nor_loses_the_run_record():
    with RedisServer() as redis, fresh_mysql_database(require_mysql()) as database:
        engine = build_engine(database)
        upgrade(engine)
        engine.dispose()
        proxy = TcpProxy(("127.0.0.1", 3306))
        proxied = database.replace("127.0.0.1:3306", f"127.0.0.1:{proxy.port}")
        live = LiveServer(
            {
                "RUNSTREAM_EVENT_LOG": "redis",
                "RUNSTREAM_RUN_REPOSITORY": "sql",
                "RUNSTREAM_DATABASE_URL": proxied,
                "RUNSTREAM_REDIS_URL": redis.url,
            }
        )
        try:
            run = requests.post(f"{live.url}/runs", json=RUN, timeout=10).json()
            subscriber = Reader(live.url, run["id"])
            thread = start_thread(subscriber.run)
            assert subscriber.connected.wait(10)
            proxy.cut()
            before = len(subscriber.frames)
            replies: list[requests.Response] = []

            def unavailable() -> bool:
                replies.append(requests.get(f"{live.url}/runs/{run['id']}", timeout=30))
                return replies[-1].status_code == 503

            wait_until(
                unavailable,
                "the run record to answer 503 while the database is cut",
                timeout=30,
            )
            during = replies[-1]
            wait_until(
                lambda: len(subscriber.frames) > before + 10,
                "the stream to go on while the database is cut",
                timeout=30,
            )
            proxy.restore()
            joined(thread, 60)
            status = await_status(live.url, run["id"])
            log = history(live.url, run["id"])
        finally:
            live.stop()
            proxy.close()

    assert during.status_code == 503
    assert during.json()["code"] == "REDIS_UNAVAILABLE"
    assert status == "completed"
    assert [f.json()["id"] for f in subscriber.frames] == [e["id"] for e in log]
    assert [e["sequence"] for e in log] == list(range(1, len(log) + 1))
    assert log[-1]["event"]["action"] == "completed"
