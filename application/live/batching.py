"""Adaptive batching: how long the hub lets appends gather before its next read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AdaptiveGather:
    """Nagle-like: while reads find little (light load), read again at once, so
    an event is delivered as soon as it is stored; as reads find more (batches
    grow), wait a little before the next read, so one read, one encoding pass and
    one write per subscriber serve many appends. The wait grows with the smoothed
    batch size, and with the cost of handling a read's events when that is dear
    (many subscribers): handling then takes at most `cost_share` of the time;
    it never exceeds `max_delay`.
    """

    light: float = 4.0  # events per read still delivered at once
    per_event: float = 0.0002  # seconds of gather per event above `light`
    max_delay: float = 0.010
    cost_share: float = 0.5
    smoothing: float = 0.5
    average: float = 0.0

    def after_read(self, found: int, seconds: float = 0.0) -> float:
        """A read found `found` events, handled in `seconds`: how long to wait."""
        self.average += self.smoothing * (found - self.average)
        by_size = max(0.0, self.average - self.light) * self.per_event
        by_cost = seconds * (1 - self.cost_share) / self.cost_share
        return min(self.max_delay, max(by_size, by_cost))
