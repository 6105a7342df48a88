"""One subscriber's live stream: frames batched per write, heartbeats while idle,
`close` after the terminal event, and prompt release of a gone client."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from runstream.application.fan_out import SubscriberLagged
from runstream.application.follow_run import Closed, FeedItem, Gap
from runstream.application.recent_events import event_key
from runstream.domain.errors import StorageUnavailable
from runstream.domain.model import StoredEvent
from runstream.entrypoints.http.connections import StalledWrites, end_keepalive
from runstream.entrypoints.http.frames import CLOSE_FRAME, gap_frame, heartbeat_frame
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.http.pacer import Pacer
from runstream.entrypoints.http.stream_watch import StreamWatch

logger = logging.getLogger(__name__)

FLUSH_BYTES = 64 * 1024


class Stream:
    """The response body: an iterator of byte chunks over a FollowRun feed."""

    def __init__(
        self,
        feed: Iterator[FeedItem],
        pacer: Pacer,
        metrics: Metrics,
        sock: Any,
        stalls: StalledWrites,
        watch: StreamWatch,
    ) -> None:
        self._feed = feed
        self._pacer = pacer
        self._metrics = metrics
        self._stalls = stalls
        self._watch = watch
        self.sock = sock
        self.writing_since: float | None = None
        self._stamps: list[int] = []
        pacer.writer = self

    def __iter__(self) -> Iterator[bytes]:
        self._metrics.subscribers.inc()
        self._stalls.add(self)
        self._watch.add(self._pacer, self.sock)
        try:
            yield b""  # sends the headers now, before any event
            yield from self._frames()
        finally:
            self._metrics.subscribers.dec()
            self._stalls.discard(self)
            self._watch.discard(self._pacer)
            if self._pacer.closing.is_set():
                end_keepalive(self.sock)
            close = getattr(self._feed, "close", None)
            if close is not None:
                close()

    def _frames(self) -> Iterator[bytes]:
        pacer = self._pacer
        try:
            for item in self._feed:
                if isinstance(item, StoredEvent):
                    if event_key(item.id) <= pacer.written_key:
                        continue  # the hub already wrote it to the socket
                    self._add(pacer.hub.frame(item), item)
                    if item.is_terminal:
                        self._add(CLOSE_FRAME)
                        yield from self._flush()
                        return
                    pacer.batch_left -= 1
                    if pacer.batch_left == 0 or pacer.pending_bytes >= FLUSH_BYTES:
                        yield from self._flush()
                elif isinstance(item, Closed):
                    self._add(CLOSE_FRAME)
                    yield from self._flush()
                    return
                elif isinstance(item, Gap):
                    self._add(gap_frame(item.last_event_id, item.first_available_id))
                elif pacer.pending:
                    yield from self._flush()
                elif pacer.closing.is_set() or pacer.broken:
                    return
                elif pacer.heartbeat_due():
                    self._add(heartbeat_frame(int(time.time() * 1000)))
                    yield from self._flush()
        except SubscriberLagged as lagged:
            logger.info("dropping a slow subscriber: %s", lagged)
            self._metrics.slow_disconnects.inc()
        except StorageUnavailable as err:
            logger.warning("ending a stream: %s", err)
            self._metrics.backend_errors.inc()
        yield from self._flush()  # ends without `close`: the client resumes

    def _add(self, frame: bytes, event: StoredEvent | None = None) -> None:
        self._pacer.pending.append(frame)
        self._pacer.pending_bytes += len(frame)
        if event is not None and self._pacer.live:
            self._stamps.append(event.timestamp_ms)

    def _flush(self) -> Iterator[bytes]:
        pacer = self._pacer
        if not pacer.pending:
            return
        chunk = b"".join(pacer.pending)
        pacer.pending.clear()
        pacer.pending_bytes = 0
        self.writing_since = time.monotonic()
        yield chunk
        self.writing_since = None
        pacer.last_write = time.monotonic()
        if self._stamps:
            # One observation per write, for its oldest event: most live writes
            # carry one event, and a histogram update per frame costs as much
            # as the rest of the delivery.
            oldest = min(self._stamps)
            self._metrics.push_seconds.observe(max(0.0, time.time() - oldest / 1000))
            self._stamps.clear()
