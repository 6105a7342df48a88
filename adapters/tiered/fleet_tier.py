"""FleetTier: one decision for the whole fleet on which tier takes appends,
acted on only under a time-bounded lease (docs/operations.md, "One tier for
the whole fleet")."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from runstream.adapters.tiered.fleet_timing import FleetTiming, wall_ms
from runstream.adapters.tiered.tier_record import (
    FLUSH,
    REDIS,
    SQL,
    STABLE,
    TO_REDIS,
    TO_SQL,
    Member,
    TierRecord,
    TierState,
)
from runstream.application.periodic import Periodic
from runstream.domain.errors import LogLost, StorageUnavailable

logger = logging.getLogger(__name__)
# After a failback, Redis was re-filled from a complete archive: a run found
# behind in it is re-seeded from the archive without another barrier, unless
# this process saw Redis fail since (it may have lost events again).
RECENT_BARRIER_MS = 60_000


class FleetTier:
    """The tier this process may write to right now, and the moves between
    tiers: a switch to SQL, its promotion once every cached lease has lapsed
    and every live process flushed its archive, and the failback."""

    def __init__(
        self,
        record: TierRecord,
        *,
        member_id: str,
        probe: Callable[[], object],
        flush: Callable[[], object],
        fail_back: Callable[[int], None],
        timing: FleetTiming | None = None,
    ) -> None:
        self.record = record
        self.member_id = member_id
        self._probe = probe
        self._flush = flush
        self._fail_back = fail_back
        self.timing = timing or FleetTiming()
        self._lock = threading.Lock()
        self._state = TierState(0, REDIS, 0)
        self._valid_until = 0.0
        self._redis_ok_ms = 0
        self._flushed_epoch = 0
        self._beaten = False
        self._beaten_ms = 0
        self._refilled_ms = 0
        self._failed_ms = 0
        self._periodic = Periodic(
            "fleet-tier", self.timing.beat, self.tick, self._tick_failed
        )
        self.on_change: Callable[[TierState, TierState], None] = lambda _a, _b: None
        # Redis serves again, re-filled from a complete archive (failback) or
        # with every archive flushed (the barrier after a loss).
        self.on_refilled: Callable[[], object] = lambda: None

    @property
    def state(self) -> TierState:
        return self._state

    def current(self) -> TierState:
        """The decision, re-read once its lease lapsed; StorageUnavailable if it
        cannot be confirmed."""
        if time.monotonic() < self._valid_until:
            return self._state
        with self._lock:
            if time.monotonic() < self._valid_until:
                return self._state
            if not self._beaten:
                self._beat()
            began = time.monotonic()
            self._adopt(self.record.read(), began)
            return self._state

    def redis_lease_end_ms(self) -> int:
        """Wall-clock ms until which this process may still write to Redis
        under the fleet's decision (re-read once lapsed): a write sent later
        could land after the fleet moved to SQL (adapters/fencing.py).
        StorageUnavailable when the fleet does not write to Redis now."""
        state = self.current()
        if state.tier != REDIS:
            raise StorageUnavailable(f"the fleet's event-log tier is {state.tier}")
        return wall_ms() + int((self._valid_until - time.monotonic()) * 1000)

    def writable(self) -> str:
        """`redis` or `sql`, under a valid lease; waits while a switch is under
        way, then StorageUnavailable."""
        deadline = time.monotonic() + self.timing.settle
        while True:
            state = self.current()
            if state.tier in STABLE:
                return state.tier
            if time.monotonic() >= deadline:
                raise StorageUnavailable(f"the fleet's event-log tier is {state.tier}")
            self.advance()
            time.sleep(0.05)

    def redis_failed(self, err: StorageUnavailable) -> None:
        """Redis failed this process: switch the fleet to SQL, unless another
        process reached Redis recently (then this one is cut off: re-raise)."""
        self._failed_ms = wall_ms()
        state = self._reread()
        if state.tier != REDIS:
            return
        now = wall_ms()
        recent = now - int(self.timing.healthy * 1000)
        alive = self.record.members(now - int(self.timing.gone * 1000))
        if any(m.redis_ok_ms > recent for m in alive if m.member_id != self.member_id):
            raise StorageUnavailable(
                "Redis is unreachable from this process while others reach it"
            ) from err
        switched = self.record.swap(state.epoch, TO_SQL, now, self.member_id, now)
        if switched is not None:
            logger.warning("event log: Redis failed (%s); fleet switching to SQL", err)
            with self._lock:
                self._adopt(switched, time.monotonic())
        self.advance()

    def read_failed(self, err: StorageUnavailable) -> str:
        """A read Redis failed: `redis_failed`, then the tier once the switch
        settles. Unlike a write (answered 503 at once, the producer retries), a
        read also waits out the veto of processes that reached Redis moments ago
        (they lose it too in an outage); StorageUnavailable after `settle`."""
        deadline = time.monotonic() + self.timing.settle
        while True:
            try:
                self.redis_failed(err)
                return self.writable()
            except StorageUnavailable:
                if time.monotonic() >= deadline:
                    raise
            time.sleep(self.timing.beat)

    def redis_lost(self, why: str) -> None:
        """Redis lost acknowledged events (a stream vanished or went back):
        unless the fleet passed through SQL moments ago, every process must
        flush its archive before anyone appends again, so the fleet goes
        through SQL (`flush`: not abandoned when Redis answers). Raises
        StorageUnavailable when it starts the barrier; returns when a recent
        one makes the archive complete (the caller re-seeds Redis from it)."""
        state = self._reread()
        now = wall_ms()
        recent = now - self._refilled_ms < RECENT_BARRIER_MS
        if state.tier == REDIS and recent and self._failed_ms < self._refilled_ms:
            return
        if state.tier == REDIS:
            switched = self.record.swap(state.epoch, FLUSH, now, self.member_id, now)
            if switched is not None:
                logger.warning("event log: %s; the fleet flushes through SQL", why)
                with self._lock:
                    self._adopt(switched, time.monotonic())
        raise StorageUnavailable(f"{why}; the fleet's archives are being flushed")

    def redis_restarted(self, why: str) -> None:
        """Redis lost the incarnation this process learnt: it restarted without
        its data (or was flushed), so any run may have lost events that are
        still queued in some process's archive. The fleet flushes through SQL
        (`redis_lost`) unless this process has seen a barrier end since the
        loss (then it returns: its caller renews and appends)."""
        self._failed_ms = wall_ms()
        self.redis_lost(why)

    def advance(self) -> None:
        """Take the next step of a switch or failback if its conditions hold."""
        state = self._reread()
        if state.tier in (TO_SQL, FLUSH):
            self._promote(state)
        elif state.tier == SQL and self._redis_ok_recently():
            self._start_fail_back(state)
        elif state.tier == TO_REDIS and self._redis_ok_recently():
            stuck = wall_ms() > state.since_ms + self.timing.takeover * 1000
            if stuck:
                self._start_fail_back(state)

    def start(self) -> None:
        self._periodic.start()

    def stop(self, timeout: float = 5.0) -> bool:
        return self._periodic.stop(timeout)

    def tick(self) -> None:
        """One heartbeat: probe Redis, report, take the next step if due."""
        try:
            self._probe()
            now = wall_ms()
            if now - self._redis_ok_ms > self.timing.unseen * 1000:
                self._failed_ms = now  # it may have restarted unseen
            self._redis_ok_ms = now
        except LogLost as lost:  # Redis answers, without its data
            self._redis_ok_ms = wall_ms()
            with contextlib.suppress(StorageUnavailable):
                self.redis_restarted(str(lost))
        except StorageUnavailable:
            self._failed_ms = wall_ms()
        self._beat()
        self.advance()

    def _tick_failed(self, err: Exception) -> None:
        if isinstance(err, StorageUnavailable):
            logger.debug("event-log tier not confirmed: %s", err)
        else:
            logger.error("event-log tier step failed; trying again", exc_info=err)

    def _reread(self) -> TierState:
        with self._lock:
            self._adopt(self.record.read(), time.monotonic())
            return self._state

    def _adopt(self, state: TierState, read_at: float) -> None:
        before, self._state = self._state, state
        lease = self.timing.lease if state.tier in STABLE else 0.05
        if state.tier in STABLE and not self._seen_for(lease):
            # Others stop waiting for a process silent for `gone`: it must not
            # act on a lease outliving its last heartbeat (a failback's copy,
            # or a slow flush, holds up the heartbeat thread meanwhile).
            try:
                self._beat()
            except StorageUnavailable:
                lease = 0.0
        self._valid_until = read_at + lease
        if state.tier in (TO_SQL, FLUSH) and self._flushed_epoch < state.epoch:
            self._valid_until = 0.0  # flush first (in `_promote`)
        if before.epoch != state.epoch:
            if state.tier == REDIS and before.tier in (SQL, TO_REDIS, FLUSH):
                self._refilled_ms = wall_ms()
                self.on_refilled()
            self.on_change(before, state)

    def _beat(self) -> None:
        now = wall_ms()
        member = Member(self.member_id, now, self._redis_ok_ms, self._flushed_epoch)
        self.record.beat(member)
        self._beaten, self._beaten_ms = True, now

    def _seen_for(self, lease: float) -> bool:
        """Whether the last heartbeat keeps this process alive in the others'
        eyes (`gone`) for all of a lease taken now, a beat to spare."""
        spare = self.timing.gone - lease - self.timing.beat
        return wall_ms() - self._beaten_ms < spare * 1000

    def _redis_ok_recently(self) -> bool:
        return self._redis_ok_ms > wall_ms() - int(self.timing.beat * 3000)

    def _promote(self, state: TierState) -> None:
        """SQL takes appends once no cached Redis lease can still be acted on
        and every live process's archive holds what Redis acknowledged; a
        process reaching Redis since the switch began aborts it."""
        if self._flushed_epoch < state.epoch:
            self._beat()  # alive, though the flush may outlast a beat or two
            if self._flush() is not False:
                self._flushed_epoch = state.epoch
                self._beat()
        now = wall_ms()
        alive = self.record.members(now - int(self.timing.gone * 1000))
        answered = any(m.redis_ok_ms > state.since_ms for m in alive)
        if state.tier == TO_SQL and answered:
            self._swap(state, REDIS, "Redis answers again; switch abandoned")
            return
        others = [m for m in alive if m.member_id != self.member_id]
        fenced = not others or now >= state.since_ms + self.timing.fence_ms
        if not fenced or any(m.flushed_epoch < state.epoch for m in alive):
            return
        if state.tier == FLUSH and answered:
            # Redis is up and every archive is complete: Redis serves again,
            # runs it lost are re-seeded from the archive as they are appended.
            self._swap(state, REDIS, "every archive flushed; Redis serves again")
        else:
            self._swap(state, SQL, "every process let go of Redis; SQL serves")

    def _start_fail_back(self, state: TierState) -> None:
        held = self._swap(state, TO_REDIS, "Redis answers; failing back")
        if held is None:
            return
        others = self.record.members(wall_ms() - int(self.timing.gone * 1000))
        if any(m.member_id != self.member_id for m in others):
            time.sleep(self.timing.fence_ms / 1000)  # every SQL lease lapses
        try:
            self._fail_back(held.outage_ms)
        except StorageUnavailable as err:
            self._swap(held, SQL, f"failback failed ({err}); SQL serves")
            return
        self._swap(held, REDIS, "failback done; Redis serves")

    def _swap(self, state: TierState, tier: str, why: str) -> TierState | None:
        now = wall_ms()
        new = self.record.swap(state.epoch, tier, now, self.member_id)
        if new is not None:
            logger.warning("event log: %s (epoch %d)", why, new.epoch)
            with self._lock:
                self._adopt(new, time.monotonic())
        return new
