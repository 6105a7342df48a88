"""Sequence authority and idempotency keys beyond the Redis hot window: a stream
deleted by hand or trimmed, with and without the SQL archive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from runstream.adapters.redis_stream.codec import stored_fields, stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.adapters.redis_stream.scripts import (
    ACTION_FROM_END,
    CATEGORY_FROM_END,
    DIGEST_AT,
    KEY_AT,
    SEQUENCE_AT,
)
from runstream.adapters.tiered.archived_log import ArchivedEventLog
from runstream.adapters.tiered.archiver import Archiver
from runstream.domain.ids import EventId
from runstream.domain.model import Idempotency, StoredEvent
from tests.factories import new_run_id, started, token
from tests.services import require_redis
from tests.support.held_archive import HeldArchive
from tests.support.polling import wait_until
from tests.support.redis_backend import _client, redis_log_backend
from tests.support.sql_backend import sqlite_log_backend
from tests.support.tiered_backend import archived


@pytest.mark.parametrize("with_source", [False, True])
@pytest.mark.parametrize("keyed", [None, Idempotency("k", "d")])
def test_the_positions_the_scripts_read_are_the_codecs_layout(with_source, keyed):
    event = token() if with_source else started()
    stored = StoredEvent(EventId(1, 0), 1, 7, 0, event, keyed)

    fields = ("",) + stored_fields(stored)  # Lua lists count from 1
    n = len(fields) - 1

    assert fields[SEQUENCE_AT : SEQUENCE_AT + 2] == ("sequence", "7")
    assert fields[n - CATEGORY_FROM_END] == "event_category"
    assert fields[n - ACTION_FROM_END] == "event_action"
    if keyed is not None:
        assert fields[KEY_AT : KEY_AT + 2] == ("idempotency_key", "k")
        assert fields[DIGEST_AT : DIGEST_AT + 2] == ("idempotency_digest", "d")


@pytest.fixture
def redis():
    return _client(require_redis())


@pytest.mark.redis
def test_alone_a_vanished_stream_continues_after_the_floor_leaving_a_gap(redis):
    log = redis_log_backend().make()
    run_id = new_run_id()
    before = log.append(run_id, [started(), token(), token()])
    redis.delete(stream_key(run_id))

    after = log.append(run_id, [token("next")])

    assert after[0].sequence == 4
    assert after[0].id > before[-1].id
    assert log.read(run_id) == after


@pytest.mark.redis
def test_another_process_continues_a_vanished_stream_from_the_archive(redis):
    hot, cold = redis_log_backend(), sqlite_log_backend()
    first = archived(hot.make(), cold.make())
    run_id = new_run_id()
    before = first.append(run_id, [started(), token(), token()])
    assert first.archiver.flush()
    redis.delete(stream_key(run_id))
    other = archived(hot.make(), cold.make())

    after = other.append(run_id, [token("next")])

    assert after[0].sequence == 4
    assert other.read(run_id) == before + after
    assert other.info(run_id).last_sequence == 4


@pytest.mark.redis
def test_reads_add_what_a_shorter_redis_copy_lost(redis):
    hot, cold = redis_log_backend(), sqlite_log_backend()
    log = archived(hot.make(), cold.make())
    run_id = new_run_id()
    stored = log.append(run_id, [started(), token(), token(), token()])
    assert log.archiver.flush()
    redis.delete(stream_key(run_id))
    copy = RedisStreamEventLog(redis)
    copy.store(run_id, stored[:2])
    reader = archived(hot.make(), cold.make())

    assert reader.read(run_id) == stored


@pytest.mark.redis
def test_a_key_whose_batch_left_the_hot_window_is_found_in_the_archive(redis):
    hot, cold = redis_log_backend(), sqlite_log_backend()
    log = archived(hot.make(), cold.make())
    run_id = new_run_id()
    log.append(run_id, [started()])
    request = Idempotency("early", "digest")
    first = log.append(run_id, [token("a")], request)
    log.append(run_id, [token("b"), token("c")])
    assert log.archiver.flush()
    redis.xtrim(stream_key(run_id), minid=str(first[-1].id.successor()))

    again = log.append(run_id, [token("a")], request)

    assert again.replayed and list(again) == list(first)
    assert [e.sequence for e in log.read(run_id)] == [1, 2, 3, 4]


@pytest.mark.redis
def test_a_keyed_retry_answered_from_redis_queues_the_batch_for_the_archive(redis):
    hot, cold = redis_log_backend(), sqlite_log_backend()
    log = archived(hot.make(), cold.make())
    run_id = new_run_id()
    before = log.append(run_id, [started()])
    request = Idempotency("reply-lost", "digest")
    first = hot.make().append(run_id, [token("x")], request)

    again = log.append(run_id, [token("x")], request)
    assert log.archiver.flush()
    redis.delete(stream_key(run_id))

    assert again.replayed and list(again) == list(first)
    assert log.read(run_id) == before + first


@pytest.mark.redis
def test_an_event_a_follower_was_served_outlives_redis_losing_it_unarchived(redis):
    hot, cold = redis_log_backend(), sqlite_log_backend()
    appender, server = (
        archived(hot.make(), cold.make()),
        archived(hot.make(), cold.make()),
    )
    run_id = new_run_id()
    before = appender.append(run_id, [started(), token()])
    assert appender.archiver.flush()
    request = Idempotency("reply-lost", "digest")
    unanswered = hot.make().append(run_id, [token("x")], request)
    served = server.wait({run_id: before[-1].id}, timeout=5)
    redis.delete(stream_key(run_id))

    assert server.flush()
    retried = appender.append(run_id, [token("x")], request)

    assert served == {run_id: list(unanswered)}
    assert retried.replayed and list(retried) == list(unanswered)
    assert appender.read(run_id) == before + unanswered


@pytest.mark.redis
def test_a_live_wait_after_redis_lost_a_run_never_jumps_over_archived_events(redis):
    hot, cold = redis_log_backend(), sqlite_log_backend()
    log = archived(hot.make(), cold.make())
    run_id = new_run_id()
    before = log.append(run_id, [started(), token("1"), token("2"), token("3")])
    assert log.archiver.flush()
    redis.delete(stream_key(run_id))  # Redis lost the run
    after = log.append(run_id, [token("4")])  # re-seeded: the archive's newest

    # A follower that saw the first two events waits for the next ones.
    found = log.wait({run_id: before[1].id}, timeout=5)

    assert [e.id for e in found[run_id]] == [e.id for e in (*before[2:], *after)]


@dataclass
class TwoProcesses:
    """Two processes' archived logs on one Redis and one archive, a run started
    and archived through `a`, then both archives' writes held."""

    cold: Any
    held_a: HeldArchive
    held_b: HeldArchive
    a: Any
    b: Any
    run_id: int
    first: list[Any]

    @classmethod
    def held(cls) -> TwoProcesses:
        hot, cold = redis_log_backend(), sqlite_log_backend().make()
        held_a, held_b = HeldArchive(cold), HeldArchive(cold)
        a, b = archived(hot.make(), held_a), archived(hot.make(), held_b)
        run_id = new_run_id()
        first = a.append(run_id, [started()])
        assert a.archiver.flush()
        held_a.released.clear()
        held_b.released.clear()
        return cls(cold, held_a, held_b, a, b, run_id, first)


