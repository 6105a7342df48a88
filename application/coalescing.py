"""Coalesced replay (docs/contract.md §4, `coalesce=llm.stream`).

Adjacent `llm.stream` events of the same agent become one event carrying the
merged text, with the id, sequence and timestamp of the last one merged and
`data.coalesced = {"count", "first_id"}`. Only adjacent events merge: resuming
after a merged event's id then continues exactly after its last chunk, because
nothing before that id is still waiting to be delivered. A group stops growing
at MAX_MERGED_CHARS so a merged event stays far below the event size limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace

from runstream.domain.errors import InvalidRequest
from runstream.domain.model import Category, StoredEvent, dump_json

COALESCIBLE = "llm.stream"
MAX_MERGED_CHARS = 64 * 1024


def _chunk_text(event: StoredEvent) -> str | None:
    """The chunk's text when the event can merge, else None."""
    if event.category is not Category.LLM or event.action != "stream":
        return None
    content = event.event.data.get("content")
    return content if isinstance(content, str) else None


class Coalescer:
    """Feed events in log order; take merged events out as groups complete."""

    def __init__(self) -> None:
        self._group: list[StoredEvent] = []
        self._texts: list[str] = []
        self._chars = 0
        # The event starts_group looked at last, its text and whether it joins
        # the open group: push then neither parses nor compares it again.
        self._peeked: tuple[StoredEvent | None, str | None, bool] = (None, None, False)

    def _peek(self, event: StoredEvent) -> tuple[str | None, bool]:
        seen, text, joins = self._peeked
        if seen is not event:
            text = _chunk_text(event)
            joins = text is not None and self._continues(event, text)
            self._peeked = (event, text, joins)
        return text, joins

    def push(self, event: StoredEvent) -> list[StoredEvent]:
        """What is complete once `event` has arrived (possibly nothing)."""
        text, joins = self._peek(event)
        self._peeked = (None, None, False)
        if text is not None and joins:
            self._group.append(event)
            self._texts.append(text)
            self._chars += len(text)
            return []
        done = self.flush()
        if text is None:
            done.append(event)
        else:
            self._group, self._texts, self._chars = [event], [text], len(text)
        return done

    def starts_group(self, event: StoredEvent) -> bool:
        """Whether `event` would begin a new delivered event (not merge into
        the open group): paging counts delivered events by it."""
        text, joins = self._peek(event)
        return text is None or not joins

    def flush(self) -> list[StoredEvent]:
        """The group still open, merged (call at the end of a replay)."""
        if not self._group:
            return []
        merged = _merge(self._group, self._texts)
        self._group, self._texts, self._chars = [], [], 0
        return [merged]

    def _continues(self, event: StoredEvent, text: str) -> bool:
        if not self._group:
            return False
        source, last = event.event.source, self._group[-1].event.source
        return (source is last or source == last) and (
            self._chars + len(text) <= MAX_MERGED_CHARS
        )


def _merge(group: list[StoredEvent], texts: list[str]) -> StoredEvent:
    last = group[-1]
    if len(group) == 1:
        return last
    data = json.loads(last.event.data_json)
    data["content"] = "".join(texts)
    data["coalesced"] = {"count": len(group), "first_id": str(group[0].id)}
    return replace(last, event=replace(last.event, data_json=dump_json(data)))


def coalesce(events: list[StoredEvent]) -> list[StoredEvent]:
    """`events` (a whole replay) with adjacent chunks merged."""
    coalescer = Coalescer()
    merged = [out for event in events for out in coalescer.push(event)]
    return merged + coalescer.flush()


def coalescing_wanted(values: Iterable[str]) -> bool:
    """The `coalesce=` query values: none, or `llm.stream` (InvalidRequest else)."""
    wanted = False
    for value in values:
        if value != COALESCIBLE:
            raise InvalidRequest(f"coalesce must be {COALESCIBLE}, not {value!r}")
        wanted = True
    return wanted
