"""What this process served from the hot tier that no archive may hold yet.

An event can be stored in Redis without its appender learning it (the reply
was lost, or came after the caller's timeout): no archive queue holds it. If a
follower was served it and Redis then loses it (a restart without persistence),
the log would no longer hold an event someone saw, and the producer's retry
would store it again under a new id. So every process remembers, for a short
while, the events it served from Redis above what it knows acknowledged, and
writes them into the archive when the fleet flushes its archives (a switch to
SQL, or Redis found to have lost events): the retry then finds its key there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from runstream.domain.errors import DomainError, InvalidRequest, StorageUnavailable
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)


class ObservedEvents:
    """The events served lately, per run, for at most `keep_seconds` and at
    most `capacity` in all (the oldest are forgotten first)."""

    def __init__(
        self,
        keep_seconds: float = 30.0,
        capacity: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keep = keep_seconds
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: deque[tuple[float, RunId, StoredEvent]] = deque()

    def saw(self, run_id: RunId, events: Sequence[StoredEvent]) -> None:
        now = self._clock()
        with self._lock:
            self._seen.extend((now, run_id, event) for event in events)
            self._forget(now)

    def recent(self, floor: Callable[[RunId], int]) -> dict[RunId, list[StoredEvent]]:
        """Each run's remembered events above its `floor` (what is known
        acknowledged, hence queued or archived), in log order, each once."""
        with self._lock:
            self._forget(self._clock())
            seen = list(self._seen)
        runs: dict[RunId, dict[EventId, StoredEvent]] = {}
        for _at, run_id, event in seen:
            runs.setdefault(run_id, {})[event.id] = event
        kept = {}
        for run_id, events in runs.items():
            above = floor(run_id)
            fresh = sorted((e for e in events.values() if e.sequence > above),
                           key=lambda e: e.id)  # fmt: skip
            if fresh:
                kept[run_id] = fresh
        return kept

    def _forget(self, now: float) -> None:
        seen = self._seen
        while seen and (len(seen) > self._capacity or seen[0][0] < now - self._keep):
            seen.popleft()


def archive_observed(
    archive: EventLog, served: dict[RunId, list[StoredEvent]], timeout: float
) -> None:
    """Store what was served into the archive (it skips what it holds). A run
    whose events do not continue the archive yet is tried again until
    `timeout`: the fleet's other processes are flushing their queues meanwhile."""
    deadline = time.monotonic() + timeout
    pending = dict(served)
    while pending:
        for run_id, events in list(pending.items()):
            try:
                archive.store(run_id, events)
                del pending[run_id]
            except InvalidRequest:
                continue
            except StorageUnavailable as err:
                logger.warning("served events not archived: %s", err)
                return
            except DomainError:
                logger.exception("run %s: served events not archived", run_id)
                del pending[run_id]
        if pending and time.monotonic() >= deadline:
            logger.warning("served events of runs %s not archived", sorted(pending))
            return
        if pending:
            time.sleep(0.1)
