import socket
import threading
import time

import pytest

from runstream.entrypoints.http.stream_watch import StreamWatch


class Stream:
    """What the watch sees of a stream: its alarm, and when it last wrote."""

    def __init__(self, heartbeat=60.0):
        self.alarm = threading.Event()
        self.broken = False
        self.last_write = time.monotonic()
        self.heartbeat = heartbeat


@pytest.fixture
def pairs():
    made = []

    def make(count):
        made.extend(socket.socketpair() for _ in range(count))
        return made[-count:]

    yield make
    for ours, peer in made:
        ours.close()
        peer.close()


@pytest.mark.parametrize("epoll", [True, False], ids=["epoll", "polling"])
def test_a_client_that_hangs_up_is_noticed_and_the_other_streams_are_left_alone(
    pairs, epoll
):
    watch = StreamWatch(epoll=epoll)
    clients = pairs(50)
    streams = [Stream() for _ in clients]
    for stream, (ours, _) in zip(streams, clients, strict=True):
        watch.add(stream, ours)
    began = time.monotonic()

    clients[7][1].close()

    assert streams[7].alarm.wait(3)
    assert time.monotonic() - began < (0.5 if epoll else 2.5)
    assert streams[7].broken
    assert not any(s.alarm.is_set() or s.broken for s in streams[:7] + streams[8:])
    for stream in streams:
        watch.discard(stream)


def test_data_from_a_client_is_not_a_hang_up(pairs):
    watch = StreamWatch()
    (talker, talker_peer), (leaver, leaver_peer) = pairs(2)
    talking, leaving = Stream(), Stream()
    watch.add(talking, talker)
    watch.add(leaving, leaver)

    talker_peer.sendall(b"GET / HTTP/1.1\r\n\r\n")
    leaver_peer.close()

    assert leaving.alarm.wait(3)
    assert not talking.alarm.is_set()
    assert not talking.broken
    watch.discard(talking)
    watch.discard(leaving)


def test_a_stream_is_alarmed_once_its_heartbeat_is_due_and_not_before():
    watch = StreamWatch()
    stream = Stream(heartbeat=0.2)
    began = stream.last_write

    watch.add(stream)

    assert stream.alarm.wait(3)
    assert 0.2 * 0.999 <= time.monotonic() - began < 1.0
    assert not stream.broken
    watch.discard(stream)


def test_a_stream_that_wrote_since_it_was_scheduled_is_alarmed_an_interval_later():
    watch = StreamWatch()
    stream = Stream(heartbeat=0.2)
    began = stream.last_write
    watch.add(stream)

    stream.last_write = began + 0.4  # as if the hub wrote for it meanwhile

    assert stream.alarm.wait(3)
    assert time.monotonic() - began >= 0.6 * 0.999
    watch.discard(stream)


def test_the_watch_thread_ends_with_the_last_stream_and_starts_with_the_next(pairs):
    watch = StreamWatch()
    ((ours, peer),) = pairs(1)
    before = set(threading.enumerate())
    first = Stream()
    watch.add(first, ours)
    (thread,) = set(threading.enumerate()) - before

    watch.discard(first)
    thread.join(timeout=3)
    second = Stream()
    watch.add(second, ours)
    peer.close()

    assert not thread.is_alive()
    assert watch.watching() == 1
    assert second.alarm.wait(3)
    assert second.broken
    watch.discard(second)
