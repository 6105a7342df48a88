"""WriteQueue: per-run FIFO buffers under one bound, drained by one consumer."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from runstream.domain.errors import StorageUnavailable
from runstream.domain.model import NewEvent, RunId


@dataclass(frozen=True)
class QueueStats:
    depth: int
    runs: int
    emitted: int
    blocked_emits: int
    blocked_seconds: float


class WriteQueue:
    """Events wait here between an emit and their write.

    `capacity` bounds the events queued plus those being written. A `put` that
    finds the queue full waits for room (back-pressure): nothing is dropped.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        lock = threading.Lock()
        self._work = threading.Condition(lock)
        self._room = threading.Condition(lock)
        self._drained = threading.Condition(lock)
        self._pending: dict[RunId, deque[NewEvent]] = {}
        self._busy: dict[RunId, int] = {}
        self._size = 0
        self._idle = False
        self._closed = False
        self._emitted = 0
        self._blocked = 0
        self._blocked_seconds = 0.0

    def put(self, run_id: RunId, event: NewEvent) -> None:
        with self._work:
            if self._size >= self._capacity:
                self._wait_for_room()
            if self._closed:
                raise StorageUnavailable("the event writer has shut down")
            queue = self._pending.get(run_id)
            if queue is None:
                queue = self._pending[run_id] = deque()
            queue.append(event)
            self._size += 1
            self._emitted += 1
            if self._idle:
                self._work.notify()

    def _wait_for_room(self) -> None:
        self._blocked += 1
        began = time.monotonic()
        while self._size >= self._capacity and not self._closed:
            self._room.wait()
        self._blocked_seconds += time.monotonic() - began

    def take(self, limit: int) -> list[tuple[RunId, list[NewEvent]]] | None:
        """Up to `limit` events of every run with some, oldest first; waits for
        work. None once closed and empty. Taken events count until `done`."""
        with self._work:
            while not self._pending and not self._closed:
                self._idle = True
                self._work.wait()
                self._idle = False
            if not self._pending:
                return None
            taken = []
            for run_id in list(self._pending):
                queue = self._pending.pop(run_id)
                if len(queue) > limit:
                    batch = [queue.popleft() for _ in range(limit)]
                    self._pending[run_id] = queue
                else:
                    batch = list(queue)
                taken.append((run_id, batch))
                self._busy[run_id] = self._busy.get(run_id, 0) + len(batch)
            return taken

    def done(self, run_id: RunId, count: int) -> None:
        """`count` taken events of `run_id` are written (or given up)."""
        with self._work:
            self._size -= count
            left = self._busy[run_id] - count
            if left:
                self._busy[run_id] = left
            else:
                del self._busy[run_id]
            self._room.notify_all()
            self._drained.notify_all()

    def wait_written(self, run_id: RunId | None, timeout: float | None) -> bool:
        """Wait until nothing of `run_id` (of any run, for None) is queued."""

        def empty() -> bool:
            if run_id is None:
                return self._size == 0
            return run_id not in self._pending and run_id not in self._busy

        with self._work:
            return self._drained.wait_for(empty, timeout)

    def close(self) -> None:
        """Refuse new events; the consumer stops once the queue is empty."""
        with self._work:
            self._closed = True
            self._work.notify_all()
            self._room.notify_all()

    def stats(self) -> QueueStats:
        with self._work:
            return QueueStats(
                self._size,
                len(self._pending) + len(self._busy.keys() - self._pending.keys()),
                self._emitted,
                self._blocked,
                self._blocked_seconds,
            )
