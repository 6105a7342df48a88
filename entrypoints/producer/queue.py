"""The producer's bounded queue: events (and finish/cancel calls) in emit
order, taken by the sender in batches after a short linger."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from runstream.entrypoints.producer.report import ProducerClosed, QueueFull

OnFull = Literal["block", "raise"]


@dataclass
class Event:
    run_id: int
    payload: bytes
    queued_at: float = field(default_factory=time.monotonic)


@dataclass
class Call:
    """A finish or cancel, sent after every event queued before it."""

    run_id: int
    path: str
    body: bytes
    queued_at: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    answer: Any = None
    error: BaseException | None = None


Item = Event | Call


class BoundedQueue:
    """At most `limit` events wait; a full queue makes `put` block up to
    `timeout` seconds (`on_full="block"`, None waits forever) or raise at
    once (`"raise"`): QueueFull either way, never a silent drop."""

    def __init__(self, limit: int, on_full: OnFull, timeout: float | None) -> None:
        if limit < 1:
            raise ValueError("the queue must hold at least one event")
        self._items: deque[Item] = deque()
        self._limit = limit
        self._on_full = on_full
        self._timeout = timeout
        self._lock = threading.Lock()
        self._has_items = threading.Condition(self._lock)
        self._has_space = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._wake_at = 1  # the sender's batch size: wake it from its linger
        self.taken = 0  # items out of the queue and not yet settled
        self.closed = False

    def put(self, item: Item) -> None:
        with self._lock:
            if self.closed:
                raise ProducerClosed("the producer is closed")
            if isinstance(item, Event) and len(self._items) >= self._limit:
                self._await_space()
            self._items.append(item)
            if len(self._items) in (1, self._wake_at):
                self._has_items.notify()

    def _await_space(self) -> None:
        if self._on_full == "raise":
            raise QueueFull(f"{self._limit} events are waiting to be sent")
        if not self._has_space.wait_for(
            lambda: len(self._items) < self._limit or self.closed, self._timeout
        ):
            raise QueueFull(f"no room in the queue after {self._timeout:g} s")
        if self.closed:
            raise ProducerClosed("the producer is closed")

    def take(self, most: int, linger: float) -> list[Item] | None:
        """The next batch: events up to `most`, or one call; None once closed
        and empty. Waits `linger` after the oldest event for more to come."""
        with self._lock:
            self._wake_at = most
            self._has_items.wait_for(lambda: self._items or self.closed)
            if not self._items:
                return None
            deadline = self._items[0].queued_at + linger
            while len(self._items) < most and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0 or not self._has_items.wait(left):
                    break
            batch: list[Item] = []
            while self._items and len(batch) < most:
                if isinstance(self._items[0], Call) and batch:
                    break
                batch.append(self._items.popleft())
                if isinstance(batch[-1], Call):
                    break
            self.taken += len(batch)
            self._has_space.notify_all()
            return batch

    def settle(self, count: int | None = None) -> None:
        """`count` taken items are stored or given up on (None: all)."""
        with self._lock:
            self.taken = 0 if count is None else max(0, self.taken - count)
            if not self._items and not self.taken:
                self._idle.notify_all()

    def wait_idle(self, timeout: float | None) -> bool:
        with self._lock:
            return self._idle.wait_for(
                lambda: not self._items and not self.taken, timeout
            )

    def pending(self) -> int:
        with self._lock:
            return len(self._items) + self.taken

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._has_items.notify_all()
            self._has_space.notify_all()

    def drain(self) -> list[Item]:
        with self._lock:
            items, self._items = list(self._items), deque()
            self._idle.notify_all()
            return items
