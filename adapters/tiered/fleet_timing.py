"""The time bounds of the fleet's tier decision (docs/operations.md, "One
tier for the whole fleet")."""

from __future__ import annotations

import time
from dataclasses import dataclass


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class FleetTiming:
    """Seconds. `lease`: how long a process acts on a decision it read;
    `beat`: heartbeat period; `healthy`: a Redis-OK report this recent vetoes a
    switch to SQL; `gone`: a process silent this long is no longer waited for;
    `in_flight`: bound on a write already sent when a lease lapses (the Redis
    timeout plus the append script's 1 s of skew); `takeover`: a failback not
    done in this long is redone by another process; `settle`: how long a write
    waits for a switch to end before it answers 503; `unseen`: Redis not
    reached for this long may have restarted (and lost events) meanwhile."""

    lease: float = 2.0
    beat: float = 0.5
    healthy: float = 1.5
    gone: float = 5.0
    in_flight: float = 3.0
    takeover: float = 30.0
    settle: float = 8.0
    unseen: float = 1.5

    @property
    def fence_ms(self) -> int:
        return int((self.lease + self.in_flight) * 1000)
