"""FleetTier: processes sharing one tier record agree on the tier, a process
cut off from Redis alone cannot move the fleet, a switch waits for every live
process's archive."""

from __future__ import annotations

import time

import pytest

from runstream.adapters.tiered.fleet_tier import FleetTier
from runstream.adapters.tiered.fleet_timing import FleetTiming
from runstream.adapters.tiered.tier_record import (
    FLUSH,
    REDIS,
    SQL,
    TO_REDIS,
    TO_SQL,
    LocalTierRecord,
)
from runstream.domain.errors import LogLost, StorageUnavailable
from tests.support.polling import wait_until

FAST = FleetTiming(lease=0.05, beat=0.01, healthy=5.0, gone=5.0, in_flight=0.0,
                   settle=0.2, unseen=0.3)  # fmt: skip


class Process:
    """One process's view: its own Redis link, its archive flush, its failback."""

    def __init__(
        self, record: LocalTierRecord, name: str, fail_back=None, redis_up=True
    ) -> None:
        self.redis_up = redis_up
        self.lost_incarnation = False
        self.flushes = 0
        self.flush_works = True
        self.copied_back: list[int] = []
        self.tier = FleetTier(
            record,
            member_id=name,
            probe=self._probe,
            flush=self._flush,
            fail_back=fail_back or self.copied_back.append,
            timing=FAST,
        )

    def _probe(self) -> None:
        if not self.redis_up:
            raise StorageUnavailable("link cut")
        if self.lost_incarnation:
            raise LogLost("Redis restarted without its data")

    def _flush(self) -> bool:
        self.flushes += 1
        return self.flush_works


def fleet(record, *names, redis_up=True):
    """Processes that each sent a first heartbeat, Redis reachable or not."""
    processes = [Process(record, name, redis_up=redis_up) for name in names]
    for process in processes:
        process.tier.tick()
    return processes


def switching(record):
    """Two processes that lost Redis: `a` asked the fleet to switch to SQL,
    `b` cannot flush its archive yet."""
    a, b = fleet(record, "a", "b", redis_up=False)
    b.flush_works = False
    a.tier.redis_failed(StorageUnavailable("down"))
    return a, b


def after_a_barrier(record):
    """One process whose Redis lost events: the fleet flushed and serves again."""
    (a,) = fleet(record, "a")
    with pytest.raises(StorageUnavailable):
        a.tier.redis_lost("lost")
    tick_until(record, REDIS, a)
    return a


def tick_until(record, tier, *processes, timeout=5.0):
    """Heartbeats of every process until the record says `tier`."""
    deadline = time.monotonic() + timeout
    while record.read().tier != tier:
        assert time.monotonic() < deadline, f"still {record.read().tier}"
        for process in processes:
            process.tier.tick()
        time.sleep(0.01)


@pytest.fixture
def record():
    return LocalTierRecord()


def test_a_process_cut_off_while_another_reaches_redis_refuses_and_nothing_moves(
    record,
):
    a, b = fleet(record, "a", "b")
    a.redis_up = False

    with pytest.raises(StorageUnavailable, match="others reach it"):
        a.tier.redis_failed(StorageUnavailable("timeout"))

    assert record.read().tier == REDIS
    assert b.tier.writable() == REDIS


def test_a_switch_waits_until_every_live_process_flushed_its_archive(record):
    a, b = switching(record)

    b.tier.tick()
    a.tier.tick()
    held = record.read().tier
    b.flush_works = True
    tick_until(record, SQL, a, b)

    assert held == TO_SQL
    assert record.read().tier == SQL
    assert a.tier.writable() == b.tier.writable() == SQL


def test_a_switch_is_abandoned_when_a_process_reaches_redis_meanwhile(record):
    a, b = switching(record)

    b.redis_up = True
    tick_until(record, REDIS, b)

    assert record.read().epoch == 2  # to_sql, then straight back to redis


def test_a_write_during_a_switch_waits_then_answers_unavailable(record):
    a, _b = switching(record)

    with pytest.raises(StorageUnavailable, match="to_sql"):
        a.tier.writable()


def test_failback_copies_back_once_and_the_fleet_returns_to_redis(record):
    a, b = fleet(record, "a", "b", redis_up=False)
    a.tier.redis_failed(StorageUnavailable("down"))
    tick_until(record, SQL, a, b)
    outage = record.read().outage_ms

    a.redis_up = b.redis_up = True
    tick_until(record, REDIS, a, b)

    assert record.read().tier == REDIS
    assert a.copied_back == [outage] and b.copied_back == []
    assert b.tier.writable() == REDIS


