"""Event ids: `<milliseconds>-<counter>`, totally ordered, the Redis Stream id form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from runstream.domain.errors import InvalidEventId

_MAX_PART = 2**64 - 1
_ID_RE = re.compile(r"(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})")


@dataclass(frozen=True, order=True, slots=True)
class EventId:
    """The position of an event in its run's log."""

    ms: int
    seq: int

    def __post_init__(self) -> None:
        if not (0 <= self.ms <= _MAX_PART and 0 <= self.seq <= _MAX_PART):
            raise InvalidEventId(f"event id parts out of range: {self.ms}-{self.seq}")

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"

    @classmethod
    def parse(cls, text: str) -> EventId:
        """Parse `<ms>-<n>`; anything else raises InvalidEventId."""
        match = _ID_RE.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise InvalidEventId(f"not an event id: {text!r} (expected <ms>-<n>)")
        ms, seq = int(match.group(1)), int(match.group(2))
        if ms > _MAX_PART or seq > _MAX_PART:
            raise InvalidEventId(f"event id out of range: {text!r}")
        return cls(ms, seq)

    def successor(self) -> EventId:
        """The smallest id after this one (for exclusive starts)."""
        if self.seq < _MAX_PART:
            return EventId(self.ms, self.seq + 1)
        return EventId(self.ms + 1, 0)

    def predecessor(self) -> EventId:
        """The greatest id before this one (for exclusive ends; not of 0-0)."""
        if self.seq > 0:
            return EventId(self.ms, self.seq - 1)
        return EventId(self.ms - 1, _MAX_PART)

    def next_for(self, now_ms: int) -> EventId:
        """The id to assign after this one at wall-clock `now_ms` (monotonic)."""
        if now_ms > self.ms:
            return EventId(now_ms, 0)
        return self.successor()


MIN_ID = EventId(0, 0)
MAX_ID = EventId(_MAX_PART, _MAX_PART)


def parse_bound(text: str, *, lowest: str = "-", highest: str = "+") -> EventId:
    """Parse an inclusive range bound: an event id, `-` (earliest) or `+` (latest)."""
    stripped = text.strip() if isinstance(text, str) else text
    if stripped == lowest:
        return MIN_ID
    if stripped == highest:
        return MAX_ID
    return EventId.parse(text)
