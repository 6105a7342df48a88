"""The event log's reads and its expiry, on the lane (a lone Redis) or through
redis-py's client (a cluster, which needs its routing).

Both raise the driver's errors as they are; the event log turns them into
StorageUnavailable.
"""

from __future__ import annotations

from typing import Any, Protocol

from runstream.adapters.redis_stream.client import Client
from runstream.adapters.redis_stream.codec import (
    decode_entries,
    decode_raw,
    key_index,
    stream_key,
)
from runstream.adapters.redis_stream.lane import Lane
from runstream.domain.model import RunId, StoredEvent

# The oldest entry, the newest and the count, read as one snapshot.
Ends = tuple[list[StoredEvent], list[StoredEvent], int]


class Reads(Protocol):
    def range(
        self, run_id: RunId, start: str, end: str, limit: int
    ) -> list[StoredEvent]: ...

    def newest(self, run_id: RunId) -> list[StoredEvent]: ...

    def ends(self, run_id: RunId) -> Ends: ...

    def expire(self, run_id: RunId, ttl_ms: int) -> None: ...


class LaneReads:
    def __init__(self, lane: Lane) -> None:
        self._lane = lane

    def range(
        self, run_id: RunId, start: str, end: str, limit: int
    ) -> list[StoredEvent]:
        found = self._lane.call(
            ("XRANGE", stream_key(run_id), start, end, "COUNT", str(limit))
        )
        return decode_raw(run_id, found)

    def raw_range(self, run_id: RunId, start: str, end: str, limit: int) -> Any:
        """The range's entries as the parser gives them, not decoded."""
        key = stream_key(run_id)
        return self._lane.call(("XRANGE", key, start, end, "COUNT", str(limit)))

    def newest(self, run_id: RunId) -> list[StoredEvent]:
        key = stream_key(run_id)
        return decode_raw(
            run_id, self._lane.call(("XREVRANGE", key, "+", "-", "COUNT", "1"))
        )

    def ends(self, run_id: RunId) -> Ends:
        key = stream_key(run_id)
        replies = self._lane.call_all(
            (
                ("MULTI",),
                ("XRANGE", key, "-", "+", "COUNT", "1"),
                ("XREVRANGE", key, "+", "-", "COUNT", "1"),
                ("XLEN", key),
                ("EXEC",),
            )
        )
        oldest, newest, length = replies[-1]
        return decode_raw(run_id, oldest), decode_raw(run_id, newest), int(length)

    def expire(self, run_id: RunId, ttl_ms: int) -> None:
        ttl = str(ttl_ms)
        self._lane.call_all(
            (("PEXPIRE", stream_key(run_id), ttl), ("PEXPIRE", key_index(run_id), ttl))
        )


class ClientReads:
    def __init__(self, client: Client) -> None:
        # redis-py leaves these methods untyped.
        self._client: Any = client

    def range(
        self, run_id: RunId, start: str, end: str, limit: int
    ) -> list[StoredEvent]:
        found = self._client.xrange(stream_key(run_id), start, end, limit)
        return decode_entries(run_id, found)

    def newest(self, run_id: RunId) -> list[StoredEvent]:
        found = self._client.xrevrange(stream_key(run_id), count=1)
        return decode_entries(run_id, found)

    def ends(self, run_id: RunId) -> Ends:
        key = stream_key(run_id)
        with self._client.pipeline() as pipe:
            pipe.xrange(key, count=1)
            pipe.xrevrange(key, count=1)
            pipe.xlen(key)
            oldest, newest, length = pipe.execute()
        return decode_entries(run_id, oldest), decode_entries(run_id, newest), length

    def expire(self, run_id: RunId, ttl_ms: int) -> None:
        self._client.pexpire(stream_key(run_id), ttl_ms)
        self._client.pexpire(key_index(run_id), ttl_ms)
