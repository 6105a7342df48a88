"""Sequence authority of the tiered log: what the hot tier (Redis) must hold.

Redis can lose acknowledged events (a restart without persistence, a promoted
lagging replica, a key deleted by hand); the archive cannot. `KnownHeads` is
this process's floor per run, the highest sequence it knows was acknowledged:
its own appends, and the archive's head, read again once it is older than
`refresh_seconds`. An append passes the floor to the hot tier, which refuses
to continue a stream that ends below it (LogBehind); the composite then copies
the archive's tail into the stream and appends again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from runstream.domain.append_plan import AppendPlan
from runstream.domain.ids import MAX_ID, EventId
from runstream.domain.model import Appended, NewEvent, RunId, StoredEvent
from runstream.domain.ports import EventLog, SelectiveEventLog

REMEMBERED_RUNS = 100_000
PAGE = 1000


class HotLog(EventLog, SelectiveEventLog, Protocol):
    """The hot tier: an EventLog that can check an AppendPlan and be re-seeded
    (and reads part of a run itself)."""

    def append_planned(
        self, run_id: RunId, events: Sequence[NewEvent], plan: AppendPlan
    ) -> Appended:
        """`append` that raises LogBehind when the log ends below `plan.floor`
        (unless `plan.gap`), and looks for the key only after `plan.keys_after`."""
        ...

    def seed(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        """`store`, except that an empty log may start at any sequence."""
        ...

    def rewind(self, run_id: RunId, after: EventId) -> int:
        """Remove the run's entries after `after` (copy_back.py); how many."""
        ...

    def renew(self) -> None:
        """Forget the store's incarnation learnt (appends raised LogLost: the
        store restarted without its data); the next append learns the current
        one. Called once what the store lost is made good."""
        ...


@runtime_checkable
class Rewindable(Protocol):
    """A primary whose entries after a point can be removed (failback only:
    writes it stored whose replies were lost, answered by the fallback)."""

    def rewind(self, run_id: RunId, after: EventId) -> int: ...


class ArchiveLog(EventLog, SelectiveEventLog, Protocol):
    """The archive: an EventLog that finds a batch by its idempotency key (and
    reads part of a run itself)."""

    def keyed_batch(self, run_id: RunId, key: str, size: int) -> list[StoredEvent]:
        """The `size` events from the one stored with `key`, or []."""
        ...


class KnownHeads:
    """The highest acknowledged sequence per run, as far as this process knows."""

    def __init__(
        self, refresh_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._refresh = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._heads: dict[RunId, tuple[int, float]] = {}

    def floor(self, run_id: RunId) -> int:
        return self._heads.get(run_id, (0, 0.0))[0]

    def stale(self, run_id: RunId) -> bool:
        """Whether the archive's head should be read (again) for this run."""
        known = self._heads.get(run_id)
        return known is None or self._clock() - known[1] >= self._refresh

    def forget_checks(self) -> None:
        """Every run's archived head is read again before its next append (the
        hot tier lost events: a floor read from the archive before the loss
        may be below what the archive holds now)."""
        with self._lock:
            for run_id, (known, _checked) in self._heads.items():
                self._heads[run_id] = (known, -self._refresh)

    def saw(self, run_id: RunId, sequence: int, *, from_archive: bool = False) -> None:
        with self._lock:
            known, checked = self._heads.pop(run_id, (0, -self._refresh))
            self._heads[run_id] = (
                max(known, sequence),
                self._clock() if from_archive else checked,
            )
            if len(self._heads) > REMEMBERED_RUNS:
                del self._heads[next(iter(self._heads))]


def reseed(hot: HotLog, archive: EventLog, run_id: RunId, last_id: str) -> None:
    """Copy into the hot log what the archive holds after the hot log's newest
    id `last_id` ("" when the hot log is empty: then only the archive's newest
    event, which is enough to continue the run's ids and sequences)."""
    if not last_id:
        info = archive.info(run_id)
        if info is not None:
            hot.seed(run_id, archive.read(run_id, info.last_id, info.last_id, 1))
        return
    cursor = EventId.parse(last_id).successor()
    while True:
        batch = archive.read(run_id, cursor, MAX_ID, PAGE)
        if not batch:
            return
        hot.seed(run_id, batch)
        cursor = batch[-1].id.successor()
