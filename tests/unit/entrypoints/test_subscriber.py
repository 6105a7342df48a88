import time

from runstream.application.live.subscription import Batch
from runstream.application.recent_events import event_key
from runstream.domain.ids import EventId
from runstream.domain.model import StoredEvent
from runstream.entrypoints.live.frames import CLOSE_FRAME, event_frame
from runstream.entrypoints.live.subscriber import LAST_CHUNK
from tests.factories import completed, token
from tests.support.live_sockets import body, connection


def stored(sequence, new=None):
    new = new or token(f"t{sequence}")
    return StoredEvent(EventId(1000 + sequence, 0), 7, sequence, 1000, new)


def batch(*events):
    return Batch.of([(e, event_frame(e)) for e in events])


def drain(subscriber, peer):
    assert subscriber.send([])
    return body(peer.recv(1 << 20))


def test_a_batch_is_queued_whole_and_parts_at_or_before_the_cursor_are_skipped():
    subscriber, peer = connection()
    first, second, third = stored(1), stored(2), stored(3)
    subscriber.cursor, subscriber.last_sequence = event_key(first.id), 1

    subscriber.offer(batch(first))
    subscriber.offer(batch(first, second, third))

    assert drain(subscriber, peer) == event_frame(second) + event_frame(third)
    assert subscriber.last_sequence == 3
    subscriber.sock.close()


def test_a_jump_in_sequences_is_announced_as_a_gap_before_the_events():
    subscriber, peer = connection()
    first = stored(1)
    subscriber.cursor, subscriber.last_sequence = event_key(first.id), 1
    subscriber.last_id = first.id

    subscriber.offer(batch(stored(4)))

    data = drain(subscriber, peer)
    assert data.startswith(
        b'event: gap\ndata: {"last_event_id":"1001-0","first_available_id":"1004-0"}'
    )
    assert data.endswith(event_frame(stored(4)))
    subscriber.sock.close()


def test_a_terminal_event_is_followed_by_close_and_the_end_of_the_body():
    subscriber, peer = connection(chunked=True)
    end = stored(2, completed())

    subscriber.offer(batch(end))
    assert subscriber.send([])

    frames = event_frame(end) + CLOSE_FRAME
    expected = b"%X\r\n%s\r\n" % (len(frames), frames) + LAST_CHUNK
    assert body(peer.recv(1 << 20)) == expected
    assert subscriber.done
    subscriber.sock.close()


def test_the_queue_counts_what_is_unwritten_until_the_socket_takes_it():
    subscriber, peer = connection(buffer=4096)
    events = [stored(i) for i in range(1, 400)]

    subscriber.offer(batch(*events))
    written = subscriber.send([])
    left = subscriber.backlog()
    received = b""
    while not subscriber.send([]) or subscriber.backlog():
        received += peer.recv(1 << 16)
    while received.count(b"\n\n") < len(events):
        received += peer.recv(1 << 16)

    assert not written
    assert 0 < left < sum(len(event_frame(e)) for e in events)
    assert body(received) == b"".join(event_frame(e) for e in events)
    subscriber.sock.close()


def test_a_live_batch_taken_for_writing_is_reported_once():
    subscriber, peer = connection()
    pushed = batch(stored(1))
    subscriber.offer(pushed)
    taken = []

    subscriber.send(taken)
    subscriber.send(taken)

    assert taken == [pushed]
    subscriber.sock.close()


def kernel_takes(sock, seconds=1.0):
    """Bytes the kernel accepts for a client that reads nothing."""
    total, chunk = 0, b"x" * 65536
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            total += sock.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
    return total


def test_a_live_stream_whose_client_stops_reading_fills_its_socket_within_the_bound():
    subscriber, _peer = connection()

    subscriber.bound_send_buffer()
    held = kernel_takes(subscriber.sock)

    # Unbounded, Linux grows a loopback send buffer to megabytes (4.3 MB
    # measured) and the slow-subscriber policy would see none of it.
    assert held <= 1 << 20, f"the kernel held {held} bytes of a stalled stream"
