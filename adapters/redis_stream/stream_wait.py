"""`EventLog.wait` on a lone Redis: one XREAD BLOCK over every watched stream."""

from __future__ import annotations

import time
from collections.abc import Mapping

from adapters.redis_stream.client import REDIS_ERRORS
from adapters.redis_stream.codec import decode_raw, stream_key
from adapters.redis_stream.lane import Lane
from domain.errors import StorageUnavailable
from domain.ids import EventId
from domain.model import RunId, StoredEvent


class StreamWait:
    """Waits on the lane, whose blocking read must end before its socket timeout:
    `block_slice` is the longest BLOCK that does (client.block_slice)."""

    def __init__(self, lane: Lane, block_slice: float) -> None:
        self._lane = lane
        self._slice = block_slice

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int
    ) -> dict[RunId, list[StoredEvent]]:
        if not cursors:
            time.sleep(max(timeout, 0))
            return {}
        runs = {stream_key(run_id): run_id for run_id in cursors}
        # XREAD [BLOCK ms] COUNT n STREAMS key... id...: the tail is built once.
        tail = (
            "COUNT",
            str(max(limit, 1)),
            "STREAMS",
            *runs,
            *map(str, cursors.values()),
        )
        if timeout <= 0:
            return self._read_after(runs, ("XREAD", *tail))
        deadline = time.monotonic() + timeout
        # BLOCK in slices, since a longer block would outlast the socket timeout.
        # Redis ends a BLOCK on its timer tick, so a wait may run up to one tick
        # (100 ms at the default hz) past `timeout`.
        while (remaining := deadline - time.monotonic()) > 0:
            block_ms = max(1, int(min(remaining, self._slice) * 1000))
            found = self._read_after(runs, ("XREAD", "BLOCK", str(block_ms), *tail))
            if found:
                return found
        return {}

    def _read_after(
        self, runs: Mapping[str, RunId], command: tuple[str, ...]
    ) -> dict[RunId, list[StoredEvent]]:
        try:
            found = self._lane.call(command)
        except REDIS_ERRORS as err:
            raise StorageUnavailable(
                f"the Redis event log is unavailable: {err}"
            ) from err
        return {
            runs[key]: decode_raw(runs[key], entries) for key, entries in found or ()
        }
