"""In-process wake-ups for waiters on one database.

Every SqlEventLog on the same database in this process shares one Notifier, so
a waiter wakes as soon as a writer in the process commits; writers in other
processes are seen by bounded polling instead.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from runstream.adapters.mysql_legacy.engine import database_key

_NOTIFIERS: dict[str, Notifier] = {}


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


def notifier_for(engine: Engine) -> Notifier:
    key = database_key(engine)
    found = _NOTIFIERS.get(key)
    return found if found is not None else _NOTIFIERS.setdefault(key, Notifier())
