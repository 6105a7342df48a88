"""In-process wake-ups for the waiters of one SqlEventLog.

A waiter wakes as soon as its log commits a write; writers elsewhere (other
logs, other processes) are seen by bounded polling instead.
"""

from __future__ import annotations

import threading


class Notifier:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.generation = 0

    def bump(self) -> None:
        """Something was committed: wake every waiter."""
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def wait_past(self, seen: int, timeout: float) -> None:
        """Sleep up to `timeout` unless something was committed since `seen`."""
        with self._changed:
            if self.generation == seen:
                self._changed.wait(timeout)
