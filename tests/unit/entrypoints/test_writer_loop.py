import threading
import time

import pytest

from runstream.entrypoints.live.writer_loop import WriterLoop
from tests.support.live_sockets import body, connection, read_until
from tests.support.polling import wait_until


class Ends:
    """The loop's `on_end`: which stream ended, why."""

    def __init__(self):
        self.reasons = {}

    def __call__(self, subscriber, reason):
        self.reasons[subscriber] = reason


@pytest.fixture
def ends():
    return Ends()


@pytest.fixture
def loop(ends):
    # A stall bound far above any pause of a loaded test machine.
    made = WriterLoop(ends, stall=30.0, max_backlog=1 << 30)
    yield made
    made.close()


@pytest.fixture
def stalling_loop(ends):
    made = WriterLoop(ends, stall=0.3, max_backlog=1 << 30)
    yield made
    made.close()


def test_queued_frames_go_out_at_once_after_the_response_head(loop):
    subscriber, peer = connection()
    loop.add(subscriber)

    subscriber.queue(b"data: a\n\n")
    subscriber.queue(b"data: b\n\n")
    received = read_until(peer, b"\n\n", 2)

    assert received.startswith(b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream")
    assert body(received) == b"data: a\n\ndata: b\n\n"


def test_a_client_that_hangs_up_is_noticed_and_the_other_streams_are_left_alone(
    loop, ends
):
    clients = [connection() for _ in range(50)]
    for subscriber, _ in clients:
        loop.add(subscriber)
    began = time.monotonic()

    clients[7][1].close()

    wait_until(lambda: clients[7][0] in ends.reasons, timeout=3)
    assert time.monotonic() - began < 0.5
    assert ends.reasons == {clients[7][0]: "hung up"}
    assert loop.streams() == 49


def test_data_from_a_client_is_not_a_hang_up(loop, ends):
    talking, talker = connection()
    leaving, leaver = connection()
    loop.add(talking)
    loop.add(leaving)

    talker.sendall(b"GET / HTTP/1.1\r\n\r\n")
    leaver.close()

    wait_until(lambda: leaving in ends.reasons, timeout=3)
    assert talking not in ends.reasons


def test_an_idle_stream_gets_a_heartbeat_once_it_is_due_and_not_before(loop):
    subscriber, peer = connection(heartbeat=0.2)
    began = subscriber.last_write
    loop.add(subscriber)

    received = read_until(peer, b": heartbeat", 1)

    assert 0.2 * 0.999 <= time.monotonic() - began < 1.0
    assert body(received).startswith(b": heartbeat ")


def test_a_stream_that_wrote_since_gets_its_heartbeat_an_interval_later(loop):
    subscriber, peer = connection(heartbeat=0.4)
    loop.add(subscriber)
    time.sleep(0.2)  # halfway to the heartbeat: a frame now moves it back

    subscriber.queue(b"data: a\n\n")
    read_until(peer, b"data: a", 1)
    wrote = time.monotonic()
    read_until(peer, b": heartbeat", 1)

    assert time.monotonic() - wrote >= 0.4 * 0.95


def test_a_full_socket_is_written_once_the_client_reads_again(loop, ends):
    subscriber, peer = connection(buffer=4096)
    loop.add(subscriber)
    frames = [b"data: %06d\n\n" % i for i in range(20_000)]

    for frame in frames:
        subscriber.queue(frame)
    wait_until(lambda: subscriber.blocked)
    received = read_until(peer, b"\n\n", len(frames))

    assert body(received) == b"".join(frames)
    assert subscriber not in ends.reasons


def test_a_stream_whose_write_stalls_is_dropped_and_counted(stalling_loop, ends):
    loop = stalling_loop
    stuck, stuck_peer = connection(buffer=4096)
    fine, fine_peer = connection()
    loop.add(stuck)
    loop.add(fine)

    stuck.queue(b"x" * 1_000_000)
    fine.queue(b"data: a\n\n")

    wait_until(lambda: stuck in ends.reasons, timeout=3)
    assert ends.reasons == {stuck: "stalled"}
    assert body(read_until(fine_peer, b"\n\n", 1)) == b"data: a\n\n"
    with pytest.raises(ConnectionResetError):
        while stuck_peer.recv(1 << 20):
            pass


def test_a_client_too_far_behind_is_dropped_as_slow(ends):
    loop = WriterLoop(ends, stall=60, max_backlog=100_000)
    subscriber, peer = connection(buffer=4096)
    loop.add(subscriber)

    for _ in range(50):
        subscriber.queue(b"y" * 10_000)

    wait_until(lambda: subscriber in ends.reasons, timeout=3)
    assert ends.reasons[subscriber] == "slow"
    loop.close()
    peer.close()


def test_closing_ends_every_stream_without_close(loop, ends):
    subscriber, peer = connection(chunked=True)
    loop.add(subscriber)
    read_until(peer, b"\r\n\r\n", 1)

    loop.close()

    assert ends.reasons == {subscriber: "closing"}
    assert read_until(peer, b"0\r\n\r\n", 1).endswith(b"0\r\n\r\n")
    assert peer.recv(100) == b""


def test_the_loop_thread_ends_with_the_last_stream_and_starts_with_the_next(loop):
    before = set(threading.enumerate())
    first, first_peer = connection()
    loop.add(first)
    (thread,) = set(threading.enumerate()) - before

    first_peer.close()
    thread.join(timeout=3)
    second, second_peer = connection()
    loop.add(second)
    second.queue(b"data: b\n\n")

    assert not thread.is_alive()
    assert loop.streams() == 1
    assert body(read_until(second_peer, b"\n\n", 1)) == b"data: b\n\n"
