"""The producer client against `runstream serve`: order, finishing, refusals,
back-pressure and the delivery report."""

from __future__ import annotations

import time

import pytest

from runstream.producer import Agent, Producer, QueueFull, RetryPolicy, ServiceError
from tests.support.apps import API_KEYS
from tests.support.live_server import free_port
from tests.support.tiers_harness import history

pytestmark = [pytest.mark.e2e]
AGENTS = [Agent(f"worker-{n}", "worker", f"Worker {n}", "team") for n in range(3)]


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def contents(events):
    return [e["data"]["content"] for e in events if e["event"]["action"] == "stream"]


def test_emitted_events_are_stored_once_in_emit_order_then_the_run_finishes(
    memory_server,
):
    with Producer(memory_server.url, linger=0.002, max_batch=50) as producer:
        run = producer.create_run("write the report")
        for n in range(600):
            run.token(f"token-{n} ", AGENTS[n % 3])
        finished = run.finish(result="done", statistics={"tokens": 600})
        report = producer.flush()

    events = history(memory_server.url, run.id)
    assert finished["status"] == "completed"
    assert report.ok and report.stored == 600
    assert contents(events) == [f"token-{n} " for n in range(600)]
    assert [e["sequence"] for e in events] == list(range(1, 603))
    assert events[-1]["event"] == {"category": "lifecycle", "action": "completed"}
    assert events[1]["source"] == AGENTS[0].as_json()


def test_cancel_is_sent_after_the_events_emitted_before_it(memory_server):
    with Producer(memory_server.url) as producer:
        run = producer.create_run("stop soon")
        run.emit("system", "note", {"n": 1})
        cancelled = run.cancel()

    events = history(memory_server.url, run.id)
    assert cancelled["status"] == "cancelled"
    assert [e["event"]["action"] for e in events] == ["started", "note", "cancelled"]


def test_events_for_a_finished_run_are_reported_with_the_services_code(
    memory_server,
):
    producer = Producer(memory_server.url)
    run = producer.create_run("finished early")
    run.finish()

    run.emit("system", "late", {"n": 1})
    report = producer.close()

    assert [(u.run_id, u.reason) for u in report.undelivered] == [
        (run.id, "RUN_NOT_ACTIVE")
    ]
    assert report.undelivered[0].as_json()["event"]["action"] == "late"


def test_one_event_the_service_refuses_does_not_take_its_batch_down(memory_server):
    producer = Producer(memory_server.url, linger=0.5, max_event_bytes=4 << 20)
    run = producer.create_run("one oversized event")

    run.token("before ", AGENTS[0])
    run.emit("system", "huge", {"blob": "x" * (2 << 20)})
    run.token("after", AGENTS[0])
    report = producer.close()

    assert [u.reason for u in report.undelivered] == ["EVENT_TOO_LARGE"]
    assert contents(history(memory_server.url, run.id)) == ["before ", "after"]


def test_attaching_to_a_run_that_does_not_exist_is_run_not_found(memory_server):
    with Producer(memory_server.url) as producer, pytest.raises(ServiceError) as err:
        producer.attach(987_654_321)

    assert err.value.code == "RUN_NOT_FOUND"


def test_an_api_key_is_sent_with_every_request(auth_server):
    key = API_KEYS.split(",")[0].split(":")[0]
    with Producer(auth_server.url, api_key=key) as producer:
        run = producer.create_run("authenticated")
        run.emit("system", "note", {})
        run.finish()
        attached = producer.attach(run.id)
        record = producer.get_run(attached.id)

    assert record["status"] == "completed"


def test_with_the_service_down_emit_returns_and_close_reports_every_event():
    producer = Producer(dead_url(), retry=RetryPolicy(retry_for=None))

    for n in range(20):
        producer.emit(7, "system", "tick", {"n": n})
    pending = producer.flush(timeout=0.2).pending
    report = producer.close(timeout=0.5)

    assert pending == 20
    assert report.pending == 0
    assert [u.as_json()["data"]["n"] for u in report.undelivered] == list(range(20))
    assert {u.reason for u in report.undelivered} == {"UNSENT"}


def test_a_full_queue_makes_emit_raise_at_once_when_configured_to():
    producer = Producer(dead_url(), max_queued=3, max_batch=2, on_full="raise")

    accepted = 0
    with pytest.raises(QueueFull):
        while accepted < 100:
            producer.emit(7, "system", "tick", {"n": accepted})
            accepted += 1
    report = producer.close(timeout=0.5)

    assert 3 <= accepted <= 5  # the queue, and the batch being retried
    assert len(report.undelivered) == accepted


def test_a_full_queue_makes_emit_wait_its_timeout_then_raise():
    producer = Producer(dead_url(), max_queued=2, max_batch=1, block_timeout=0.3)

    accepted, started = 0, time.monotonic()
    with pytest.raises(QueueFull):
        while accepted < 100:
            started = time.monotonic()
            producer.emit(7, "system", "tick", {"n": accepted})
            accepted += 1
    waited = time.monotonic() - started
    report = producer.close(timeout=0.5)

    assert waited >= 0.3
    assert len(report.undelivered) == accepted


@pytest.mark.parametrize(
    ("category", "action", "data", "message"),
    [
        ("tool", "x", {}, "category"),
        ("llm", "Stream", {}, "action"),
        ("llm", "stream", {"score": float("nan")}, "Out of range"),
        ("llm", "stream", {"content": "\ud800"}, "surrogate"),
    ],
)
def test_an_event_the_service_would_refuse_fails_in_emit(
    category, action, data, message
):
    producer = Producer(dead_url())

    with pytest.raises(ValueError, match=message):
        producer.emit(1, category, action, data)
    report = producer.close(timeout=0.1)

    assert report.ok
