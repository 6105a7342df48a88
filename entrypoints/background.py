"""Starting and stopping this process's fleet duties: the run sweeper, the
event-log tier heartbeat, and the archive drain on shutdown."""

from __future__ import annotations

import logging
import time
from typing import Any

logger = logging.getLogger(__name__)


def start_fleet_duties(container: Any) -> None:
    container.run_sweeper().start()


def stop_fleet_duties(container: Any, timeout: float = 8.0) -> bool:
    """Stop sweeping, store what the archive still queues, stop the tier
    heartbeat; True if all of it ended within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    stopped = container.run_sweeper().stop(min(2.0, timeout))
    log = container.event_log()
    primary = getattr(log, "primary", log)
    archiver = getattr(primary, "archiver", None)
    if archiver is not None and not archiver.flush(
        max(0.0, deadline - time.monotonic())
    ):
        logger.warning("shutdown: the archive still queues events")
        stopped = False
    close = getattr(log, "close", None)
    if close is not None:
        stopped = close(max(0.1, deadline - time.monotonic())) and stopped
    return bool(stopped)
