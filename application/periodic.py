"""Periodic: a background thread that does one round of work every so often,
started and stopped (bounded) by the process's lifecycle."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Periodic:
    """A daemon thread that calls `action` every `interval` seconds until
    `stop`. What a round raises goes to `on_error` (by default logged with its
    traceback) and the next round comes as usual. `start` is idempotent."""

    def __init__(
        self,
        name: str,
        interval: float,
        action: Callable[[], object],
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.name = name
        self._interval = interval
        self._action = action
        self._on_error = on_error or self._log
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, daemon=True, name=self.name
            )
            self._thread.start()

    def stop(self, timeout: float) -> bool:
        """End the thread within `timeout` seconds; False if a round outlasted it."""
        self._stopping.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._action()
            except Exception as err:
                self._on_error(err)

    def _log(self, err: Exception) -> None:
        logger.error(
            "%s failed; next try in %s s", self.name, self._interval, exc_info=err
        )
