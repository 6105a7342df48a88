"""What an append must check beyond the log rules: where the log must not end
before, and where an idempotency key may be (a hot copy that can lose data)."""

from __future__ import annotations

from dataclasses import dataclass

from runstream.domain.ids import EventId
from runstream.domain.model import Idempotency


@dataclass(frozen=True, slots=True)
class AppendPlan:
    """What the APPEND script checks before it writes.

    `floor`: the highest sequence the caller knows was acknowledged in the run;
    a stream whose last sequence is lower lost events. `gap`: then continue
    after `floor` (True) or refuse (False), with ids above `floor_id` (the id
    acknowledged at `floor`, when known: a stream recreated within the same
    millisecond would otherwise number below it). `keys_after`: with a key the
    log's key index cannot vouch for, only entries after this id are searched
    for it (None: every kept entry). `ask`: such a key is not searched for at
    all; the append raises KeyNotIndexed (the caller asks the archive).
    """

    floor: int = 0
    gap: bool = False
    idempotency: Idempotency | None = None
    keys_after: EventId | None = None
    floor_id: EventId | None = None
    ask: bool = False
