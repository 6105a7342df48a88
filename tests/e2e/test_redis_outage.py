"""Redis outages with the SQL fallback configured: nothing acknowledged or
emitted is lost, nothing repeats, no append fails, runs complete (issue 7)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.polling import joined, wait_until
from tests.support.redis_server import RedisServer
from tests.support.tiers_harness import (
    REDIS_TIMEOUT,
    Producer,
    Subscriber,
    await_status,
    history,
    start_thread,
    tiered_service,
)

pytestmark = [pytest.mark.redis, pytest.mark.e2e, pytest.mark.slow]
OUTAGE_SECONDS = 3.0
SIMULATED = {
    "task": "survive an outage",
    "executor": "simulated",
    "params": {"teams": 2, "workers_per_team": 2, "tokens_per_worker": 300,
               "chunk_delay_ms": 8, "seed": 7},
}  # fmt: skip


def restart_with_aof(redis: RedisServer) -> None:
    redis.stop()
    time.sleep(OUTAGE_SECONDS)
    redis.start()


def restart_empty(redis: RedisServer) -> None:
    redis.restart_empty(OUTAGE_SECONDS)


def freeze(redis: RedisServer) -> None:
    redis.freeze()
    time.sleep(OUTAGE_SECONDS)
    redis.thaw()


def serving(url: str) -> str:
    ready = requests.get(f"{url}/readyz", timeout=10).json()
    return str(ready["event_log"]["serving"])


@pytest.mark.parametrize(
    ("outage", "appendonly"),
    [
        pytest.param(restart_with_aof, True, id="restarted_with_aof"),
        pytest.param(restart_empty, False, id="restarted_empty"),
        pytest.param(freeze, False, id="frozen_with_sigstop"),
    ],
)
def test_an_outage_loses_and_repeats_nothing_and_every_run_completes(
    outage, appendonly
):
    with (
        RedisServer(appendonly=appendonly) as redis,
        tiered_service(redis, RUNSTREAM_EVENT_LOG_FALLBACK="sql") as service,
    ):
        url = service.url
        simulated = requests.post(f"{url}/runs", json=SIMULATED, timeout=10).json()
        external = requests.post(
            f"{url}/runs", json={"task": "produce", "executor": "external"}, timeout=10
        ).json()
        producer = Producer(url, external["id"])
        subscribers = [Subscriber(url, run["id"]) for run in (simulated, external)]
        threads = [start_thread(producer.run)]
        threads += [start_thread(s.run) for s in subscribers]

        outage(redis)
        recovered = len(producer.acknowledged)
        wait_until(
            lambda: len(producer.acknowledged) > recovered + 20,
            "appends to go on once Redis is back",
            timeout=30,
        )
        wait_until(
            lambda: serving(url) == "redis",
            "the service to fail back to Redis",
            timeout=30,
        )
        producer.stop.set()
        joined(threads[0], 30)
        finished = requests.post(
            f"{url}/runs/{external['id']}/finish", json={"status": "completed"},
            timeout=30,
        )  # fmt: skip
        statuses = [await_status(url, run["id"]) for run in (simulated, external)]
        for thread in threads[1:]:
            joined(thread, 60)
        logs = [history(url, run["id"]) for run in (simulated, external)]
        metrics = requests.get(f"{url}/metrics", timeout=10).text
        ready = requests.get(f"{url}/readyz", timeout=10).json()

    assert finished.status_code == 200
    assert ready["event_log"]["serving"] == "redis"
    assert 'runstream_event_log_serving{tier="redis"} 1.0' in metrics
    assert "runstream_event_log_failovers 1.0" in metrics
    assert "runstream_archive_lag_seconds" in metrics
    assert statuses == ["completed", "completed"]
    assert all(code == 201 for code in producer.statuses)
    assert producer.slowest < REDIS_TIMEOUT * 2 + 1.0
    for log in logs:
        assert [e["sequence"] for e in log] == list(range(1, len(log) + 1))
        assert log[-1]["event"] == {"category": "lifecycle", "action": "completed"}
    external_ids = [e["id"] for e in logs[1]]
    assert len(external_ids) == len(set(external_ids))
    assert set(producer.acknowledged) <= set(external_ids)
    assert len(producer.acknowledged) == len(logs[1]) - 2
    tokens = [e for e in logs[0] if e["event"]["action"] == "stream"]
    assert tokens, "the simulated run streamed no tokens"
    for subscriber, log in zip(subscribers, logs, strict=True):
        assert [f.json()["id"] for f in subscriber.frames] == [e["id"] for e in log]
