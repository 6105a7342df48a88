"""Archiver: the write-behind copy of a hot log's events into the archive."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from runstream.adapters.tiered.archive_tick import Tick, TickWork, copy_tick
from runstream.adapters.tiered.linger import MAX_LINGER, LingerControl
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)
# How soon queued events waiting for a gap before them are tried again.
GAP_RETRY_SECONDS = 0.05
# What the linger between ticks aims at (linger.py): a tick's CPU per event.
TARGET_CPU_PER_EVENT = 35e-6


@dataclass(frozen=True)
class ArchiveStats:
    pending_events: int
    pending_runs: int
    oldest_pending_seconds: float
    archived_events: int
    repairs: int
    errors: int


class Archiver:
    """One thread copies what the hot log stored into the archive, idempotent
    (the archive's `store` skips ids it has), in ticks: each tick takes every
    run with something queued and copies them all in one transaction
    (archive_tick.py), so a tick's fixed cost is shared by all its events.
    Between ticks it lingers (1 ms to `max_linger`, linger.py), long enough at the
    current rate for a tick's own cost spread over its events to stay near
    `target_cpu_per_event`: a low rate makes few, fuller transactions, a high
    one hardly waits; `flush` and `stop` cut the linger short.

    A run's hot copy is finished (its expiry starts) only once the archive holds
    every event of the run. If a batch does not continue the archive (events
    appended by another process, or queued past `capacity`), the missing span is
    repaired by reading the hot log. At most `capacity` events are queued.

    The thread starts with `start` (or the first event queued) and ends with
    `stop`. With `lag_samples`, the last that many archive lags (seconds from
    queueing to archived, one per run and tick) are kept for the tiers benchmark.
    """

    def __init__(
        self,
        hot: EventLog,
        archive: EventLog,
        on_finished: Callable[[RunId], None],
        *,
        capacity: int = 200_000,
        retry_seconds: float = 0.5,
        lag_samples: int = 0,
        target_cpu_per_event: float = TARGET_CPU_PER_EVENT,
        max_linger: float = MAX_LINGER,
    ) -> None:
        self._hot = hot
        self._archive = archive
        self._on_finished = on_finished
        self._capacity = capacity
        self._retry = retry_seconds
        self._linger = LingerControl(target_cpu_per_event, max_linger=max_linger)
        self._last_tick = time.monotonic()
        self._changed = threading.Condition()
        self._pending: dict[RunId, list[StoredEvent]] = {}
        self._since: dict[RunId, float] = {}
        self._dirty: set[RunId] = set()
        self._finishing: set[RunId] = set()
        self._queued = 0
        self._busy = False
        self._hurry = 0
        self._counts = collections.Counter[str]()
        self.lag_samples = collections.deque[float](maxlen=lag_samples)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stop_requested = threading.Event()
        self._gap_since: dict[RunId, float] = {}

    def start(self) -> None:
        """Start the copying thread (once; never again after `stop`)."""
        with self._changed:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(
                target=self._loop, daemon=True, name="archiver"
            )
            self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Archive what is queued for up to `timeout` seconds, then end the
        thread; False if it was still busy (what it held stays unarchived)."""
        deadline = time.monotonic() + timeout
        flushed = self._thread is None or self.flush(timeout)
        with self._changed:
            self._stopping = True
            self._stop_requested.set()
            thread = self._thread
            self._changed.notify_all()
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
            return flushed and not thread.is_alive()
        return flushed

    def add(self, run_id: RunId, events: list[StoredEvent]) -> None:
        """Queue stored events; never blocks on the archive."""
        self.start()
        with self._changed:
            self._since.setdefault(run_id, time.monotonic())
            if self._queued + len(events) > self._capacity:
                self._dirty.add(run_id)
            else:
                self._pending.setdefault(run_id, []).extend(events)
                self._queued += len(events)
            # The thread waits idle for a first run, or lingers on its own.
            if len(self._since) == 1 or self._queued >= self._capacity // 2:
                self._changed.notify()

    def finish(self, run_id: RunId) -> None:
        """Once the run is fully archived, finish it in the archive and then call
        `on_finished` (which starts the hot copy's expiry)."""
        self.start()
        with self._changed:
            self._finishing.add(run_id)
            self._since.setdefault(run_id, time.monotonic())
            self._changed.notify()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued is archived (or `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._hurry += 1
            self._changed.notify_all()
            try:
                while self._since or self._busy:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._changed.wait(remaining)
                return True
            finally:
                self._hurry -= 1

    def stats(self) -> ArchiveStats:
        with self._changed:
            oldest = min(self._since.values(), default=time.monotonic())
            return ArchiveStats(
                self._queued,
                len(self._since),
                time.monotonic() - oldest,
                self._counts["archived"],
                self._counts["repairs"],
                self._counts["errors"],
            )

    @property
    def linger(self) -> float:
        """The current wait between ticks, in seconds."""
        return self._linger.linger

    def _loop(self) -> None:
        while (tick := self._next_tick()) is not None:
            cpu = time.thread_time()
            left = copy_tick(
                self._hot,
                self._archive,
                tick,
                self._on_finished,
                self._counts,
                self._gap_since,
            )
            self._adapt(tick, time.thread_time() - cpu)
            archived = time.monotonic()
            if self.lag_samples.maxlen:
                self.lag_samples.extend(
                    archived - work.started
                    for run_id, work in tick.items()
                    if work.events and not (run_id in left and left[run_id].events)
                )
            if left:
                self._requeue(left)
                self._stop_requested.wait(self._retry_after(left))

    def _retry_after(self, left: Tick) -> float:
        """How long a tick's leftovers wait: briefly when every one waits for a
        gap before it (events another process acknowledged, which Redis lost:
        that process's archiver is filling it now, a stretch at a time, so
        two archivers alternating on one run must not take turns at 0.5 s)."""
        if all(run_id in self._gap_since for run_id in left):
            return min(self._retry, GAP_RETRY_SECONDS)
        return self._retry

    def _next_tick(self) -> Tick | None:
        """Every run's queued work, once the oldest has lingered (None: stop)."""
        with self._changed:
            while True:
                if self._stopping:
                    self._busy = False
                    self._changed.notify_all()
                    return None
                if not self._since:
                    self._busy = False
                    self._changed.notify_all()
                    self._changed.wait()
                    continue
                due = min(self._since.values()) + self._linger.linger
                wait = due - time.monotonic()
                if wait <= 0 or self._hurry or self._queued >= self._capacity // 2:
                    break
                self._changed.wait(wait)
            self._busy = True
            tick = {
                run_id: TickWork(
                    self._pending.pop(run_id, []),
                    started,
                    run_id in self._dirty,
                    run_id in self._finishing,
                )
                for run_id, started in self._since.items()
            }
            self._since.clear()
            self._dirty.clear()
            self._finishing.clear()
            self._queued = 0
            return tick

    def _adapt(self, tick: Tick, cpu: float) -> None:
        events = sum(len(work.events) for work in tick.values())
        now = time.monotonic()
        rate = events / max(now - self._last_tick, 1e-3)
        self._last_tick = now
        self._linger.tick(events, cpu, rate)

    def _requeue(self, tick: Tick) -> None:
        with self._changed:
            for run_id, work in tick.items():
                if work.dirty:
                    self._dirty.add(run_id)
                if work.events:
                    self._pending[run_id] = work.events + self._pending.get(run_id, [])
                    self._queued += len(work.events)
                self._since[run_id] = min(
                    work.started, self._since.get(run_id, work.started)
                )
                if work.finishing:
                    self._finishing.add(run_id)
