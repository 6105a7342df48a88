"""The producer's stream against a stand-in service on a loopback socket: what
it sends, and what it sends again when a connection breaks or the service
answers an error."""

import json
import socket
import threading

from runstream.entrypoints.producer import websocket as ws
from runstream.producer import Producer, RetryPolicy
from tests.support.polling import wait_until

QUICK = RetryPolicy(first_delay=0.01, max_delay=0.05, retry_for=30.0)


class StandIn:
    """Upgrades each connection, then answers its groups as `plan` says: the
    number of groups to answer on that connection before hanging up (None:
    all), or an error to answer the first group with."""

    def __init__(self, plan: list[int | dict | None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.plan = plan
        self.received: list[list[dict]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for step in self.plan:
            client, _ = self.listener.accept()
            with client:
                self._upgrade(client)
                self.received.append([])
                self._answer(client, step, self.received[-1])

    @staticmethod
    def _upgrade(client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        key = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        client.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + ws.accept_value(key).encode()
            + b"\r\n\r\n"
        )

    @staticmethod
    def _answer(client: socket.socket, step, seen: list[dict]) -> None:
        reader = ws.FrameReader(masked=True, limit=1 << 20)
        while data := client.recv(65536):
            for frame in reader.feed(data):
                group = json.loads(frame.payload)
                seen.append(group)
                if isinstance(step, dict):
                    answer = {"key": group["key"], **step}
                    client.sendall(
                        ws.encode(ws.TEXT, json.dumps(answer).encode(), False)
                    )
                    return
                if step is not None and len(seen) > step:
                    return  # hang up, leaving this group unanswered
                answer = {"key": group["key"], "ids": ["1-0"], "sequences": [1]}
                client.sendall(ws.encode(ws.TEXT, json.dumps(answer).encode(), False))


def groups_received(service: StandIn) -> int:
    return sum(len(seen) for seen in service.received)


def test_groups_left_unanswered_by_a_cut_connection_are_sent_again_in_order():
    service = StandIn([2, None])
    producer = Producer(service.url, linger=0, retry=QUICK)

    for n in range(5):
        producer.emit(7, "system", "tick", {"n": n})
        wait_until(lambda n=n: groups_received(service) > n, "the group sent")
    report = producer.close(timeout=30)
    service.thread.join(10)

    first, second = service.received
    assert len(first) == 3
    assert second[0] == first[2]  # the same group, under the same key
    assert report.ok and report.stored == 5
    stored = [e["data"]["n"] for g in first[:2] + second for e in g["events"]]
    assert stored == list(range(5))


def test_a_group_answered_with_a_retryable_error_is_sent_again_with_its_key():
    busy = {"error": {"code": "REDIS_UNAVAILABLE", "message": "down"}, "status": 503}
    service = StandIn([busy, None])
    producer = Producer(service.url, linger=0, retry=QUICK)

    producer.emit(7, "system", "tick", {"n": 0})
    report = producer.close(timeout=30)
    service.thread.join(10)

    (refused,), (again,) = service.received
    assert report.ok and report.stored == 1
    assert again == refused


def test_a_group_refused_for_good_is_reported_and_the_next_ones_go_on():
    gone = {"error": {"code": "RUN_NOT_ACTIVE", "message": "ended"}, "status": 409}
    service = StandIn([gone, None])
    producer = Producer(service.url, linger=0.2, retry=QUICK)

    producer.emit(7, "system", "tick", {"n": 0})
    producer.flush(timeout=30)
    producer.emit(7, "system", "tick", {"n": 1})
    report = producer.close(timeout=30)
    service.thread.join(10)

    assert [u.reason for u in report.undelivered] == ["RUN_NOT_ACTIVE"]
    assert [u.as_json()["data"]["n"] for u in report.undelivered] == [0]
    assert report.stored == 1
