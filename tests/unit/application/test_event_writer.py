import threading

import pytest

from runstream.application.backoff import Backoff
from runstream.application.event_writer import EventWriter
from runstream.domain.errors import StorageUnavailable
from tests.factories import completed, event, new_run_id, token
from tests.support.flaky_log import FlakyLog
from tests.support.polling import joined, wait_until

FAST = Backoff(first=0.001, ceiling=0.01)


def tokens(count, agent_id="researcher"):
    return [token(f"t{n} ", agent_id) for n in range(count)]


def logged(log, run_id):
    return [stored.event for stored in log.read(run_id, limit=100_000)]


@pytest.fixture
def log():
    return FlakyLog()


@pytest.fixture
def writer(log):
    made = EventWriter(log, capacity=10_000, max_batch=100, backoff=FAST)
    yield made
    log.open.set()
    log.down = False
    made.shutdown(5)


def test_a_runs_events_are_stored_in_emit_order_in_batches(log, writer):
    run_id, sent = new_run_id(), tokens(500)
    log.open.clear()

    for item in sent:
        writer.emit(run_id, item)
    log.open.set()
    writer.flush(run_id, 5)

    assert logged(log, run_id) == sent
    assert len(log.appends) < len(sent) / 10
    assert all(count <= 100 for _, count in log.appends)


def test_interleaved_runs_each_keep_their_own_order(log, writer):
    first, second = new_run_id(), new_run_id()
    a, b = tokens(300, "alpha"), tokens(300, "beta")

    for one, other in zip(a, b, strict=True):
        writer.emit(first, one)
        writer.emit(second, other)
    writer.flush(first, 5)
    writer.flush(second, 5)

    assert logged(log, first) == a
    assert logged(log, second) == b


def test_emit_returns_while_the_store_is_stuck(log, writer):
    run_id = new_run_id()
    log.open.clear()

    for item in tokens(1000):
        writer.emit(run_id, item)

    assert writer.stats().events_emitted == 1000
    assert writer.stats().events_written == 0
    assert not writer.flush(run_id, 0)


def test_flush_waits_until_every_emitted_event_is_stored(log, writer):
    run_id = new_run_id()
    for item in tokens(50):
        writer.emit(run_id, item)

    flushed = writer.flush(run_id, 5)

    assert flushed
    assert len(logged(log, run_id)) == 50
    assert writer.stats().queue_depth == 0


def test_events_emitted_while_the_log_is_down_are_stored_gapless_once_it_returns(
    log, writer
):
    run_id, sent = new_run_id(), tokens(200)
    log.down = True

    for item in sent[:100]:
        writer.emit(run_id, item)
    wait_until(lambda: writer.stats().retries >= 3)
    for item in sent[100:]:
        writer.emit(run_id, item)
    log.down = False
    writer.flush(run_id, 5)

    stored = log.read(run_id, limit=1000)
    assert [s.event for s in stored] == sent
    assert [s.sequence for s in stored] == list(range(1, 201))
    assert writer.stats().store_available


def test_a_batch_whose_reply_was_lost_is_not_stored_twice(log, writer):
    run_id, sent = new_run_id(), tokens(30)
    writer.emit(run_id, token("first"))
    writer.flush(run_id, 5)
    log.lose_replies = 1
    log.open.clear()

    for item in sent:
        writer.emit(run_id, item)
    log.open.set()
    writer.flush(run_id, 5)

    assert logged(log, run_id) == [token("first"), *sent]
    assert writer.stats().retries == 1


def test_a_full_queue_holds_the_emitter_until_the_writer_frees_room(log):
    writer = EventWriter(log, capacity=10, max_batch=100, backoff=FAST)
    run_id, sent = new_run_id(), tokens(11)
    log.open.clear()
    for item in sent[:10]:
        writer.emit(run_id, item)
    late = threading.Thread(target=writer.emit, args=(run_id, sent[10]))

    late.start()
    wait_until(lambda: writer.stats().blocked_emits == 1)
    log.open.set()
    joined(late, 5)
    writer.flush(run_id, 5)

    assert not late.is_alive()
    assert logged(log, run_id) == sent
    assert writer.stats().events_dropped == 0
    writer.shutdown(5)


def test_events_for_a_run_ended_elsewhere_are_dropped_and_counted(log, writer):
    ended, other = new_run_id(), new_run_id()
    log.append(ended, [completed()])

    writer.emit(ended, token("late"))
    writer.emit(other, token("fine"))
    writer.flush(ended, 5)
    writer.flush(other, 5)

    assert logged(log, ended) == [completed()]
    assert logged(log, other) == [token("fine")]
    assert writer.stats().events_dropped == 1


def test_an_event_the_log_refuses_costs_only_itself(log, writer):
    run_id, bad = new_run_id(), event(action="too_big")
    log.open.clear()

    writer.emit(run_id, token("before"))
    writer.emit(run_id, bad)
    writer.emit(run_id, token("after"))
    log.open.set()
    writer.flush(run_id, 5)

    assert logged(log, run_id) == [token("before"), token("after")]
    assert writer.stats().events_dropped == 1


def test_shutdown_stores_everything_still_queued(log):
    writer = EventWriter(log, capacity=10_000, max_batch=10, backoff=FAST)
    run_id, sent = new_run_id(), tokens(500)
    log.open.clear()
    for item in sent:
        writer.emit(run_id, item)
    log.open.set()

    drained = writer.shutdown(10)

    assert drained
    assert logged(log, run_id) == sent


def test_shutdown_gives_up_on_a_log_that_stays_down_and_says_so(log):
    writer = EventWriter(log, capacity=100, max_batch=10, backoff=FAST)
    log.down = True
    for item in tokens(5):
        writer.emit(new_run_id(), item)

    drained = writer.shutdown(0.2)

    assert not drained
    assert writer.stats().events_dropped == 5


def test_emit_after_shutdown_is_refused(log):
    writer = EventWriter(log)
    writer.shutdown(1)

    with pytest.raises(StorageUnavailable):
        writer.emit(new_run_id(), token())


def test_a_runs_sink_emits_into_that_run(log, writer):
    run_id = new_run_id()

    writer.sink(run_id).emit(token("via sink"))
    writer.flush(run_id, 5)

    assert logged(log, run_id) == [token("via sink")]
