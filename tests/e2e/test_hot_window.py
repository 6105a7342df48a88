"""A run longer than the Redis hot window, and a run whose Redis copy expired:
history and SSE replay still return every event, from the SQL archive."""

from __future__ import annotations

import pytest
import redis as redis_py
import requests

from tests.support.polling import wait_until
from tests.support.redis_server import RedisServer
from tests.support.sse_client import follow
from tests.support.tiers_harness import history, tiered_service

pytestmark = [pytest.mark.redis, pytest.mark.e2e, pytest.mark.slow]
EVENTS = 25_000
BATCH = 1000


def append_all(url: str, run_id: int) -> None:
    for start in range(0, EVENTS - 2, BATCH):
        count = min(BATCH, EVENTS - 2 - start)
        batch = [
            {"event": {"category": "llm", "action": "stream"},
             "data": {"content": f"token {start + i}"}}
            for i in range(count)
        ]  # fmt: skip
        reply = requests.post(
            f"{url}/runs/{run_id}/events", json={"events": batch}, timeout=30
        )
        assert reply.status_code == 201, reply.text


def await_expired(client: redis_py.Redis, key: str, timeout: float = 30.0) -> None:
    wait_until(lambda: not client.exists(key), f"{key} to expire", timeout, 0.1)


def test_history_and_replay_cross_the_hot_window_and_outlive_expiry():
    with (
        RedisServer() as redis,
        tiered_service(
            redis, RUNSTREAM_STREAM_MAXLEN="10000", RUNSTREAM_EVENT_TTL_SECONDS="2"
        ) as service,
    ):
        url = service.url
        run = requests.post(
            f"{url}/runs", json={"task": "long", "executor": "external"}, timeout=10
        ).json()
        append_all(url, run["id"])
        requests.post(
            f"{url}/runs/{run['id']}/finish", json={"status": "completed"}, timeout=30
        ).raise_for_status()
        client = redis_py.Redis.from_url(redis.url)
        hot_length = client.xlen(f"run:{run['id']}:events")

        paged = history(url, run["id"])
        replayed, _ = follow(url, f"/runs/{run['id']}/events/stream", last_id="0-0")
        await_expired(client, f"run:{run['id']}:events")
        expired_history = history(url, run["id"])
        client.close()

    assert hot_length < EVENTS
    assert [e["sequence"] for e in paged] == list(range(1, EVENTS + 1))
    assert not [f for f in replayed if f.event == "gap"]
    assert [f.json()["sequence"] for f in replayed] == list(range(1, EVENTS + 1))
    assert expired_history == paged
