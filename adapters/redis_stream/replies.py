"""The APPEND script's replies, read back into stored events or domain errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from runstream.adapters.redis_stream.codec import parse_id
from runstream.domain.append_plan import AppendPlan
from runstream.domain.errors import (
    IdempotencyKeyReused,
    KeyNotIndexed,
    LogBehind,
    LogLost,
    RunNotActive,
    StorageUnavailable,
)
from runstream.domain.log_rules import new_continuation
from runstream.domain.model import Appended, NewEvent, RunId, StoredEvent

Fresh = Callable[[StoredEvent | None, Sequence[StoredEvent]], list[StoredEvent]]


def appended(run_id: RunId, events: Sequence[NewEvent], reply: str) -> Appended:
    """The stored events of a reply "first_sequence time_ms id ..."."""
    if len(events) == 1:  # the common case, without the zip
        first, ms, entry_id = reply.split(" ")
        return Appended(
            (StoredEvent(parse_id(entry_id), run_id, int(first), int(ms), events[0]),)
        )
    first, ms, *ids = reply.split(" ")
    return Appended(
        StoredEvent(parse_id(entry_id), run_id, int(first) + n, int(ms), event)
        for n, (entry_id, event) in enumerate(zip(ids, events, strict=True))
    )


def replayed_id(run_id: RunId, plan: AppendPlan, reply: str) -> str:
    """The id of the first entry stored under the plan's key ("replay <id>");
    any other reply that stored nothing is raised as its domain error."""
    word, _, rest = reply.partition(" ")
    keyed = plan.idempotency
    if word == "replay" and keyed is not None:
        return rest
    if word == "reused" and keyed is not None:
        raise IdempotencyKeyReused(
            f"run {run_id} already used Idempotency-Key {keyed.key!r} "
            "for a different request"
        )
    if word == "ask" and keyed is not None:
        raise KeyNotIndexed(
            f"run {run_id}: Redis cannot tell whether Idempotency-Key "
            f"{keyed.key!r} is new"
        )
    if word == "behind":
        sequence, _, last_id = rest.partition(" ")
        raise LogBehind(
            f"run {run_id}: its stream ends at sequence {sequence}, below "
            f"{plan.floor}, acknowledged before: Redis lost events",
            int(sequence),
            last_id,
        )
    if word == "lost":
        raise LogLost(
            f"run {run_id}: Redis no longer holds the incarnation this process "
            "learnt: it restarted without its data (or was flushed); nothing "
            "was stored"
        )
    if word == "late":
        raise StorageUnavailable(
            f"run {run_id}: Redis ran the append after the caller gave up; "
            "nothing was stored"
        )
    raise RunNotActive(f"run {run_id} has finished; its log takes no more events")


def continuation_or_start(
    last: StoredEvent | None, events: Sequence[StoredEvent]
) -> list[StoredEvent]:
    """`new_continuation`, except that an empty log may start anywhere."""
    if last is not None or not events:
        return new_continuation(last, events)
    return [events[0], *new_continuation(events[0], events[1:])]
