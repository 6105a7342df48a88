"""Operations, failures, expiry, disconnects and shutdown over real HTTP."""

import re
import time

import pytest
import requests

from tests.support.apps import MEMORY, sqlite_env
from tests.support.live_server import LiveServer, free_port
from tests.support.polling import wait_until
from tests.support.sse_client import SseStream
from tests.support.timing import assert_within

pytestmark = pytest.mark.e2e


def metric(server, name):
    text = requests.get(f"{server.url}/metrics").text
    found = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.M)
    return float(found.group(1)) if found else None


def start(server, headers=None):
    response = requests.post(f"{server.url}/runs", json={"task": "t"}, headers=headers)
    return response.json()["id"]


def test_health_and_readiness_name_the_serving_adapter(server):
    health = requests.get(f"{server.url}/healthz")
    ready = requests.get(f"{server.url}/readyz")

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["event_log"]["adapter"] in ("memory", "sql", "redis")
    assert ready.json()["event_log"]["reachable"] is True


def test_metrics_count_appends_subscribers_and_push_latency(memory_server):
    run_id = start(memory_server)
    requests.post(
        f"{memory_server.url}/runs/{run_id}/events",
        json={"event": {"category": "llm", "action": "stream"}},
    )
    stream = SseStream(memory_server.url, f"/runs/{run_id}/events/stream")
    frames = stream.frames()
    next(frames)
    wait_until(lambda: metric(memory_server, "runstream_sse_subscribers") == 1)
    requests.post(f"{memory_server.url}/runs/{run_id}/cancel")
    list(frames)

    text = requests.get(f"{memory_server.url}/metrics").text
    for name in ("runstream_events_appended_total", "runstream_append_seconds_bucket",
                 "runstream_push_latency_seconds_count",
                 "runstream_slow_subscriber_disconnects_total",
                 "runstream_backend_errors_total"):  # fmt: skip
        assert name in text
    assert metric(memory_server, "runstream_push_latency_seconds_count") >= 1


def test_a_disconnected_subscriber_is_noticed_and_released_promptly(memory_server):
    run_id = start(memory_server)
    before = metric(memory_server, "runstream_sse_subscribers")
    stream = SseStream(memory_server.url, f"/runs/{run_id}/events/stream")
    next(stream.frames())
    wait_until(lambda: metric(memory_server, "runstream_sse_subscribers") == before + 1)

    stream.close()

    wait_until(
        lambda: metric(memory_server, "runstream_sse_subscribers") == before,
        timeout=3.0,
    )


def test_a_silent_stream_is_released_promptly_when_its_client_leaves():
    server = LiveServer({**MEMORY, "RUNSTREAM_HEARTBEAT_SECONDS": "60"})
    try:
        run_id = start(server)
        stream = SseStream(server.url, f"/runs/{run_id}/events/stream?from=live")
        wait_until(lambda: metric(server, "runstream_sse_subscribers") == 1)
        left = time.monotonic()

        stream.close()
        wait_until(
            lambda: metric(server, "runstream_sse_subscribers") == 0, timeout=3.0
        )
        released = time.monotonic() - left
    finally:
        server.stop()

    assert_within(released, 10.0, "the release (heartbeat: 60 s)")


def test_an_unreachable_event_store_is_redis_unavailable():
    dead = f"redis://127.0.0.1:{free_port()}/0"
    server = LiveServer({"RUNSTREAM_EVENT_LOG": "redis", "RUNSTREAM_REDIS_URL": dead,
                         "RUNSTREAM_RUN_REPOSITORY": "memory",
                         "RUNSTREAM_REDIS_TIMEOUT_SECONDS": "0.5"})  # fmt: skip
    try:
        created = requests.post(f"{server.url}/runs", json={"task": "t"})
        ready = requests.get(f"{server.url}/readyz")
        errors = metric(server, "runstream_backend_errors_total")
    finally:
        server.stop()

    assert (created.status_code, created.json()["code"]) == (503, "REDIS_UNAVAILABLE")
    assert ready.status_code == 503
    assert ready.json()["code"] == "REDIS_UNAVAILABLE"
    assert ready.json()["event_log"] == {
        "adapter": "redis", "serving": "redis", "fallback": "none", "reachable": False,
    }  # fmt: skip
    assert errors >= 1


