"""`runstream serve` on a Redis Cluster whose seed does not answer yet: the
workers start (gunicorn would stop the whole service if one failed to boot),
the service answers REDIS_UNAVAILABLE, and it serves as soon as the cluster is up,
without a restart."""

from __future__ import annotations

import pytest
import requests

from tests.support.live_server import LiveServer
from tests.support.polling import poll
from tests.support.redis_server import RedisServer, free_port
from tests.support.sql_backend import fresh_sqlite_url

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


def test_the_service_starts_while_the_cluster_is_unreachable_and_serves_once_it_is_up():
    port = free_port(cluster=True)
    with fresh_sqlite_url() as database:
        env = {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_REDIS_CLUSTER": "1",
            "RUNSTREAM_REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "RUNSTREAM_REDIS_TIMEOUT_SECONDS": "0.5",
            "RUNSTREAM_EVENT_ARCHIVE": "none",
            "RUNSTREAM_RUN_REPOSITORY": "sql",
            "RUNSTREAM_DATABASE_URL": database,
        }
        server = LiveServer(env, workers=2)  # waits for /healthz
        try:
            ready_before = requests.get(f"{server.url}/readyz", timeout=10)
            refused = requests.post(
                f"{server.url}/runs", json={"task": "t"}, timeout=10
            )
            with RedisServer(cluster=True, port=port):
                ready_after = _await_ready(server.url, timeout=15)
                run = requests.post(
                    f"{server.url}/runs", json={"task": "t"}, timeout=10
                )
                history = requests.get(
                    f"{server.url}/runs/{run.json()['id']}/events", timeout=10
                )
        finally:
            server.stop()

    assert ready_before.status_code == 503
    assert ready_before.json()["event_log"]["reachable"] is False
    assert (refused.status_code, refused.json()["code"]) == (503, "REDIS_UNAVAILABLE")
    assert ready_after
    assert run.status_code == 201
    assert [e["event"] for e in history.json()["events"]] == [
        {"category": "lifecycle", "action": "started"}
    ]


def _await_ready(url: str, timeout: float) -> bool:
    def ready() -> bool:
        return requests.get(f"{url}/readyz", timeout=10).status_code == 200

    return bool(poll(ready, timeout, interval=0.1))
