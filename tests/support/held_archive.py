"""An archive whose writes are held: the archiver lagging behind Redis."""

from __future__ import annotations

import threading
from typing import Any


class HeldArchive:
    """An SQL log whose writes (`store`, and `store_runs`, which the archiver's
    ticks use) wait while `released` is clear; with `release_on_read`, its
    first answer to a reader sets it."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self.released = threading.Event()
        self.released.set()
        self.release_on_read = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.log, name)

    def store(self, run_id: Any, events: Any) -> Any:
        assert self.released.wait(10), "the archive was never released"
        return self.log.store(run_id, events)

    def store_runs(self, batches: Any) -> Any:
        assert self.released.wait(10), "the archive was never released"
        return self.log.store_runs(batches)

    def _answered(self, found: Any) -> Any:
        if self.release_on_read:
            self.released.set()
        return found

    def info(self, run_id: Any) -> Any:
        return self._answered(self.log.info(run_id))

    def read(self, *args: Any, **kwargs: Any) -> Any:
        return self._answered(self.log.read(*args, **kwargs))

    def read_selected(self, *args: Any, **kwargs: Any) -> Any:
        return self._answered(self.log.read_selected(*args, **kwargs))
