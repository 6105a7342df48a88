"""Two `runstream serve` instances (two workers each) on different ports sharing
Redis and one SQLite file: what one instance appends, the other streams, and a
subscriber may move between them with Last-Event-ID. On a lone Redis and on a
3-master Redis Cluster."""

import contextlib
import statistics
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.fan_out_subscriber import Subscriber
from tests.support.live_runs import history, start
from tests.support.live_server import LiveServer
from tests.support.polling import joined
from tests.support.redis_cluster import cluster_service_env, shared_cluster
from tests.support.redis_server import RedisServer
from tests.support.sse_client import SseStream
from tests.support.timing import assert_within

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.slow]

EVENT = {"event": {"category": "llm", "action": "stream"}, "data": {"n": 0}}


@contextlib.contextmanager
def lone_redis_env() -> Iterator[dict[str, str]]:
    from tests.support.sql_backend import fresh_sqlite_url

    with RedisServer() as redis, fresh_sqlite_url() as url:
        yield {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_REDIS_URL": redis.url,
            "RUNSTREAM_EVENT_ARCHIVE": "none",
            "RUNSTREAM_RUN_REPOSITORY": "sql",
            "RUNSTREAM_DATABASE_URL": url,
        }


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(lone_redis_env, id="redis"),
        pytest.param(lambda: cluster_service_env(shared_cluster()), id="cluster"),
    ],
)
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, LiveServer]]:
    with request.param() as env:
        first = LiveServer(env, workers=2)
        second = LiveServer(env, workers=2)
        yield first, second
        first.stop()
        second.stop()


def append(server: LiveServer, run_id: int, numbers: range) -> list[str]:
    body = {"events": [{**EVENT, "data": {"n": n}} for n in numbers]}
    response = requests.post(f"{server.url}/runs/{run_id}/events", json=body)
    assert response.status_code == 201, response.text
    return list(response.json()["ids"])


def test_fifty_subscribers_of_one_instance_get_what_the_other_appends_in_order(pair):
    writer, reader = pair
    run_id = start(writer)
    subscribers = [Subscriber(reader.port, run_id) for _ in range(50)]
    for subscriber in subscribers:
        subscriber.start()
    assert all(subscriber.connected.wait(10) for subscriber in subscribers)

    for first in range(0, 2000, 100):
        append(writer, run_id, range(first, first + 100))
    requests.post(f"{writer.url}/runs/{run_id}/cancel")
    for subscriber in subscribers:
        joined(subscriber, 60)

    expected = [tuple(map(int, e["id"].split("-"))) for e in history(reader, run_id)]
    assert len(expected) == 2002
    assert [e["sequence"] for e in history(writer, run_id)] == list(range(1, 2003))
    assert all(s.closed and s.ids == expected for s in subscribers)


def test_an_append_through_one_instance_reaches_the_others_subscriber_at_once(pair):
    writer, reader = pair
    run_id = start(writer)
    stream = SseStream(reader.url, f"/runs/{run_id}/events/stream?from=live")
    frames = stream.events()
    delays = []

    for n in range(20):
        began = time.monotonic()
        (event_id,) = append(writer, run_id, range(n, n + 1))
        assert next(frames).id == event_id
        delays.append(time.monotonic() - began)
    stream.close()

    assert_within(statistics.median(delays), 0.5, "the median append-to-frame delay")
    assert_within(max(delays), 3.0, "the slowest append-to-frame delay")


def test_a_subscriber_moving_to_the_other_instance_resumes_exactly(pair):
    writer, reader = pair
    run_id = start(writer)
    append(writer, run_id, range(0, 100))
    first_leg = SseStream(writer.url, f"/runs/{run_id}/events/stream")
    seen = []
    for frame in first_leg.events():
        seen.append(frame)
        if len(seen) == 60:
            break
    first_leg.close()

    append(reader, run_id, range(100, 200))
    requests.post(f"{reader.url}/runs/{run_id}/cancel")
    second_leg = SseStream(
        reader.url,
        f"/runs/{run_id}/events/stream",
        headers={"Last-Event-ID": seen[-1].id or ""},
    )
    seen += [frame for frame in second_leg.events() if frame.event != "close"]

    complete = history(writer, run_id)
    assert [f.id for f in seen] == [e["id"] for e in complete]
    assert [f.json()["sequence"] for f in seen] == list(range(1, 203))
