"""An event log that fails on demand, for the writer and run manager tests."""

from __future__ import annotations

import threading

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.domain.errors import EventTooLarge, StorageUnavailable


class FlakyLog:
    """The in-memory log, with switches for the failures a real store has."""

    def __init__(self):
        self.log = InMemoryEventLog()
        self.open = threading.Event()
        self.open.set()
        self.down = False
        self.lose_replies = 0
        self.appends = []

    def __getattr__(self, name):
        return getattr(self.log, name)

    def append(self, run_id, events, idempotency=None):
        assert self.open.wait(10)
        if self.down:
            raise StorageUnavailable("event log down")
        if any(e.action == "too_big" for e in events):
            raise EventTooLarge("too big")
        stored = self.log.append(run_id, events, idempotency)
        self.appends.append((run_id, len(events)))
        if self.lose_replies:
            self.lose_replies -= 1
            raise StorageUnavailable("reply lost")
        return stored