@pytest.mark.redis
def test_queued_events_that_redis_lost_wait_for_the_gap_before_them(redis):
    two = TwoProcesses.held()
    a, b, run_id, first = two.a, two.b, two.run_id, two.first
    from_b = b.append(run_id, [token("b")])
    from_a = a.append(run_id, [token("a")])
    redis.delete(stream_key(run_id))

    two.held_a.released.set()
    wait_until(lambda: a.archiver.stats().repairs >= 1, "a's archive finds the gap")
    two.held_b.released.set()

    assert b.archiver.flush(10) and a.archiver.flush(10)
    assert two.cold.read(run_id) == first + from_b + from_a


@pytest.mark.redis
def test_two_queues_each_missing_events_of_the_other_both_reach_the_archive(redis):
    two = TwoProcesses.held()
    a, b, run_id, first = two.a, two.b, two.run_id, two.first
    a.append(new_run_id(), [started()])  # each archiver busy: the next queue up
    b.append(new_run_id(), [started()])
    appended = []
    for n in range(4):
        appended += (a if n % 2 == 0 else b).append(run_id, [token(str(n))])
    redis.delete(stream_key(run_id))

    two.held_a.released.set()
    two.held_b.released.set()

    assert a.archiver.flush(10) and b.archiver.flush(10)
    assert two.cold.read(run_id) == first + appended


@pytest.mark.redis
def test_two_archivers_alternating_on_a_run_redis_lost_fill_each_others_gaps_soon(
    redis,
):
    # Each waits for the gap the other fills: at the 30 s retry of a failed
    # tick they would take turns for minutes; a gap is retried within 50 ms.
    hot, cold = redis_log_backend(), sqlite_log_backend().make()
    held = HeldArchive(cold)
    logs = []
    for _ in range(2):
        redis_log = hot.make()
        archiver = Archiver(redis_log, held, lambda _run: None, retry_seconds=30)
        logs.append(ArchivedEventLog(redis_log, held, archiver))
    run_id = new_run_id()
    try:
        appended = list(logs[0].append(run_id, [started()]))
        held.released.clear()
        for n in range(20):
            appended += logs[n % 2].append(run_id, [token(str(n))])
        redis.delete(stream_key(run_id))  # the gaps are in the other queue only
        held.released.set()

        flushed = [log.archiver.flush(10) for log in logs]
    finally:
        held.released.set()
        for log in logs:
            log.archiver.stop(2.0)

    assert flushed == [True, True]
    assert cold.read(run_id) == appended
