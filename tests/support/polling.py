"""The one way tests wait for a condition: poll it until it holds or time runs out."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
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


def joined(thread: threading.Thread, timeout: float = 30.0) -> None:
    """Join `thread`, failing the test if it is still running after `timeout`."""
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"thread {thread.name} still running after {timeout:g} s")


@contextlib.contextmanager
def entering(
    function: Callable[..., object], entered: threading.Event
) -> Iterator[None]:
    """Within the block, set `entered` once this thread calls `function`: a test
    can then act while that call is known to be under way (not merely about to
    start), without sleeping."""
    code = getattr(function, "__code__", None)

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is code:
            entered.set()

    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(None)
