"""The hub's bookkeeping of watched runs: rings, heads, waiters, subscribers.
Not thread-safe by itself: the hub holds its lock around every call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from runstream.application.live.heads import HeadsSnapshot, RunHeads
from runstream.application.live.subscription import LiveSubscriber
from runstream.application.recent_events import RecentEvents
from runstream.domain.errors import SubscriberLagged
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent

Delivery = tuple[list[LiveSubscriber], list[tuple[StoredEvent, bytes]]]


@dataclass(frozen=True)
class HubLimits:
    ring_events: int = 4096
    ring_bytes: int = 16 * 1024 * 1024
    total_bytes: int = 256 * 1024 * 1024  # all runs' windows together
    batch_bytes: int = 1024 * 1024
    read_slice: float = 0.05
    gather_max: float = 0.010  # the longest adaptive gather (batching.py)
    linger: float = 5.0
    retry: float = 0.5


@dataclass(eq=False)
class Watch:
    """A watched run: its recent events, its waiters and pushed subscribers."""

    recent: RecentEvents
    seen: float
    waiters: set[threading.Event] = field(default_factory=set)
    subscribers: set[LiveSubscriber] = field(default_factory=set)


class WatchedRuns:
    def __init__(self, limits: HubLimits) -> None:
        self.limits = limits
        self.watches: dict[RunId, Watch] = {}
        # The head of every watch whose run is still open: what the reader reads
        # after, kept up to date so that a read does not rebuild it.
        self.heads = RunHeads()
        self.held = 0  # bytes of frames in all windows
        self.joined = threading.Event()  # a run joined or rewound: read anew
        self._next_sweep = 0.0

    def watch(self, run_id: RunId, cursor: EventId, now: float) -> Watch:
        watch = self.watches.get(run_id)
        if watch is None:
            limits = self.limits
            recent = RecentEvents(cursor, limits.ring_events, limits.ring_bytes)
            watch = self.watches[run_id] = Watch(recent, now)
            self.heads.set(run_id, cursor)
            self.joined.set()
        elif watch.recent.behind(cursor) and not watch.recent.trimmed:
            # A subscriber from before the window's start: read again from there.
            self.held -= watch.recent.size
            watch.recent.reset(cursor)
            self.heads.set(run_id, cursor)
            self.joined.set()
        watch.seen = now
        return watch

    def after(self, watch: Watch, cursor: EventId, limit: int) -> list[StoredEvent]:
        recent = watch.recent
        if recent.behind(cursor):
            raise SubscriberLagged(f"subscriber at {cursor} is behind {recent.floor}")
        return recent.after(cursor, limit, self.limits.batch_bytes)

    def ring_after(
        self, watch: Watch, cursor: EventId, encode: Callable[[StoredEvent], bytes]
    ) -> list[tuple[StoredEvent, bytes]]:
        """Everything the ring holds after `cursor`, with frames."""
        events = self.after(watch, cursor, self.limits.ring_events)
        frame = watch.recent.frame
        return [(e, frame(e.id) or encode(e)) for e in events]

    def leave(self, watches: list[Watch], waiter: threading.Event, now: float) -> None:
        for watch in watches:
            watch.waiters.discard(waiter)
            watch.seen = now

    def collect(
        self, cursors: Mapping[RunId, EventId], limit: int, now: float
    ) -> dict[RunId, list[StoredEvent]]:
        found = {}
        for run_id, cursor in cursors.items():
            events = self.after(self.watch(run_id, cursor, now), cursor, limit)
            if events:
                found[run_id] = events
        return found

    def cursors(self, now: float) -> HeadsSnapshot:
        """The heads of the open watches; drops idle ones, looking at most a few
        times per `linger`."""
        if now >= self._next_sweep:
            self._next_sweep = now + self.limits.linger / 5
            expired = now - self.limits.linger
            for run_id, watch in list(self.watches.items()):
                if not watch.waiters and not watch.subscribers and watch.seen < expired:
                    self.held -= watch.recent.size
                    del self.watches[run_id]
                    self.heads.drop(run_id)
        if not self.heads:
            self.joined.clear()
        return self.heads.snapshot()

    def add(
        self, run_id: RunId, old_head: EventId, items: list[tuple[StoredEvent, bytes]]
    ) -> Watch | None:
        """Put a read's events in the run's ring; None when the run was dropped
        or rewound meanwhile (the next read redoes it)."""
        watch = self.watches.get(run_id)
        if watch is None or watch.recent.head != old_head:
            return None
        held = watch.recent.size
        watch.recent.add(items)
        self.held += watch.recent.size - held
        if watch.recent.closed:
            self.heads.drop(run_id)
        else:
            self.heads.set(run_id, watch.recent.head)
        return watch

    def publish(
        self,
        cursors: Mapping[RunId, EventId],
        encoded: Mapping[RunId, list[tuple[StoredEvent, bytes]]],
    ) -> tuple[list[Delivery], list[threading.Event]]:
        """Put a read's events in the rings: what to push, whom to wake."""
        deliveries: list[Delivery] = []
        woken: list[threading.Event] = []
        for run_id, items in encoded.items():
            watch = self.add(run_id, cursors[run_id], items)
            if watch is not None:
                woken.extend(watch.waiters)
                if watch.subscribers:
                    deliveries.append((list(watch.subscribers), items))
        self.shrink_if_over()
        return deliveries, woken

    def release_all(self) -> tuple[list[threading.Event], list[LiveSubscriber]]:
        """Every waiter (to wake) and every subscriber (removed, to end)."""
        watches = self.watches.values()
        waiters = [waiter for watch in watches for waiter in watch.waiters]
        ended = [subscriber for watch in watches for subscriber in watch.subscribers]
        for watch in watches:
            watch.subscribers.clear()
        self.joined.set()
        return waiters, ended

    def shrink_if_over(self) -> None:
        """Over the memory bound for all runs: each keeps an equal share."""
        if self.held <= self.limits.total_bytes:
            return
        share = self.limits.total_bytes // max(1, len(self.watches))
        for watch in self.watches.values():
            held = watch.recent.size
            watch.recent.shrink_to(share)
            self.held += watch.recent.size - held
