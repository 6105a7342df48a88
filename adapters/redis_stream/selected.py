"""Part of a run read from its stream, decoding only the entries a reader keeps.

The raw XRANGE entries (the lane's flat `[name, value, ...]` lists) are tested
on their agent and category fields where the scripts write them (codec.py's
layout) and only the kept entries become events: the ones left out cost the
reader a comparison, not a decode. Terminal lifecycle events always pass, as in
the SQL log's selection (mysql_legacy/selected_rows.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runstream.adapters.redis_stream.codec import decode_raw, parse_id
from runstream.domain.ids import EventId
from runstream.domain.model import TERMINAL_ACTIONS, Category, RunId, StoredEvent

# A range of raw entries: (run, start, end, count) -> the lane's reply.
RawRange = Callable[[RunId, str, str, int], Any]
FIRST_CHUNK, MAX_CHUNK = 1000, 10_000
_LIFECYCLE = Category.LIFECYCLE.value


class RawSelection:
    """Whether a raw entry passes `agent_ids` / `categories` (empty: any), or
    a decoded event does (`keeps_event`, for a cluster's parsed replies)."""

    def __init__(self, agent_ids: frozenset[str], categories: frozenset[Category]):
        self._agents = agent_ids
        self._categories = frozenset(category.value for category in categories)

    def keeps(self, flat: list[str]) -> bool:
        # Not the scripts' layout (codec.py): read the fields by name.
        if flat[-6] != "event_category" or flat[-4] != "event_action":
            return self._keeps_fields(dict(zip(flat[::2], flat[1::2], strict=True)))
        category = flat[-5]
        if category == _LIFECYCLE and flat[-3] in TERMINAL_ACTIONS:
            return True
        if self._categories and category not in self._categories:
            return False
        if not self._agents:
            return True
        # The source follows the head fields, or the head and key fields.
        if flat[4] == "source_agent_id":
            return flat[5] in self._agents
        return (
            len(flat) > 9 and flat[8] == "source_agent_id" and (flat[9] in self._agents)
        )

    def keeps_event(self, event: StoredEvent) -> bool:
        if event.is_terminal:
            return True
        if self._categories and event.category not in self._categories:
            return False
        source = event.event.source
        return not self._agents or (
            source is not None and source.agent_id in self._agents
        )

    def _keeps_fields(self, fields: dict[str, str]) -> bool:
        category = fields.get("event_category")
        if category == _LIFECYCLE and fields.get("event_action") in TERMINAL_ACTIONS:
            return True
        if self._categories and category not in self._categories:
            return False
        return not self._agents or fields.get("source_agent_id") in self._agents


def read_selected_raw(
    raw_range: RawRange | None,
    read: Callable[[RunId, str, str, int], list[StoredEvent]],
    run_id: RunId,
    span: tuple[EventId, EventId],
    limit: int,
    selection: RawSelection,
) -> list[StoredEvent]:
    """At most `limit` kept events with start <= id <= end, in log order,
    reading the raw range in growing chunks (`read`'s decoded events when
    there is no `raw_range`)."""
    start, end = span
    found: list[StoredEvent] = []
    cursor, chunk = str(start), max(FIRST_CHUNK, limit)
    while len(found) < limit:
        if raw_range is None:
            events = read(run_id, cursor, str(end), chunk)
            found += [e for e in events if selection.keeps_event(e)][
                : limit - len(found)
            ]
            count, last = len(events), events[-1].id if events else None
        else:
            entries = raw_range(run_id, cursor, str(end), chunk) or ()
            kept = [entry for entry in entries if selection.keeps(entry[1])]
            found += decode_raw(run_id, kept[: limit - len(found)])
            count = len(entries)
            last = parse_id(entries[-1][0]) if entries else None
        if count < chunk or last is None:
            break
        cursor, chunk = str(last.successor()), MAX_CHUNK
    return found