def test_a_failback_that_fails_leaves_sql_serving(record):
    def broken(outage_ms: int) -> None:
        raise StorageUnavailable("Redis went away again")

    a = Process(record, "a", fail_back=broken, redis_up=False)
    a.tier.tick()
    a.tier.redis_failed(StorageUnavailable("down"))
    a.redis_up = True

    a.tier.tick()

    assert record.read().tier == SQL
    assert record.read().tier != TO_REDIS


def test_redis_losing_events_holds_appends_until_every_archive_is_flushed(
    record,
):
    a, b = fleet(record, "a", "b")

    with pytest.raises(StorageUnavailable, match="flushed"):
        a.tier.redis_lost("run 7 lost events")
    barrier = record.read().tier
    tick_until(record, REDIS, a, b)

    assert barrier == FLUSH
    assert a.flushes == 1 and b.flushes == 1
    assert a.copied_back == b.copied_back == []


def test_right_after_a_failback_a_run_behind_is_reseeded_without_a_barrier(record):
    a = after_a_barrier(record)
    epoch = record.read().epoch

    a.tier.redis_lost("another run lost events")

    assert record.read().epoch == epoch


def test_redis_losing_events_while_it_is_down_fails_over_to_sql(record):
    a, b = fleet(record, "a", "b")
    a.redis_up = b.redis_up = False

    with pytest.raises(StorageUnavailable):
        a.tier.redis_lost("run 7 lost events")
    tick_until(record, SQL, a, b)

    assert a.flushes == 1 and b.flushes == 1


def test_after_a_failback_a_redis_failure_makes_the_next_loss_a_barrier_again(record):
    a = after_a_barrier(record)
    a.redis_up = False
    a.tier.tick()
    a.redis_up = True
    epoch = record.read().epoch

    with pytest.raises(StorageUnavailable):
        a.tier.redis_lost("lost again")

    assert record.read().epoch == epoch + 1


def test_redis_unseen_for_a_while_makes_the_next_loss_a_barrier_again(record):
    a = after_a_barrier(record)
    epoch = record.read().epoch
    unseen_from = time.monotonic()
    wait_until(lambda: time.monotonic() - unseen_from > FAST.unseen, "a while")
    a.tier.tick()

    with pytest.raises(StorageUnavailable):
        a.tier.redis_lost("lost while nobody looked")

    assert record.read().epoch == epoch + 1


def test_a_heartbeat_finding_redis_restarted_empty_flushes_every_archive(record):
    a, b = fleet(record, "a", "b")
    epoch = record.read().epoch
    a.lost_incarnation = True

    a.tier.tick()
    barrier = record.read()
    a.lost_incarnation = False  # the fleet learns the new incarnation
    tick_until(record, REDIS, a, b)

    assert (barrier.tier, barrier.epoch) == (FLUSH, epoch + 1)
    assert a.flushes == 1 and b.flushes == 1


def test_redis_restarted_right_after_a_barrier_is_a_barrier_again(record):
    a = after_a_barrier(record)
    epoch = record.read().epoch

    with pytest.raises(StorageUnavailable, match="flushed"):
        a.tier.redis_restarted("Redis lost the incarnation learnt after it")

    assert (record.read().tier, record.read().epoch) == (FLUSH, epoch + 1)


def test_a_process_taking_a_lease_after_a_silence_is_seen_alive_while_it_holds_it(
    record,
):
    # A failback's copy or a slow flush holds up the heartbeat thread; the
    # lease taken at its end must not outlive the process's last heartbeat.
    timing = FleetTiming(lease=0.3, beat=0.05, healthy=0.01, gone=0.6,
                         in_flight=0.3, settle=0.2, unseen=5.0)  # fmt: skip
    a, b = (
        FleetTier(
            record,
            member_id=name,
            probe=lambda: None,
            flush=lambda: True,
            fail_back=lambda _ms: None,
            timing=timing,
        )  # fmt: skip
        for name in "ab"
    )
    a.tick()
    b.tick()
    silent_from = time.monotonic()
    wait_until(lambda: time.monotonic() - silent_from > timing.gone, "a silence")

    leased = a.current()  # a's heartbeat thread was busy all along
    b.redis_failed(StorageUnavailable("Redis is down from b"))

    assert leased.tier == REDIS
    assert record.read().tier == TO_SQL  # b waits out a's lease, not SQL at once
