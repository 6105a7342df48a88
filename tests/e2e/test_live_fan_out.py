"""Many subscribers on one run over real HTTP: the fan-out hub at volume."""

import time

import pytest
import requests

from tests.support.fan_out_subscriber import Subscriber
from tests.support.polling import joined

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SUBSCRIBERS = 100
EVENTS = 10_000
BATCH = 500


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
        joined(subscriber, max(0.1, deadline - time.monotonic()))

    expected = EVENTS + 2  # lifecycle.started, the events, lifecycle.cancelled
    for subscriber in subscribers:
        assert subscriber.closed
        assert len(subscriber.ids) == expected
        assert all(
            a < b for a, b in zip(subscriber.ids, subscriber.ids[1:], strict=False)
        )
