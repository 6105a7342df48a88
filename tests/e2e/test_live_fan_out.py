"""Many subscribers on one run over real HTTP: the fan-out hub at volume."""

import http.client
import threading
import time

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SUBSCRIBERS = 100
EVENTS = 10_000
BATCH = 500


class Subscriber(threading.Thread):
    """Reads the stream to `close`, resuming with Last-Event-ID like EventSource;
    keeps only what the checks need: each event id as (ms, seq), in order."""

    def __init__(self, port, run_id):
        super().__init__(daemon=True)
        self.port, self.run_id = port, run_id
        self.ids, self.closed, self.reconnects = [], False, -1
        self.connected = threading.Event()

    def run(self):
        while not self.closed and self.reconnects < 20:
            self.reconnects += 1
            self._read_once()

    def _read_once(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {}
        if self.ids:
            headers["Last-Event-ID"] = "{}-{}".format(*self.ids[-1])
        connection.request("GET", f"/runs/{self.run_id}/events/stream", headers=headers)
        response = connection.getresponse()
        self.connected.set()
        rest = b""
        while chunk := response.read1(262144):
            frames = (rest + chunk).split(b"\n\n")
            rest = frames.pop()
            for frame in frames:
                if frame.startswith(b"id: "):
                    ms, _, seq = frame[4 : frame.index(b"\n")].partition(b"-")
                    self.ids.append((int(ms), int(seq)))
                elif frame.startswith(b"event: close"):
                    self.closed = True
        connection.close()


def test_a_hundred_subscribers_each_get_all_ten_thousand_events_in_order_then_close(
    memory_server,
):
    url = memory_server.url
    run_id = requests.post(f"{url}/runs", json={"task": "t"}).json()["id"]
    subscribers = [Subscriber(memory_server.port, run_id) for _ in range(SUBSCRIBERS)]
    for subscriber in subscribers:
        subscriber.start()
    for subscriber in subscribers:
        assert subscriber.connected.wait(10)
    event = {"event": {"category": "llm", "action": "stream"}, "data": {"n": 0}}
    with requests.Session() as session:
        for start in range(0, EVENTS, BATCH):
            body = {
                "events": [{**event, "data": {"n": start + i}} for i in range(BATCH)]
            }
            assert session.post(f"{url}/runs/{run_id}/events", json=body).ok
        session.post(f"{url}/runs/{run_id}/cancel")

    deadline = time.monotonic() + 120
    for subscriber in subscribers:
        subscriber.join(max(0.1, deadline - time.monotonic()))

    expected = EVENTS + 2  # lifecycle.started, the events, lifecycle.cancelled
    for subscriber in subscribers:
        assert subscriber.closed
        assert len(subscriber.ids) == expected
        assert all(
            a < b for a, b in zip(subscriber.ids, subscriber.ids[1:], strict=False)
        )
