"""Example-based contract of the EventLog port: every adapter must pass it."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from runstream.domain.errors import InvalidRequest, RunNotActive
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import StoredEvent
from tests.factories import completed, event, new_run_id, started, token
from tests.support.polling import entering, joined, wait_until


def test_append_assigns_sequences_from_one_and_increasing_ids(event_log):
    run_id = new_run_id()

    stored = event_log.append(run_id, [started(), token(), token("more")])

    assert [e.sequence for e in stored] == [1, 2, 3]
    assert stored[0].id < stored[1].id < stored[2].id
    assert all(e.run_id == run_id for e in stored)


def test_append_continues_sequences_across_calls(event_log):
    run_id = new_run_id()
    event_log.append(run_id, [started()])

    stored = event_log.append(run_id, [token(), token()])

    assert [e.sequence for e in stored] == [2, 3]


def test_read_returns_what_append_returned(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, [started(), token("日本語のテキスト"), event()])

    assert event_log.read(run_id) == stored


def test_stored_timestamp_is_close_to_the_wall_clock(event_log):
    before = int(time.time() * 1000)

    stored = event_log.append(new_run_id(), [started()])

    assert before - 1000 <= stored[0].timestamp_ms <= int(time.time() * 1000) + 1000


def test_read_bounds_are_inclusive(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, [started()] + [token(str(i)) for i in range(5)])

    found = event_log.read(run_id, stored[1].id, stored[3].id)

    assert found == stored[1:4]


def test_read_honours_the_limit(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, [started()] + [token(str(i)) for i in range(5)])

    assert event_log.read(run_id, MIN_ID, MAX_ID, 2) == stored[:2]


def test_read_after_the_last_id_returns_nothing(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, [started(), token()])

    assert event_log.read(run_id, stored[-1].id.successor()) == []


def test_unknown_run_has_no_events_and_no_info(event_log):
    run_id = new_run_id()

    assert event_log.read(run_id) == []
    assert event_log.info(run_id) is None


def test_info_reports_oldest_and_newest(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, [started(), token(), token()])

    info = event_log.info(run_id)

    assert (info.first_id, info.first_sequence) == (stored[0].id, 1)
    assert (info.last_id, info.last_sequence) == (stored[-1].id, 3)
    assert info.length == 3
    assert not info.closed


def test_terminal_event_closes_the_log(event_log):
    run_id = new_run_id()
    event_log.append(run_id, [started(), completed()])

    with pytest.raises(RunNotActive):
        event_log.append(run_id, [token()])

    assert event_log.info(run_id).closed
    assert len(event_log.read(run_id)) == 2


def test_batch_with_an_event_after_a_terminal_one_stores_nothing(event_log):
    run_id = new_run_id()
    event_log.append(run_id, [started()])

    with pytest.raises(RunNotActive):
        event_log.append(run_id, [token(), completed(), token()])

    assert len(event_log.read(run_id)) == 1


def test_wait_returns_immediately_when_events_are_already_there(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, [started(), token()])

    found = event_log.wait({run_id: stored[0].id}, timeout=5)

    assert found == {run_id: stored[1:]}


def test_wait_times_out_with_nothing(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, [started()])

    assert event_log.wait({run_id: stored[0].id}, timeout=0.05) == {}


def test_wait_returns_everything_after_the_cursor_in_log_order(event_log):
    run_id = new_run_id()
    first = event_log.append(run_id, [started()])[0]
    news = event_log.append(run_id, [token("a"), token("b"), token("c")])

    found = event_log.wait({run_id: first.id}, timeout=5)

    assert found == {run_id: news}


def test_wait_with_zero_timeout_does_not_block(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, [started()])

    assert event_log.wait({run_id: stored[0].id}, timeout=0) == {}


def test_wait_wakes_when_another_thread_appends_after_it_started(event_log):
    run_id = new_run_id()
    first = event_log.append(run_id, [started()])[0]
    waiting = threading.Event()
    result: dict = {}

    def waiter() -> None:
        with entering(type(event_log).wait, waiting):
            result.update(event_log.wait({run_id: first.id}, timeout=10))

    thread = threading.Thread(target=waiter)
    thread.start()
    assert waiting.wait(10)
    appended = event_log.append(run_id, [token()])
    joined(thread, 15)

    assert result == {run_id: appended}


def test_wait_watches_many_runs_and_reports_only_those_with_news(event_log):
    quiet, busy = new_run_id(), new_run_id()
    quiet_last = event_log.append(quiet, [started()])[-1]
    busy_last = event_log.append(busy, [started()])[-1]
    news = event_log.append(busy, [token()])

    found = event_log.wait({quiet: quiet_last.id, busy: busy_last.id}, timeout=5)

    assert found == {busy: news}


def test_finish_keeps_events_until_the_ttl_passes(log_backend):
    log = log_backend.make(ttl_seconds=1)
    run_id = new_run_id()
    log.append(run_id, [started(), completed()])

    log.finish(run_id)

    assert len(log.read(run_id)) == 2
    wait_until(lambda: log.info(run_id) is None, "the log to expire", timeout=10)
    assert log.read(run_id) == []
    log_backend.purge([run_id])


def test_store_copies_events_with_their_ids_and_skips_known_ones(
    event_log, log_backend
):
    source_run = new_run_id()
    original = event_log.append(source_run, [started(), token(), token()])
    copy_run = new_run_id()
    copies = [
        StoredEvent(e.id, copy_run, e.sequence, e.timestamp_ms, e.event)
        for e in original
    ]

    first = event_log.store(copy_run, copies[:2])
    again = event_log.store(copy_run, copies)

    assert (first, again) == (2, 1)
    assert event_log.read(copy_run) == copies


def test_append_after_store_continues_the_copied_log(event_log):
    run_id = new_run_id()
    copied = [StoredEvent(EventId(5_000, 3), run_id, 1, 5_000, started())]
    event_log.store(run_id, copied)

    stored = event_log.append(run_id, [token()])

    assert stored[0].sequence == 2
    assert stored[0].id > EventId(5_000, 3)


def test_store_refuses_events_that_do_not_continue_the_log(event_log):
    run_id = new_run_id()
    event_log.append(run_id, [started()])
    last = event_log.info(run_id).last_id
    skipping = StoredEvent(EventId(last.ms + 10, 0), run_id, 3, last.ms + 10, token())

    with pytest.raises(InvalidRequest):
        event_log.store(run_id, [skipping])

    assert len(event_log.read(run_id)) == 1


def test_concurrent_copiers_of_the_same_events_store_each_event_once(event_log):
    source, target = new_run_id(), new_run_id()
    events = event_log.append(source, [started(), *(token(str(n)) for n in range(59))])
    copies = [replace(e, run_id=target) for e in events]
    stored: list[int] = []
    errors: list[Exception] = []

    def copier() -> None:
        try:
            for end in range(5, len(copies) + 1, 5):
                stored.append(event_log.store(target, copies[:end]))
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=copier) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        joined(thread, 60)

    assert errors == []
    assert sum(stored) == len(copies)
    assert event_log.read(target, MIN_ID, MAX_ID, 1000) == copies


def test_wait_over_successive_head_snapshots_finds_what_plain_cursors_find(event_log):
    """The hub hands `wait` snapshots that say which runs moved since the one
    before (application/live/heads.py); an adapter that packs its read from the
    last one must still read after every run's current cursor."""
    from runstream.application.live.heads import RunHeads

    first, second, third = new_run_id(), new_run_id(), new_run_id()
    heads = RunHeads()
    for run_id in (first, second):
        heads.set(run_id, event_log.append(run_id, [started()])[-1].id)
    assert event_log.wait(heads.snapshot(), timeout=0) == {}

    news = event_log.append(first, [token()])
    snapshot = heads.snapshot()  # nothing moved yet: the news is after the head
    assert event_log.wait(snapshot, timeout=0) == {first: news}
    assert event_log.wait(dict(snapshot), timeout=0) == {first: news}

    heads.set(first, news[-1].id)  # only `first` moved
    assert event_log.wait(heads.snapshot(), timeout=0) == {}
    more = event_log.append(second, [token()])
    assert event_log.wait(heads.snapshot(), timeout=0) == {second: more}

    heads.set(third, event_log.append(third, [started()])[-1].id)  # a run joins
    heads.drop(first)  # and one leaves
    late = event_log.append(first, [token()])
    found = event_log.wait(heads.snapshot(), timeout=0)
    assert found == {second: more} and late

    heads.set(second, more[-1].id)
    heads.set(first, news[-1].id)  # back, at the end of the order
    snapshot = heads.snapshot()
    assert event_log.wait(snapshot, timeout=0) == {first: late}
    assert event_log.wait(snapshot, timeout=0) == {first: late}  # the same again
