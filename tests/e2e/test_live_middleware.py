"""Live streams stay exact behind a middleware that wraps response bodies: the
stream takes its connection over, so nothing the middleware does reaches it."""

import pytest
import requests

from tests.support.apps import MEMORY
from tests.support.live_server import LiveServer
from tests.support.sse_client import SseStream

pytestmark = pytest.mark.e2e

EVENT = {"event": {"category": "llm", "action": "stream"}}


@pytest.fixture(scope="module")
def wrapped_server():
    server = LiveServer(MEMORY, gunicorn_app="tests.support.wrapped_app:wrapped_app()")
    yield server
    server.stop()


def append(server, run_id, count):
    body = {"events": [{**EVENT, "data": {"n": n}} for n in range(count)]}
    response = requests.post(f"{server.url}/runs/{run_id}/events", json=body)
    assert response.status_code == 201
    assert response.headers["X-Wrapped"] == "yes"  # the middleware is in place
    return response.json()["ids"]


def test_a_live_stream_behind_a_body_wrapping_middleware_is_exact(wrapped_server):
    url = wrapped_server.url
    run_id = requests.post(f"{url}/runs", json={"task": "t"}).json()["id"]
    stream = SseStream(url, f"/runs/{run_id}/events/stream")
    frames = stream.events()
    started = next(frames)

    ids = []
    for _ in range(5):
        ids += append(wrapped_server, run_id, 20)
    requests.post(f"{url}/runs/{run_id}/cancel")
    rest = list(frames)

    assert started.event == "lifecycle.started"
    assert [f.id for f in rest[:100]] == ids
    assert [f.json()["data"]["n"] for f in rest[:100]] == list(range(20)) * 5
    assert [f.event for f in rest[100:]] == ["lifecycle.cancelled", "close"]


def test_a_finished_run_is_replayed_whole_behind_the_middleware(wrapped_server):
    url = wrapped_server.url
    run_id = requests.post(f"{url}/runs", json={"task": "t"}).json()["id"]
    ids = append(wrapped_server, run_id, 500)
    requests.post(f"{url}/runs/{run_id}/cancel")

    frames = list(SseStream(url, f"/runs/{run_id}/events/stream").events())

    assert [f.id for f in frames[1:501]] == ids
    assert [f.event for f in frames[501:]] == ["lifecycle.cancelled", "close"]


def test_a_start_at_the_terminal_event_gets_the_close_frame_alone(wrapped_server):
    url = wrapped_server.url
    run_id = requests.post(f"{url}/runs", json={"task": "t"}).json()["id"]
    requests.post(f"{url}/runs/{run_id}/cancel")
    path = f"/runs/{run_id}/events/stream"
    last = list(SseStream(url, path).events())[-2]

    frames = list(SseStream(url, path, headers={"Last-Event-ID": last.id}).events())

    assert last.event == "lifecycle.cancelled"
    assert [f.event for f in frames] == ["close"]
