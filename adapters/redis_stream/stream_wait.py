"""`EventLog.wait` on a lone Redis: one XREAD BLOCK over every watched stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from runstream.adapters.redis_stream.client import REDIS_ERRORS
from runstream.adapters.redis_stream.codec import decode_raw, run_of_key, stream_key
from runstream.adapters.redis_stream.lane import Lane, array, bulk
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent

_XREAD, _BLOCK, _COUNT, _STREAMS = (
    bulk(word) for word in ("XREAD", "BLOCK", "COUNT", "STREAMS")
)


class StreamWait:
    """Waits on the lane, whose blocking read must end before its socket timeout:
    `block_slice` is the longest BLOCK that does (client.block_slice).

    The fan-out hub waits again after every delivery over the same runs, all but
    one cursor unchanged, so the runs' keys and cursors are kept in RESP form and
    re-encoded only when they change: with a hundred watched runs, packing the
    command anew each time cost more than the round trip, and even checking every
    run's cursor for a change cost 6-20 us a read.
    """

    def __init__(self, lane: Lane, block_slice: float) -> None:
        self._lane = lane
        self._slice = block_slice
        # The runs' keys and cursors as packed for the last wait, in its order,
        # and the token of the snapshot of heads it was given (if any).
        self._lock = threading.Lock()
        self._token: object = None
        self._keys = b""
        self._ids: dict[RunId, bytes] = {}

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int
    ) -> dict[RunId, list[StoredEvent]]:
        if not cursors:
            time.sleep(max(timeout, 0))
            return {}
        streams = self._streams(cursors, limit)
        if timeout <= 0:
            return self._read_after(array(len(cursors) * 2 + 4) + _XREAD + streams)
        deadline = time.monotonic() + timeout
        # BLOCK in slices, since a longer block would outlast the socket timeout.
        # Redis ends a BLOCK on its timer tick, so a wait may run up to one tick
        # (100 ms at the default hz) past `timeout`.
        head = array(len(cursors) * 2 + 6) + _XREAD + _BLOCK
        while (remaining := deadline - time.monotonic()) > 0:
            block_ms = max(1, int(min(remaining, self._slice) * 1000))
            found = self._read_after(head + bulk(str(block_ms)) + streams)
            if found:
                return found
        return {}

    def _streams(self, cursors: Mapping[RunId, EventId], limit: int) -> bytes:
        """`COUNT limit STREAMS key... id...`, packed. Given the hub's snapshot
        of heads that follows the one packed last, only the runs it says moved
        are packed again (application/live/heads.py); anything else, anew."""
        moved = getattr(cursors, "moved", None)
        with self._lock:
            if moved is not None and getattr(cursors, "previous", None) is self._token:
                ids = self._ids
                for run_id in moved:
                    ids[run_id] = bulk(str(cursors[run_id]))
            else:
                self._keys = b"".join(bulk(stream_key(run_id)) for run_id in cursors)
                self._ids = {run: bulk(str(cursor)) for run, cursor in cursors.items()}
            self._token = getattr(cursors, "token", None)
            packed = self._keys + b"".join(self._ids.values())
        return _COUNT + bulk(str(max(limit, 1))) + _STREAMS + packed

    def _read_after(self, command: bytes) -> dict[RunId, list[StoredEvent]]:
        try:
            found = self._lane.call_packed(command)
        except REDIS_ERRORS as err:
            raise StorageUnavailable(
                f"the Redis event log is unavailable: {err}"
            ) from err
        result = {}
        for key, entries in found or ():
            run_id = run_of_key(key)
            result[run_id] = decode_raw(run_id, entries)
        return result
