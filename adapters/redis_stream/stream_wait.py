"""`EventLog.wait` on a lone Redis: one XREAD BLOCK over every watched stream."""

from __future__ import annotations

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
    one cursor unchanged, so each run's key and cursor are kept in RESP form and
    re-encoded only when they change: with a hundred watched runs, packing the
    command anew each time cost more than the round trip.
    """

    def __init__(self, lane: Lane, block_slice: float) -> None:
        self._lane = lane
        self._slice = block_slice
        # run -> (cursor, key packed, cursor packed), for the runs of the last wait
        self._packed: dict[RunId, tuple[EventId, bytes, bytes]] = {}

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
        """`COUNT limit STREAMS key... id...`, packed."""
        kept, packed = self._packed, {}
        for run_id, cursor in cursors.items():
            known = kept.get(run_id)
            if known is None:
                known = (cursor, bulk(stream_key(run_id)), bulk(str(cursor)))
            elif known[0] is not cursor and known[0] != cursor:
                known = (cursor, known[1], bulk(str(cursor)))
            packed[run_id] = known
        self._packed = packed
        keys = b"".join(known[1] for known in packed.values())
        ids = b"".join(known[2] for known in packed.values())
        return _COUNT + bulk(str(max(limit, 1))) + _STREAMS + keys + ids

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
