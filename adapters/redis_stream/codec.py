"""Events to and from stream entries, field for field as contract.md §3 lays out."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from runstream.domain.append_plan import AppendPlan
from runstream.domain.envelope import format_timestamp, parse_timestamp
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import EventId
from runstream.domain.model import (
    AgentType,
    Category,
    Idempotency,
    NewEvent,
    RunId,
    Source,
    StoredEvent,
)

Fields = Mapping[str, str]
Entry = tuple[str, Fields]

# The layout of every entry the scripts write: HEAD_FIELDS, then KEY_FIELDS on a
# keyed batch's first entry, then the source fields (when there is a source),
# then TAIL_FIELDS. The scripts read `sequence`, the key and the event kind by
# position (scripts.py derives the positions from these names).
HEAD_FIELDS = ("timestamp", "sequence")
KEY_FIELDS = ("idempotency_key", "idempotency_digest")
TAIL_FIELDS = ("event_category", "event_action", "data")


def stream_key(run_id: RunId) -> str:
    return f"run:{run_id}:events"


# The key whose random value names this Redis's incarnation: a restart without
# the data (or a FLUSHALL) loses it, and a fleet that learnt it sees the loss.
INCARNATION_KEY = "runstream:incarnation"


def key_index(run_id: RunId) -> str:
    """The hash of a run's idempotency keys (scripts.py, "The key index"): the
    hash tag puts it in the slot of the run's stream, so the scripts may write
    both on a cluster too."""
    return f"{{run:{run_id}:events}}:keys"


def run_of_key(key: str) -> RunId:
    """The run a stream key belongs to."""
    return int(key[4:-7])


def notice_channel(run_id: RunId) -> str:
    """The sharded channel the cluster scripts announce a run's new events on;
    the hash tag puts it in the slot of the run's key."""
    return f"{{run:{run_id}:events}}:notify"


def run_of_channel(channel: str) -> RunId:
    """The run a notice channel belongs to."""
    return int(channel[5 : channel.index(":", 5)])


class SecondStamp:
    """The current unix second with its ISO prefix, formatted once per second.

    The APPEND script stamps entries with the server's TIME and takes the prefix
    only when the server's second is the one given, so a skewed caller's clock
    costs a full formatting in Lua, never a wrong timestamp.
    """

    def __init__(self) -> None:
        self._cached = (-1, "", "")

    def now(self) -> tuple[str, str]:
        second = int(time.time())
        cached = self._cached  # one read: a racing refresh replaces the tuple
        if cached[0] != second:
            prefix = format_timestamp(second * 1000)[:-4]
            cached = self._cached = (second, str(second), prefix)
        return cached[1], cached[2]


def event_fields(event: NewEvent) -> tuple[str, ...]:
    """The entry's fields after `timestamp` and `sequence`, names and values.

    The enums are StrEnums, so they go out as they are (no `.value` lookup: this
    runs on every append)."""
    source = event.source
    if source is None:
        return (
            "event_category",
            event.category,
            "event_action",
            event.action,
            "data",
            event.data_json,
        )
    return (
        "source_agent_id",
        source.agent_id,
        "source_agent_type",
        source.agent_type,
        "source_agent_name",
        source.agent_name,
        "source_team_name",
        source.team_name,
        "event_category",
        event.category,
        "event_action",
        event.action,
        "data",
        event.data_json,
    )


def key_fields(idempotency: Idempotency | None) -> tuple[str, ...]:
    """The fields that mark a keyed batch's first entry (none without a key)."""
    if idempotency is None:
        return ()
    return (KEY_FIELDS[0], idempotency.key, KEY_FIELDS[1], idempotency.digest)


def stored_fields(stored: StoredEvent) -> tuple[str, ...]:
    """Every field of an event that already has its timestamp and sequence."""
    head = (
        "timestamp",
        format_timestamp(stored.timestamp_ms),
        "sequence",
        str(stored.sequence),
    )
    return head + key_fields(stored.idempotency) + event_fields(stored.event)


NO_PLAN = AppendPlan()


