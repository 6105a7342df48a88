"""Redis restarted empty mid-run (no persistence): with the SQL archive the
history keeps every archived event and new events continue the sequence; without
it, nothing can tell what was lost, so the stream says `gap` and the history
starts where the kept log does, and no sequence is used twice."""

from __future__ import annotations

import pytest
import requests

from tests.support.redis_server import RedisServer
from tests.support.sse_client import follow
from tests.support.tiers_harness import history, tiered_service

pytestmark = [pytest.mark.redis, pytest.mark.e2e, pytest.mark.slow]


def tokens(count: int) -> dict[str, list[dict[str, object]]]:
    return {
        "events": [
            {"event": {"category": "llm", "action": "stream"}, "data": {"n": n}}
            for n in range(count)
        ]
    }


def run_with_50_tokens(url: str) -> tuple[int, list[dict[str, object]]]:
    run = requests.post(
        f"{url}/runs", json={"task": "t", "executor": "external"}, timeout=10
    ).json()
    stored = requests.post(f"{url}/runs/{run['id']}/events", json=tokens(50))
    assert stored.status_code == 201, stored.text
    return run["id"], history(url, run["id"])


def append_after_an_empty_restart(redis: RedisServer, url: str, run_id: int):
    """The next append, retried with its Idempotency-Key as a producer would
    (the first attempt may meet a connection the restart broke)."""
    redis.stop(kill=True)
    redis.start()
    for _ in range(5):
        answer = requests.post(
            f"{url}/runs/{run_id}/events",
            json=tokens(1),
            headers={"Idempotency-Key": "after-restart"},
            timeout=10,
        )
        if answer.status_code != 503:
            return answer
    return answer


def test_with_the_archive_the_history_survives_and_the_sequence_continues():
    with RedisServer() as redis, tiered_service(redis) as service:
        run_id, before = run_with_50_tokens(service.url)

        after = append_after_an_empty_restart(redis, service.url, run_id)
        kept = history(service.url, run_id)

    assert after.status_code == 201, after.text
    assert after.json()["sequences"] == [52]
    assert kept[:51] == before
    assert [e["sequence"] for e in kept] == list(range(1, 53))
    assert kept[-1]["id"] == after.json()["ids"][0]


def test_without_the_archive_the_stream_says_gap_and_nothing_is_renumbered():
    with (
        RedisServer() as redis,
        tiered_service(redis, RUNSTREAM_EVENT_ARCHIVE="none") as service,
    ):
        run_id, before = run_with_50_tokens(service.url)

        after = append_after_an_empty_restart(redis, service.url, run_id)
        kept = history(service.url, run_id)
        requests.post(
            f"{service.url}/runs/{run_id}/finish", json={"status": "completed"}
        )
        frames, _ = follow(service.url, f"/runs/{run_id}/events/stream")

    assert after.status_code == 201, after.text
    assert after.json()["sequences"] == [52]
    assert [e["sequence"] for e in kept] == [52]
    assert kept[0]["id"] > before[-1]["id"]
    assert [f.event for f in frames] == ["gap", "llm.stream", "lifecycle.completed"]
    assert frames[0].json()["first_available_id"] == after.json()["ids"][0]
    assert [f.json()["sequence"] for f in frames[1:]] == [52, 53]
