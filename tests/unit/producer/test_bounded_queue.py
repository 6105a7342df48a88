import threading
import time

import pytest

from runstream.entrypoints.producer.queue import BoundedQueue, Call, Event
from runstream.entrypoints.producer.report import ProducerClosed, QueueFull
from runstream.entrypoints.producer.retry import RetryPolicy


def event(n: int, run_id: int = 1) -> Event:
    return Event(run_id, str(n).encode())


def call(run_id: int = 1) -> Call:
    return Call(run_id, f"/runs/{run_id}/finish", b"{}")


def test_a_batch_holds_events_in_put_order_up_to_its_size():
    queue = BoundedQueue(10, "raise", None)
    for n in range(5):
        queue.put(event(n))

    first, second = queue.take(3, 0), queue.take(3, 0)

    assert [e.payload for e in first] == [b"0", b"1", b"2"]
    assert [e.payload for e in second] == [b"3", b"4"]


def test_a_call_waits_for_the_events_before_it_and_travels_alone():
    queue = BoundedQueue(10, "raise", None)
    finish = call()
    for item in (event(0), event(1), finish, event(2)):
        queue.put(item)

    batches = [queue.take(10, 0) for _ in range(3)]

    assert batches[1] == [finish]
    assert [e.payload for e in batches[0]] == [b"0", b"1"]
    assert [e.payload for e in batches[2]] == [b"2"]


def test_a_call_is_taken_even_when_the_queue_is_full_of_events():
    queue = BoundedQueue(1, "raise", None)
    queue.put(event(0))

    queue.put(call())

    assert queue.pending() == 2


def test_the_linger_counts_from_the_oldest_event():
    queue = BoundedQueue(10, "raise", None)
    queue.put(Event(1, b"0", queued_at=time.monotonic() - 10))

    started = time.monotonic()
    batch = queue.take(10, linger=5.0)

    assert len(batch) == 1
    assert time.monotonic() - started < 4.0


def test_a_full_batch_ends_the_linger():
    queue = BoundedQueue(10, "raise", None)
    queue.put(event(0))
    taken = []
    taker = threading.Thread(target=lambda: taken.append(queue.take(3, 60.0)))
    taker.start()

    queue.put(event(1))
    queue.put(event(2))
    taker.join(30)

    assert not taker.is_alive()
    assert [e.payload for e in taken[0]] == [b"0", b"1", b"2"]


def test_a_full_queue_raises_at_once_when_told_to():
    queue = BoundedQueue(2, "raise", None)
    queue.put(event(0))
    queue.put(event(1))

    with pytest.raises(QueueFull):
        queue.put(event(2))
    assert queue.pending() == 2


def test_a_full_queue_blocks_until_a_batch_is_taken():
    queue = BoundedQueue(1, "block", 30.0)
    queue.put(event(0))
    putter = threading.Thread(target=queue.put, args=(event(1),))
    putter.start()

    first = queue.take(1, 0)
    putter.join(30)

    assert not putter.is_alive()
    assert [e.payload for e in first] == [b"0"]
    assert [e.payload for e in queue.take(1, 0)] == [b"1"]


def test_a_full_queue_raises_after_its_timeout():
    queue = BoundedQueue(1, "block", 0.05)
    queue.put(event(0))

    with pytest.raises(QueueFull, match="after 0.05 s"):
        queue.put(event(1))


def test_a_closed_queue_takes_nothing_and_gives_back_what_it_held():
    queue = BoundedQueue(5, "raise", None)
    queue.put(event(0))

    queue.close()

    with pytest.raises(ProducerClosed):
        queue.put(event(1))
    assert [e.payload for e in queue.drain()] == [b"0"]
    assert queue.take(5, 0) is None


def test_idle_means_nothing_queued_and_nothing_in_flight():
    queue = BoundedQueue(5, "raise", None)
    queue.put(event(0))
    queue.take(5, 0)

    in_flight = queue.wait_idle(0.01)
    queue.settle()

    assert not in_flight
    assert queue.wait_idle(0.01)


def test_backoff_doubles_up_to_its_ceiling_with_jitter():
    policy = RetryPolicy(first_delay=0.1, max_delay=1.0)

    delays = [policy.delay(attempt) for attempt in range(8)]

    assert 0.05 <= delays[0] <= 0.1
    assert 0.2 <= delays[2] <= 0.4
    assert all(0.5 <= d <= 1.0 for d in delays[4:])