def append_args(
    maxlen: str,
    stamp: tuple[str, str],
    deadline_ms: int,
    events: Sequence[NewEvent],
    plan: AppendPlan = NO_PLAN,
    incarnation: str = "",
) -> list[str]:
    """ARGV of the APPEND script, all strings (what the lane packs fastest);
    `stamp` is SecondStamp.now(), `deadline_ms` the unix ms after which the server
    must not store the batch, `incarnation` the one Redis must still hold ("":
    not checked)."""
    keyed = plan.idempotency
    gap = "" if not plan.gap else f"g {plan.floor_id}" if plan.floor_id else "g"
    args = [maxlen, *stamp, str(deadline_ms), str(plan.floor), gap]
    if keyed is None:
        args += ("", "", "", incarnation)
    else:
        after = plan.keys_after
        search = "ask" if plan.ask else "-" if after is None else f"({after}"
        args += (search, keyed.key, keyed.digest, incarnation)
    marks = key_fields(keyed)
    for event in events:
        fields = marks + event_fields(event) if marks else event_fields(event)
        marks = ()
        args.append(str(len(fields)))
        args += fields
    return args


def store_args(
    maxlen: str, last: EventId | None, events: Sequence[StoredEvent]
) -> list[str]:
    """ARGV of the STORE script, which writes only while `last` is the newest id."""
    args = [maxlen, "" if last is None else str(last)]
    for event in events:
        fields = stored_fields(event)
        args.append(str(len(fields) + 1))
        args.append(str(event.id))
        args.extend(fields)
    return args


def parse_id(text: str) -> EventId:
    """An id as Redis wrote it: always `<ms>-<n>`, so no validation is needed."""
    ms, _, seq = text.partition("-")
    return EventId(int(ms), int(seq))


def decode_entries(run_id: RunId, entries: Any) -> list[StoredEvent]:
    """The events of a reply from XRANGE, XREVRANGE or one stream of XREAD."""
    pairs = cast("Iterable[Entry]", entries or ())
    return [decode(run_id, entry_id, fields) for entry_id, fields in pairs]


def decode_raw(run_id: RunId, entries: Any) -> list[StoredEvent]:
    """The events of a reply as the parser gives it, without redis-py's callbacks
    (the lane's): each entry `[id, [name, value, name, value, ...]]`."""
    return [_decode_flat(run_id, entry_id, flat) for entry_id, flat in entries or ()]


def _decode_flat(run_id: RunId, entry_id: str, flat: list[str]) -> StoredEvent:
    """An entry of the scripts' layout read by position (replays and live reads
    decode every event: a dict per entry cost a fifth of it); any other goes
    through `decode`."""
    n = len(flat)
    if (
        (n == 10 or (n == 18 and flat[4:11:2] == _SOURCE_NAMES))
        and flat[0] == "timestamp"
        and flat[2] == "sequence"
        and flat[n - 6] == "event_category"
        and flat[n - 4] == "event_action"
        and flat[n - 2] == "data"
    ):
        try:
            source = None if n == 10 else _source_of(*flat[5:12:2])
            event = NewEvent(_CATEGORIES[flat[n - 5]], flat[n - 3], source, flat[-1])
            return StoredEvent(
                parse_id(entry_id),
                run_id,
                int(flat[3]),
                parse_timestamp(flat[1]),
                event,
            )
        except (KeyError, ValueError):
            pass  # `decode` says what is wrong
    return decode(run_id, entry_id, dict(zip(flat[::2], flat[1::2], strict=True)))


_CATEGORIES = {category.value: category for category in Category}
_SOURCE_NAMES = [
    "source_agent_id", "source_agent_type", "source_agent_name", "source_team_name"
]  # fmt: skip


@functools.lru_cache(maxsize=1024)
def _source_of(agent_id: str, agent_type: str, name: str, team: str) -> Source:
    return Source(agent_id, AgentType(agent_type), name, team)


def decode(run_id: RunId, entry_id: str, fields: Fields) -> StoredEvent:
    """The stored event of one entry; a malformed entry is a broken store."""
    try:
        return StoredEvent(
            parse_id(entry_id),
            run_id,
            int(fields["sequence"]),
            parse_timestamp(fields["timestamp"]),
            NewEvent(
                Category(fields["event_category"]),
                fields["event_action"],
                _source(fields),
                fields["data"],
            ),
            _idempotency(fields),
        )
    except (KeyError, ValueError) as err:
        raise StorageUnavailable(
            f"stream entry {entry_id} of run {run_id} is malformed: {err!r}"
        ) from err


def _source(fields: Fields) -> Source | None:
    if "source_agent_id" not in fields:
        return None
    return _source_of(
        fields["source_agent_id"],
        fields["source_agent_type"],
        fields["source_agent_name"],
        fields["source_team_name"],
    )


def _idempotency(fields: Fields) -> Idempotency | None:
    key = fields.get("idempotency_key")
    if key is None:
        return None
    return Idempotency(key, fields["idempotency_digest"])
