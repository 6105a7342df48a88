"""Backoff: the waits between retries of a store that is unavailable."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential waits from `first` seconds, growing by `factor` to `ceiling`."""

    first: float = 0.05
    factor: float = 2.0
    ceiling: float = 1.0

    def delays(self) -> Iterator[float]:
        """An endless series of waits."""
        delay = self.first
        while True:
            yield delay
            delay = min(delay * self.factor, self.ceiling)
