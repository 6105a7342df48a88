"""Adaptive batching: how long the hub lets appends gather before its next read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AdaptiveGather:
    """Nagle-like: while reads find little (light load), read again at once, so
    an event is delivered as soon as it is stored; as reads find more (batches
    grow), wait a little before the next read, so one read, one encoding pass and
    one write per subscriber serve many appends. The wait grows with the smoothed
    batch size, and with the cost of a read and of handling its events when that
    is dear (many runs, many subscribers): at most `cost_share` of the reader's
    time then goes to them. That cost rule applies only while the reader is busy:
    while it mostly waits for events (the smoothed share of its time spent
    handling them stays under `cost_share`), a gather would rarely find more
    and would only add a wake-up and delay. The wait never exceeds `max_delay`.
    """

    light: float = 4.0  # events per read still delivered at once
    per_event: float = 0.0002  # seconds of gather per event above `light`
    max_delay: float = 0.010
    cost_share: float = 0.1
    per_run_read: float = 2e-6  # what a read costs per run it covers (seconds)
    smoothing: float = 0.5
    average: float = 0.0
    busy: float = 0.0  # smoothed share of the reader's time spent handling

    def after_read(
        self, found: int, seconds: float = 0.0, runs: int = 0, idle: float = 0.0
    ) -> float:
        """A read over `runs` runs found `found` events, handled in `seconds`,
        after waiting `idle` seconds for them: how long to wait before the next
        read."""
        self.average += self.smoothing * (found - self.average)
        by_size = max(0.0, self.average - self.light) * self.per_event
        cost = seconds + runs * self.per_run_read
        share = cost / (cost + idle) if cost + idle > 0 else 0.0
        self.busy += self.smoothing * (share - self.busy)
        by_cost = 0.0
        if self.busy >= self.cost_share:
            by_cost = cost * (1 - self.cost_share) / self.cost_share
        return min(self.max_delay, max(by_size, by_cost))
