"""The fence on writes to a primary the fleet may leave: a write must reach the
store before the lease it was decided under lapses.

FailoverEventLog checks the fleet's lease before it hands a write to the
primary, but the primary may wait a while before it sends the write (an archive
query, a flush of the archive after Redis lost events): sent after the lease
lapsed, it could land while the fleet already appends to SQL. So the write runs
`fenced` by a function giving the wall-clock ms until which the fleet's current
lease (renewed if it lapsed) lets this process write to Redis, and the Redis
adapter bounds its append's server-side deadline by it (`fence_deadline_ms`).
The bound is context-local: a thread or greenlet sees only its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

LeaseEnd = Callable[[], int]

_lease_end: ContextVar[LeaseEnd | None] = ContextVar("lease_end", default=None)


@contextlib.contextmanager
def fenced(lease_end: LeaseEnd) -> Iterator[None]:
    """Writes in this block are bounded by `lease_end()` (wall-clock ms; it
    raises StorageUnavailable when the fleet no longer writes to the primary)."""
    token = _lease_end.set(lease_end)
    try:
        yield
    finally:
        _lease_end.reset(token)


def fence_deadline_ms(deadline_ms: int, skew_ms: int) -> int:
    """`deadline_ms`, or sooner: the end of the current lease plus the clock
    skew the fleet allows for, when the write runs `fenced`."""
    lease_end = _lease_end.get()
    if lease_end is None:
        return deadline_ms
    return min(deadline_ms, lease_end() + skew_ms)
