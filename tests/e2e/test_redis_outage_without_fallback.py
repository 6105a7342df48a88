"""A Redis outage with no fallback configured (issue 7): appends answer
REDIS_UNAVAILABLE, open streams end so clients reconnect, reconnects answer 503
until Redis is back, and then the stream resumes where it stopped."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.support.redis_server import RedisServer
from tests.support.sse_client import SseStream
from tests.support.tiers_harness import tiered_service

pytestmark = [pytest.mark.redis, pytest.mark.e2e, pytest.mark.slow]
TICK = {"event": {"category": "system", "action": "tick"}, "data": {}}


def test_without_a_fallback_an_outage_is_503_and_streams_end_then_resume():
    with RedisServer(appendonly=True) as redis, tiered_service(redis) as service:
        url = service.url
        run = requests.post(
            f"{url}/runs", json={"task": "t", "executor": "external"}, timeout=10
        ).json()
        path = f"/runs/{run['id']}/events/stream"
        stream = SseStream(url, path, timeout=30)
        first = next(stream.events())
        ended = threading.Event()

        def drain() -> None:
            for _ in stream.events():
                pass
            ended.set()

        threading.Thread(target=drain, daemon=True).start()
        redis.stop()
        append = requests.post(f"{url}/runs/{run['id']}/events", json=TICK, timeout=10)
        stream_ended = ended.wait(15)
        reconnect = SseStream(url, path, {"Last-Event-ID": first.id}, timeout=10)
        refused = (reconnect.status, reconnect.body_json()["code"])
        reconnect.close()
        redis.start()
        accepted = requests.post(
            f"{url}/runs/{run['id']}/events", json=TICK, timeout=10
        )
        resumed = SseStream(url, path, {"Last-Event-ID": first.id}, timeout=10)
        after = next(resumed.events())
        resumed.close()
        stream.close()

    assert (append.status_code, append.json()["code"]) == (503, "REDIS_UNAVAILABLE")
    assert stream_ended
    assert refused == (503, "REDIS_UNAVAILABLE")
    assert accepted.status_code == 201
    assert after.json()["id"] == accepted.json()["ids"][0]
    assert after.json()["sequence"] == 2
