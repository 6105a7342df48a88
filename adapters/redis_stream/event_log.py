"""The Redis Stream EventLog: one stream per run, `run:<run_id>:events`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import cast

from redis.typing import KeyT, StreamIdT

from adapters.redis_stream.client import REDIS_ERRORS, Client, block_slice
from adapters.redis_stream.codec import (
    Entry,
    append_args,
    decode_entries,
    parse_id,
    store_args,
    stream_key,
)
from adapters.redis_stream.scripts import APPEND, STORE
from domain.errors import InvalidRequest, RunNotActive, StorageUnavailable
from domain.ids import MAX_ID, MIN_ID, EventId
from domain.log_rules import check_batch_order, new_continuation
from domain.model import LogInfo, NewEvent, RunId, StoredEvent


class RedisStreamEventLog:
    """The EventLog on Redis Streams (CONTRACT §3), safe across writer processes.

    Appends and copies run as Lua scripts on the run's single key, so numbering and
    writing are atomic on a lone Redis and on a cluster alike. Entries are trimmed
    to about `maxlen` (never fewer) and expire `ttl_seconds` after `finish`.
    """

    def __init__(
        self, client: Client, maxlen: int = 10_000, ttl_seconds: float = 86400
    ) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, not {maxlen}")
        if not client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("the client must decode responses (see redis_client)")
        self._client = client
        self._maxlen = maxlen
        self._ttl_ms = int(ttl_seconds * 1000)
        self._slice = block_slice(client)
        self._append = client.register_script(APPEND)
        self._store = client.register_script(STORE)

    def append(self, run_id: RunId, events: Sequence[NewEvent]) -> list[StoredEvent]:
        if not events:
            return []
        check_batch_order(run_id, events)
        args = append_args(self._maxlen, events)
        try:
            reply = self._append(keys=[stream_key(run_id)], args=args)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        if len(reply) == 1:
            raise RunNotActive(
                f"run {run_id} has finished; its log takes no more events"
            )
        ms, first = reply[0], reply[1]
        return [
            StoredEvent(parse_id(entry_id), run_id, first + n, ms, event)
            for n, (entry_id, event) in enumerate(zip(reply[2:], events, strict=True))
        ]

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        key = stream_key(run_id)
        # Another writer may move the log between the check and the script; the
        # script then refuses, and the check runs again on the new last event.
        while True:
            last = self._last(run_id)
            fresh = new_continuation(last, events)
            if not fresh:
                return 0
            if fresh[0].id == MIN_ID:
                raise InvalidRequest("event id 0-0 cannot be stored")
            args = store_args(self._maxlen, None if last is None else last.id, fresh)
            try:
                if self._store(keys=[key], args=args):
                    return len(fresh)
            except REDIS_ERRORS as err:
                raise _unavailable(err) from err

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        if limit <= 0:
            return []
        try:
            found = self._client.xrange(stream_key(run_id), str(start), str(end), limit)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        return decode_entries(run_id, found)

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        if not cursors:
            time.sleep(max(timeout, 0))
            return {}
        streams: dict[KeyT, StreamIdT] = {
            stream_key(run_id): str(cursor) for run_id, cursor in cursors.items()
        }
        runs: dict[KeyT, RunId] = {stream_key(run_id): run_id for run_id in cursors}
        if timeout <= 0:
            return self._read_after(runs, streams, limit, None)
        deadline = time.monotonic() + timeout
        # BLOCK in slices, since a longer block would outlast the socket timeout.
        # Redis ends a BLOCK on its timer tick, so a wait may run up to one tick
        # (100 ms at the default hz) past `timeout`.
        while (remaining := deadline - time.monotonic()) > 0:
            block_ms = max(1, int(min(remaining, self._slice) * 1000))
            found = self._read_after(runs, streams, limit, block_ms)
            if found:
                return found
        return {}

    def finish(self, run_id: RunId) -> None:
        try:
            self._client.pexpire(stream_key(run_id), self._ttl_ms)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err

    def info(self, run_id: RunId) -> LogInfo | None:
        key = stream_key(run_id)
        try:
            with self._client.pipeline() as pipe:
                pipe.xrange(key, count=1)
                pipe.xrevrange(key, count=1)
                pipe.xlen(key)
                oldest, newest, length = pipe.execute()
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        if not oldest or not newest:
            return None
        first = decode_entries(run_id, oldest)[0]
        last = decode_entries(run_id, newest)[0]
        return LogInfo(
            first.id, first.sequence, last.id, last.sequence, length, last.is_terminal
        )

    def _last(self, run_id: RunId) -> StoredEvent | None:
        try:
            found = self._client.xrevrange(stream_key(run_id), count=1)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        events = decode_entries(run_id, found)
        return events[0] if events else None

    def _read_after(
        self,
        runs: Mapping[KeyT, RunId],
        streams: dict[KeyT, StreamIdT],
        limit: int,
        block_ms: int | None,
    ) -> dict[RunId, list[StoredEvent]]:
        try:
            found = self._client.xread(streams, count=max(limit, 1), block=block_ms)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        return {
            runs[key]: decode_entries(runs[key], entries)
            for key, entries in cast("list[tuple[str, list[Entry]]]", found or [])
        }


def _unavailable(err: Exception) -> StorageUnavailable:
    return StorageUnavailable(f"the Redis event log is unavailable: {err}")