def test_a_run_whose_events_expired_is_run_expired():
    server = LiveServer({**MEMORY, "RUNSTREAM_EVENT_TTL_SECONDS": "1"})
    try:
        run_id = start(server)
        requests.post(f"{server.url}/runs/{run_id}/cancel")
        history = f"{server.url}/runs/{run_id}/events"
        wait_until(lambda: requests.get(history).status_code == 410, timeout=5)
        page = requests.get(history)
        stream = SseStream(server.url, f"/runs/{run_id}/events/stream")
        streamed = (stream.status, stream.body_json()["code"])
        stream.close()
    finally:
        server.stop()

    assert page.json()["code"] == "RUN_EXPIRED"
    assert streamed == (410, "RUN_EXPIRED")


def test_a_graceful_shutdown_ends_streams_cleanly_so_clients_reconnect():
    server = LiveServer(MEMORY)
    run_id = start(server)
    streams = [SseStream(server.url, f"/runs/{run_id}/events/stream") for _ in range(3)]
    for stream in streams:
        next(stream.frames())
    began = time.monotonic()

    code = server.stop()
    rest = [[f.event for f in stream.frames()] for stream in streams]

    assert code == 0
    assert time.monotonic() - began < 5
    assert all(stream.ended_cleanly for stream in streams)
    assert all("close" not in events for events in rest)


def test_two_workers_share_runs_streams_and_metrics_over_sqlite():
    with sqlite_env() as env:
        server = LiveServer(env, workers=2)
        try:
            ids = [start(server) for _ in range(4)]
            for run_id in ids:
                requests.post(f"{server.url}/runs/{run_id}/cancel")
            streamed = [
                [f.event for f in SseStream(
                    server.url, f"/runs/{run_id}/events/stream").events()]
                for run_id in ids
            ]  # fmt: skip
            appended = metric(server, "runstream_events_appended_total")
        finally:
            server.stop()

    assert all(
        s == ["lifecycle.started", "lifecycle.cancelled", "close"] for s in streamed
    )
    assert appended == 0.0


class TestAuthentication:
    A = {"Authorization": "Bearer key-a"}
    B = {"Authorization": "Bearer key-b"}

    def test_every_runs_endpoint_needs_a_key(self, auth_server):
        url = auth_server.url
        calls = [
            ("post", "/runs"), ("get", "/runs"), ("get", "/runs/1"),
            ("post", "/runs/1/cancel"), ("post", "/runs/1/finish"),
            ("post", "/runs/1/events"), ("get", "/runs/1/events"),
            ("get", "/runs/1/events/stream"), ("post", "/runs/1/stream-token"),
        ]  # fmt: skip

        answers = [requests.request(method, url + path) for method, path in calls]

        assert {(a.status_code, a.json()["code"]) for a in answers} == {
            (401, "UNAUTHORIZED")
        }
        assert requests.get(url + "/healthz").status_code == 200

    def test_another_tenant_sees_no_such_run(self, auth_server):
        run_id = start(auth_server, self.A)

        mine = requests.get(f"{auth_server.url}/runs/{run_id}", headers=self.A)
        theirs = requests.get(f"{auth_server.url}/runs/{run_id}", headers=self.B)
        stream = SseStream(
            auth_server.url, f"/runs/{run_id}/events/stream", headers=self.B
        )

        assert mine.status_code == 200
        assert (theirs.status_code, theirs.json()["code"]) == (404, "RUN_NOT_FOUND")
        assert (stream.status, stream.body_json()["code"]) == (404, "RUN_NOT_FOUND")

    def test_a_browser_streams_with_a_token_bound_to_its_run(self, auth_server):
        run_id, other = start(auth_server, self.A), start(auth_server, self.A)
        requests.post(f"{auth_server.url}/runs/{run_id}/cancel", headers=self.A)
        token = requests.post(
            f"{auth_server.url}/runs/{run_id}/stream-token", headers=self.A
        ).json()["token"]

        own = SseStream(
            auth_server.url, f"/runs/{run_id}/events/stream?access_token={token}"
        )
        other_stream = SseStream(
            auth_server.url, f"/runs/{other}/events/stream?access_token={token}"
        )
        history = requests.get(
            f"{auth_server.url}/runs/{run_id}/events", params={"access_token": token}
        )

        assert [f.event for f in own.events()][-1] == "close"
        assert other_stream.status == 401
        assert history.status_code == 401


def test_metrics_report_the_event_writer_and_runs_in_process(client):
    text = client.get("/metrics").get_data(as_text=True)

    assert "runstream_writer_queue_events 0.0" in text
    assert "runstream_active_runs 0.0" in text
