"""The process's background threads: started together, stopped within one
deadline at shutdown.

A component joins by being listed in the container's `background` Resource;
anything with `start()` and a bounded `stop(timeout)` fits (a periodic round of
work is `runstream.application.periodic.Periodic`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Protocol

logger = logging.getLogger(__name__)
STOP_SECONDS = 10.0


class Background(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float) -> bool:
        """End within `timeout` seconds; False if it could not."""
        ...


class Lifecycle:
    def __init__(self, components: Mapping[str, Background | None]) -> None:
        self.components = {n: c for n, c in components.items() if c is not None}

    def start(self) -> None:
        for component in self.components.values():
            component.start()

    def stop(self, timeout: float) -> list[str]:
        """Stop every component, last started first, all within `timeout`;
        the names of those that did not stop in time."""
        deadline = time.monotonic() + timeout
        late = []
        for name, component in reversed(self.components.items()):
            try:
                stopped = component.stop(max(0.0, deadline - time.monotonic()))
            except Exception:
                logger.exception("stopping %s failed", name)
                stopped = False
            if not stopped:
                late.append(name)
        if late:
            logger.warning("not stopped in %.1f s: %s", timeout, ", ".join(late))
        return late


def running(
    components: Mapping[str, Background | None], stop_seconds: float = STOP_SECONDS
) -> Iterator[Lifecycle]:
    """A Resource: the components started, and stopped when resources shut down."""
    lifecycle = Lifecycle(components)
    lifecycle.start()
    try:
        yield lifecycle
    finally:
        lifecycle.stop(stop_seconds)
