"""Groups in flight: what the sender has handed to the connection and the
service has not acknowledged yet, in send order, bounded.

A group is one run's events with the Idempotency-Key it keeps for good: its
boundaries and key are fixed when it is formed, so whatever resends it (a new
connection, or a POST after the service refused the stream) sends the same
events under the same key, and the service's keyed idempotency answers a
repeat with what it stored the first time.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Group:
    run_id: int
    key: str
    payloads: list[bytes]
    sent: bool = False  # on the current connection
    ever_sent: bool = False  # on any: the service may have stored it

    @property
    def events_body(self) -> bytes:
        """The body of `POST /runs/{id}/events` with these events."""
        return b'{"events":[' + b",".join(self.payloads) + b"]}"

    @property
    def message(self) -> bytes:
        """The group as one stream message."""
        return b'{"run":%d,"key":"%s","events":[%s]}' % (
            self.run_id,
            self.key.encode("ascii"),
            b",".join(self.payloads),
        )


@dataclass
class Window:
    """The groups in flight, oldest first, and how many events they hold."""

    groups: deque[Group] = field(default_factory=deque)
    events: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def wait_empty(self, until: Callable[[], bool]) -> None:
        with self.lock:
            while self.groups and not until():
                self.changed.wait(0.1)

    def add(self, groups: list[Group]) -> None:
        with self.lock:
            self.groups.extend(groups)
            self.events += sum(len(g.payloads) for g in groups)

    def unsent(self) -> list[Group]:
        """The groups not yet sent on this connection, marked sent."""
        with self.lock:
            found = [g for g in self.groups if not g.sent]
            for group in found:
                group.sent = group.ever_sent = True
            return found

    def head(self) -> Group | None:
        with self.lock:
            return self.groups[0] if self.groups else None

    def pop(self, key: str | None) -> Group | None:
        """The oldest group, taken out, when `key` is its key (answers come in
        send order); None otherwise."""
        with self.lock:
            if not self.groups or (key is not None and self.groups[0].key != key):
                return None
            group = self.groups.popleft()
            self.events -= len(group.payloads)
            self.changed.notify_all()
            return group

    def replace_head(self, groups: list[Group]) -> None:
        """The oldest group split into `groups` (sent one by one)."""
        with self.lock:
            old = self.groups.popleft()
            self.groups.extendleft(reversed(groups))
            self.events += sum(len(g.payloads) for g in groups) - len(old.payloads)

    def new_connection(self) -> None:
        """Nothing is sent on a fresh connection yet."""
        with self.lock:
            for group in self.groups:
                group.sent = False

    def take_all(self) -> list[Group]:
        with self.lock:
            groups, self.groups, self.events = list(self.groups), deque(), 0
            self.changed.notify_all()
            return groups

    def __len__(self) -> int:
        with self.lock:
            return len(self.groups)
