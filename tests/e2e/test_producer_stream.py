"""The producer's stream (`GET /ingest`) against `runstream serve`: a group
cut in the middle, a proxy that refuses the upgrade, and keys shared with the
POSTs a producer falls back to."""

from __future__ import annotations

import json

import pytest
import requests

from runstream.entrypoints.producer.stream import StreamConnection
from runstream.producer import Agent, Producer, RetryPolicy
from tests.support.apps import API_KEYS, MEMORY
from tests.support.ingest_proxy import IngestProxy
from tests.support.live_server import LiveServer
from tests.support.tiers_harness import history

pytestmark = [pytest.mark.e2e]

WRITER = Agent("writer", "worker", "Writer", "team")
QUICK = RetryPolicy(first_delay=0.02, max_delay=0.2, retry_for=60)
PAD = "x" * 400


def contents(events):
    return [e["data"]["content"] for e in events if e["event"]["action"] == "stream"]


def test_a_stream_cut_in_the_middle_of_a_group_stores_every_event_once(
    memory_server,
):
    proxy = IngestProxy(("127.0.0.1", memory_server.port))
    producer = Producer(f"http://127.0.0.1:{proxy.port}", linger=0.2, retry=QUICK)
    run = producer.create_run("cut mid-group")
    proxy.cut_after(5000)
    texts = [f"token-{n:04d} {PAD}" for n in range(300)]

    for text in texts:
        run.token(text, WRITER)
    finished = run.finish()
    report = producer.close()
    proxy.close()

    events = history(memory_server.url, run.id)
    assert proxy.cuts == 1
    assert proxy.upgrades >= 2  # the stream, then the one that resent the group
    assert finished["status"] == "completed"
    assert report.ok and report.stored == len(texts)
    assert contents(events) == texts
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))


def test_behind_a_proxy_that_refuses_the_upgrade_events_go_by_post(memory_server):
    proxy = IngestProxy(("127.0.0.1", memory_server.port), refuse_upgrades=True)
    producer = Producer(f"http://127.0.0.1:{proxy.port}", linger=0.01, retry=QUICK)
    run = producer.create_run("no websockets here")

    for n in range(50):
        run.token(f"token-{n} ", WRITER)
    run.finish()
    report = producer.close()
    proxy.close()

    assert proxy.upgrades >= 1
    assert report.ok and report.stored == 50
    assert contents(history(memory_server.url, run.id)) == [
        f"token-{n} " for n in range(50)
    ]


def test_a_group_sent_again_by_post_under_its_key_is_a_replay(memory_server):
    run_id = requests.post(
        f"{memory_server.url}/runs",
        json={"task": "one key, two transports", "executor": "external"},
        timeout=10,
    ).json()["id"]
    events = [{"event": {"category": "llm", "action": "stream"},
               "data": {"content": "héllo"}}]  # fmt: skip
    connection = StreamConnection(memory_server.url, None, 10)
    connection.open()
    group = {"run": run_id, "key": "group-1", "events": events}

    connection.send([json.dumps(group).encode()])
    (streamed,) = connection.receive()
    connection.close()
    posted = requests.post(
        f"{memory_server.url}/runs/{run_id}/events",
        json={"events": events},
        headers={"Idempotency-Key": "group-1"},
        timeout=10,
    )

    assert posted.status_code == 201
    assert posted.headers.get("Idempotent-Replayed") == "true"
    assert posted.json()["ids"] == streamed["ids"]
    assert len(history(memory_server.url, run_id)) == 2  # started, the event


def test_a_group_for_another_tenants_run_is_refused_and_ends_the_stream(
    auth_server,
):
    keys = [pair.split(":")[0] for pair in API_KEYS.split(",")]
    owner = Producer(auth_server.url, api_key=keys[0])
    run = owner.create_run("tenant one's run")
    connection = StreamConnection(auth_server.url, keys[1], 10)
    connection.open()
    event = {"event": {"category": "system", "action": "note"}, "data": {}}
    group = {"run": run.id, "key": "k", "events": [event]}

    connection.send([json.dumps(group).encode()])
    answers = connection.receive()
    connection.close()
    owner.close()

    assert answers[0]["error"]["code"] == "RUN_NOT_FOUND"
    assert answers[0]["key"] == "k"


def test_a_group_over_the_body_limit_is_sent_again_event_by_event():
    limits = {
        "RUNSTREAM_MAX_BODY_BYTES": "300000",
        "RUNSTREAM_MAX_EVENT_BYTES": "100000",
    }
    server = LiveServer({**MEMORY, **limits})
    try:
        producer = Producer(server.url, linger=0.2, retry=QUICK)
        run = producer.create_run("large events")
        texts = [f"token-{n:02d} " + "y" * 50_000 for n in range(12)]

        for text in texts:
            run.token(text, WRITER)
        run.finish()
        report = producer.close()

        assert report.ok and report.stored == len(texts)
        assert contents(history(server.url, run.id)) == texts
    finally:
        server.stop()
