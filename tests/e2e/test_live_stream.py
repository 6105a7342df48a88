"""The live stream of docs/contract.md §4 over real HTTP, on every configuration."""

import random
import threading
import time

import pytest
import requests

from tests.support.polling import joined
from tests.support.sse_client import SseStream, follow
from tests.support.timing import assert_within

pytestmark = pytest.mark.e2e

EVENT = {"event": {"category": "llm", "action": "stream"}, "data": {"content": "x"}}


def start(server):
    return requests.post(f"{server.url}/runs", json={"task": "t"}).json()["id"]


def append(server, run_id, count=1):
    body = {"events": [{**EVENT, "data": {"i": i}} for i in range(count)]}
    return requests.post(f"{server.url}/runs/{run_id}/events", json=body).json()["ids"]


def stream_path(run_id, query=""):
    return f"/runs/{run_id}/events/stream{query}"


def test_a_finished_run_streams_its_events_then_close_with_sse_headers(server):
    run_id = start(server)
    ids = append(server, run_id, 3)
    requests.post(
        f"{server.url}/runs/{run_id}/finish", json={"status": "failed", "error": "e"}
    )
    stream = SseStream(server.url, stream_path(run_id))

    frames = list(stream.events())

    assert stream.status == 200
    assert stream.headers["Content-Type"] == "text/event-stream"
    assert stream.headers["Cache-Control"] == "no-cache"
    assert stream.headers["Connection"] == "keep-alive"
    assert stream.headers["X-Accel-Buffering"] == "no"
    assert [f.event for f in frames] == [
        "lifecycle.started", "llm.stream", "llm.stream", "llm.stream",
        "lifecycle.failed", "close",
    ]  # fmt: skip
    assert [f.id for f in frames[1:4]] == ids
    assert [f.json()["sequence"] for f in frames[:5]] == [1, 2, 3, 4, 5]
    assert frames[-1].data == '{"message":"Stream closed"}'
    assert stream.ended_cleanly


def test_the_start_position_is_the_header_then_the_query_then_the_first_event(server):
    run_id = start(server)
    ids = append(server, run_id, 3)
    requests.post(f"{server.url}/runs/{run_id}/cancel")

    def ids_from(query="", headers=None):
        stream = SseStream(server.url, stream_path(run_id, query), headers)
        return [f.id for f in stream.events() if f.event == "llm.stream"]

    assert ids_from() == ids
    assert ids_from(f"?last_event_id={ids[0]}") == ids[1:]
    assert ids_from(f"?last_event_id={ids[0]}", {"Last-Event-ID": ids[1]}) == ids[2:]


def test_from_live_delivers_only_what_is_appended_after_connecting(server):
    run_id = start(server)
    append(server, run_id, 2)
    stream = SseStream(server.url, stream_path(run_id, "?from=live"))
    frames = stream.frames()
    first = next(frames)

    later = append(server, run_id, 1)
    requests.post(f"{server.url}/runs/{run_id}/cancel")
    rest = [f for f in frames if f.event]

    assert first.comments[0].startswith("heartbeat ")
    assert [f.id for f in rest[:1]] == later
    assert [f.event for f in rest[1:]] == ["lifecycle.cancelled", "close"]


def test_an_idle_stream_sends_a_heartbeat_every_interval(server):
    run_id = start(server)
    stream = SseStream(server.url, stream_path(run_id, "?from=live"))
    frames = stream.frames()
    began = time.monotonic()

    beats = [next(frames) for _ in range(3)]
    elapsed = time.monotonic() - began

    assert all(b.comments[0].startswith("heartbeat 20") for b in beats)
    assert all(b.comments[0].endswith("Z") for b in beats)
    assert elapsed >= 0.3 * 3 * 0.8
    assert_within(elapsed, 0.3 * 3 + 5.0, "three heartbeats 0.3 s apart")
    stream.close()


def test_a_stream_fed_events_sends_its_next_heartbeat_an_interval_after_the_last(
    memory_server,
):
    run_id = start(memory_server)
    stream = SseStream(memory_server.url, stream_path(run_id, "?from=live"))
    frames = stream.frames()
    next(frames)  # the first heartbeat: the stream waits at the run's head

    def produce():
        for _ in range(12):
            append(memory_server, run_id)
            time.sleep(0.1)

    producer = threading.Thread(target=produce)
    producer.start()
    # Appends come every 0.1 s, but on a loaded machine two may lie more than
    # an interval apart: a heartbeat may then come between them, and only then.
    fed, quiet_before_beats = [], []
    previous = time.monotonic()
    while len(fed) < 12:
        frame = next(frames)
        now = time.monotonic()
        if frame.comments:
            quiet_before_beats.append(now - previous)
        else:
            fed.append(frame)
        previous = now
    last_event = previous
    after = next(frames)
    quiet = time.monotonic() - last_event
    joined(producer)

    assert all(f.event == "llm.stream" for f in fed)
    assert all(gap >= 0.3 * 0.8 for gap in quiet_before_beats), quiet_before_beats
    assert after.comments[0].startswith("heartbeat ")
    assert quiet >= 0.3 * 0.8
    assert_within(quiet, 0.3 + 3.0, "the first heartbeat after the last event")
    stream.close()


def test_errors_before_streaming_are_json(server):
    unknown = SseStream(server.url, stream_path(987654321))
    bad_id = SseStream(server.url, stream_path(start(server), "?last_event_id=zz"))

    assert (unknown.status, unknown.body_json()["code"]) == (404, "RUN_NOT_FOUND")
    assert (bad_id.status, bad_id.body_json()["code"]) == (400, "INVALID_EVENT_ID")


def test_every_event_arrives_exactly_once_in_order_while_appends_race_the_connects(
    server,
):
    run_id = start(server)
    produced, total = [], 150
    rng = random.Random(7)

    def produce():
        for i in range(total):
            produced.extend(append(server, run_id, rng.choice([1, 1, 2])))
            if i % 15 == 0:
                time.sleep(0.01)
        requests.post(f"{server.url}/runs/{run_id}/cancel")

    results = {}

    def subscribe(name, resume):
        last_id = None
        if resume and produced:
            last_id = produced[rng.randrange(len(produced))]
        frames, _ = follow(server.url, stream_path(run_id), last_id)
        results[name] = (last_id, [f.json()["sequence"] for f in frames])

    producer = threading.Thread(target=produce)
    producer.start()
    subscribers = []
    for n in range(16):
        thread = threading.Thread(target=subscribe, args=(n, n % 2 == 1))
        thread.start()
        subscribers.append(thread)
        time.sleep(0.02)
    for thread in [producer, *subscribers]:
        joined(thread, 60)

    last_sequence = len(produced) + 2
    for last_id, sequences in results.values():
        first = 1 if last_id is None else produced.index(last_id) + 3
        assert sequences == list(range(first, last_sequence + 1))
    assert len(results) == 16
