"""`EventLog.wait` on a Redis Cluster, where one XREAD cannot span hash slots.

The append scripts announce every write on the run's notice channel (SPUBLISH,
in the key's own slot). `ClusterWait` keeps each watched run subscribed through
one `NodeListener` per master and reads a run (XRANGE after its cursor, one
pipeline per node) only when it may hold something new: a notice or a newly
confirmed subscription bumped its version since the last read found nothing
after that cursor, or that finding is older than `resync` seconds. The periodic
re-read means that a notice lost in any way delays an event, never drops it. A
wait with no time to spend (`timeout <= 0`) reads every run: the notice of an
append that has already returned may still be on its way.
Runs nobody waited on for `linger` seconds are unsubscribed.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Mapping

from redis.cluster import RedisCluster

from runstream.adapters.redis_stream.cluster_routes import REPAIR_SECONDS, Routes
from runstream.adapters.redis_stream.codec import decode_entries
from runstream.adapters.redis_stream.notices import NoticeBoard
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent

# (run, cursor, version of the run when the read was sent)
_Due = tuple[RunId, EventId, int]


class ClusterWait:
    """Blocks on notices; safe to call from several threads at once."""

    def __init__(
        self, client: RedisCluster, resync: float = 2.0, linger: float = 10.0
    ) -> None:
        self._client = client
        self._board = NoticeBoard()
        self._routes = Routes(client, self._board)
        self._resync, self._linger = resync, linger
        self._lock = threading.Lock()
        self._used: dict[RunId, float] = {}
        # A run's last read that found nothing more: (cursor, version, when).
        self._clean: dict[RunId, tuple[EventId, int, float]] = {}
        self._next_sweep = 0.0
        weakref.finalize(self, Routes.close, self._routes)

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int
    ) -> dict[RunId, list[StoredEvent]]:
        deadline = time.monotonic() + timeout
        self._follow(cursors)
        while True:
            tick = self._board.tick
            self._routes.repair()
            due = self._due(cursors, poll=timeout <= 0)
            found = self._read(due, limit) if due else {}
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            self._board.await_change(tick, min(remaining, REPAIR_SECONDS))

    def close(self) -> None:
        self._routes.close()

    def _follow(self, cursors: Mapping[RunId, EventId]) -> None:
        now = time.monotonic()
        with self._lock:
            fresh = [run_id for run_id in cursors if run_id not in self._used]
            for run_id in cursors:
                self._used[run_id] = now
            idle: list[RunId] = []
            if now >= self._next_sweep:
                self._next_sweep = now + 1.0
                idle = [
                    r for r, used in self._used.items() if now - used > self._linger
                ]
                for run_id in idle:
                    del self._used[run_id]
                    self._clean.pop(run_id, None)
        self._routes.follow(fresh, idle)

    def _due(self, cursors: Mapping[RunId, EventId], poll: bool) -> list[_Due]:
        stale = time.monotonic() - self._resync
        due = []
        for run_id, cursor in cursors.items():
            version = self._board.version(run_id)
            clean = self._clean.get(run_id)
            if (
                poll
                or clean is None
                or clean[:2] != (cursor, version)
                or clean[2] < stale
            ):
                due.append((run_id, cursor, version))
        return due

    def _read(self, due: list[_Due], limit: int) -> dict[RunId, list[StoredEvent]]:
        by_node: dict[str, list[_Due]] = defaultdict(list)
        for item in due:
            by_node[self._routes.data_node(item[0])].append(item)
        found: dict[RunId, list[StoredEvent]] = {}
        failures = []
        for node, items in by_node.items():
            try:
                replies = self._routes.xrange_after(node, items, max(limit, 1))
            except StorageUnavailable as err:
                failures.append(err)
                continue
            for (run_id, cursor, version), reply in zip(items, replies, strict=True):
                if reply is not None:
                    self._settle(run_id, cursor, version, reply, limit, found)
        if failures and not found:
            raise failures[0]
        return found

    def _settle(
        self,
        run_id: RunId,
        cursor: EventId,
        version: int,
        reply: object,
        limit: int,
        found: dict[RunId, list[StoredEvent]],
    ) -> None:
        events = decode_entries(run_id, reply)
        if events:
            found[run_id] = events
        if len(events) < max(limit, 1):
            head = events[-1].id if events else cursor
            self._clean[run_id] = (head, version, time.monotonic())
