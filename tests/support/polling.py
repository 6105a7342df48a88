"""The one way tests wait for a condition: poll it until it holds or time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
INTERVAL = 0.01


def poll(
    condition: Callable[[], T], timeout: float, interval: float = INTERVAL
) -> T | None:
    """The first truthy value `condition()` returns within `timeout` seconds
    (it is tried once more at the deadline), else None."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def wait_until(
    condition: Callable[[], T],
    what: str = "the condition",
    timeout: float = 10.0,
    interval: float = INTERVAL,
) -> T:
    """`poll`, failing the test with `what` when time runs out."""
    value = poll(condition, timeout, interval)
    if not value:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
    return value
