"""`EventLog.wait` on a lone Redis: one XREAD BLOCK over every watched stream."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import cast

from redis import Redis
from redis.typing import KeyT, StreamIdT

from adapters.redis_stream.client import REDIS_ERRORS, block_slice
from adapters.redis_stream.codec import Entry, decode_entries, stream_key
from domain.errors import StorageUnavailable
from domain.ids import EventId
from domain.model import RunId, StoredEvent


class StreamWait:
    def __init__(self, client: Redis) -> None:
        self._client = client
        self._slice = block_slice(client)

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int
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
            raise StorageUnavailable(
                f"the Redis event log is unavailable: {err}"
            ) from err
        return {
            runs[key]: decode_entries(runs[key], entries)
            for key, entries in cast("list[tuple[str, list[Entry]]]", found or [])
        }
