"""What the contract suites need of an adapter: a fresh one, and a clean-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from runstream.domain.ports import EventLog, RunRepository


def _nothing(run_ids: Iterable[int]) -> None:
    del run_ids


@dataclass(frozen=True)
class LogBackend:
    """`make(ttl_seconds=...)` builds an adapter; `purge(run_ids)` removes the
    runs a test used (the Redis key layout is fixed, so tests isolate by run id)."""

    make: Callable[..., EventLog]
    purge: Callable[[Iterable[int]], None] = field(default=_nothing)


@dataclass(frozen=True)
class RunBackend:
    """`make()` builds a fresh, empty repository."""

    make: Callable[[], RunRepository]
