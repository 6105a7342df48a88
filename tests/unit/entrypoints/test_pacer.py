import socket
import threading
import time

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.application.fan_out import FanOutHub, HubLimits
from runstream.domain.ids import MIN_ID
from runstream.entrypoints.http.frames import event_frame
from runstream.entrypoints.http.pacer import Pacer
from runstream.entrypoints.http.stream_watch import StreamWatch
from tests.factories import new_run_id, token


class Client:
    """The client socket as gunicorn's gevent worker hands it over: a wrapper
    around the non-blocking OS socket."""

    def __init__(self, raw):
        raw.setblocking(False)
        self._sock = raw

    def sendall(self, data):
        self._sock.sendall(data)


@pytest.fixture
def log():
    return InMemoryEventLog()


@pytest.fixture
def hub(log):
    made = FanOutHub(log, event_frame, HubLimits(read_slice=0.02))
    yield made
    made.close()


@pytest.fixture
def client():
    ours, peer = socket.socketpair()
    peer.settimeout(5)
    yield ours, peer
    ours.close()
    peer.close()


def wait_in_background(pacer, cursors):
    results = []
    thread = threading.Thread(
        target=lambda: results.append(pacer.wait(cursors, 60.0)), daemon=True
    )
    thread.start()
    return thread, results


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def read_frames(peer, count):
    data = b""
    while data.count(b"\n\n") < count:
        data += peer.recv(65536)
    return data


def test_an_idle_stream_is_written_for_without_waking_and_wakes_when_its_client_leaves(
    log, hub, client
):
    ours, peer = client
    watch = StreamWatch()
    pacer = Pacer(hub, 60.0, threading.Event(), (Client(ours), False))
    run_id = new_run_id()
    first = log.append(run_id, [token("a")])[0]
    watch.add(pacer, ours)
    waiting, results = wait_in_background(pacer, {run_id: first.id})
    wait_until(lambda: hub.watched_runs() == 1)  # registered with the run

    written = [log.append(run_id, [token(t)])[0] for t in "bc"]
    frames = read_frames(peer, 2)
    still_waiting = waiting.is_alive()
    left = time.monotonic()
    peer.close()
    waiting.join(timeout=3)

    assert frames == b"".join(event_frame(e) for e in written)
    assert still_waiting
    assert results == [{}]
    assert pacer.broken
    assert time.monotonic() - left < 1.0
    watch.discard(pacer)


def test_an_idle_stream_wakes_when_its_heartbeat_is_due(hub, client):
    ours, _ = client
    watch = StreamWatch()
    pacer = Pacer(hub, 0.2, threading.Event(), (Client(ours), False))
    began = pacer.last_write
    watch.add(pacer, ours)

    waiting, results = wait_in_background(pacer, {new_run_id(): MIN_ID})
    waiting.join(timeout=3)

    assert results == [{}]
    assert pacer.heartbeat_due()
    assert time.monotonic() - began < 1.0
    assert not pacer.broken
    watch.discard(pacer)


def test_a_closing_service_ends_the_wait_of_an_idle_stream(hub):
    closing = threading.Event()
    pacer = Pacer(hub, 60.0, closing)
    waiting, results = wait_in_background(pacer, {new_run_id(): MIN_ID})
    wait_until(lambda: hub.watched_runs() == 1)

    closing.set()
    hub.close()
    waiting.join(timeout=3)

    assert results == [{}]
