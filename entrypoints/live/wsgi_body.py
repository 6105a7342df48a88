"""A live stream served as an ordinary WSGI response body, where the server
offers no takeover (the Flask test client, other WSGI servers): the request's
thread follows the feed and yields whatever is ready in one chunk."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping

from runstream.application.follow_run import FeedItem, Gap
from runstream.application.live.hub import FanOutHub
from runstream.domain.errors import StorageUnavailable, SubscriberLagged
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.live.frames import CLOSE_FRAME, gap_frame, heartbeat_frame

logger = logging.getLogger(__name__)

FLUSH_FRAMES = 256  # a replay is yielded in chunks of this many frames


class BodyWait:
    """The feed's LiveWait: the hub's, except that it returns nothing at once
    while frames wait to be yielded (the feed then says Idle, and the body
    yields them), and waits at most until the next heartbeat is due."""

    def __init__(self, hub: FanOutHub, heartbeat: float) -> None:
        self.hub = hub
        self.heartbeat = heartbeat
        self.pending: list[bytes] = []
        self.batch_left = 0  # events of the last live batch not yet framed
        self.last_write = time.monotonic()
        self.wake = threading.Event()

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        if self.pending:
            return {}
        self.wake.clear()
        left = self.last_write + self.heartbeat - time.monotonic()
        found = self.hub.wait(cursors, max(0.0, left), limit, wake=self.wake)
        self.batch_left = sum(len(events) for events in found.values())
        return found

    def heartbeat_due(self) -> bool:
        return time.monotonic() - self.last_write >= self.heartbeat * 0.999


class WsgiStream:
    """The response body: byte chunks over a FollowRun feed."""

    def __init__(
        self,
        feed: Iterator[FeedItem],
        live: BodyWait,
        metrics: Metrics,
        closing: threading.Event,
    ) -> None:
        self._feed = feed
        self._live = live
        self._metrics = metrics
        self._closing = closing

    def __iter__(self) -> Iterator[bytes]:
        self._metrics.subscribers.inc()
        try:
            yield b""  # sends the headers now, before any event
            yield from self._frames()
        finally:
            self._metrics.subscribers.dec()
            close = getattr(self._feed, "close", None)
            if close is not None:
                close()

    def _frames(self) -> Iterator[bytes]:
        live = self._live
        try:
            for item in self._feed:
                if isinstance(item, StoredEvent):
                    live.pending.append(live.hub.frame(item))
                    if item.is_terminal:
                        live.pending.append(CLOSE_FRAME)
                        break
                    live.batch_left -= 1
                    if live.batch_left == 0 or len(live.pending) >= FLUSH_FRAMES:
                        yield from self._flush()
                elif isinstance(item, Gap):
                    live.pending.append(
                        gap_frame(item.last_event_id, item.first_available_id)
                    )
                elif live.pending:
                    yield from self._flush()
                elif self._closing.is_set():
                    return
                elif live.heartbeat_due():
                    live.pending.append(heartbeat_frame(int(time.time() * 1000)))
                    yield from self._flush()
            else:  # no terminal event: the run ended at or before the start
                live.pending.append(CLOSE_FRAME)
        except SubscriberLagged as lagged:
            logger.info("dropping a slow subscriber: %s", lagged)
            self._metrics.slow_disconnects.inc()
        except StorageUnavailable as err:
            logger.warning("ending a stream: %s", err)
            self._metrics.backend_errors.inc()
        yield from self._flush()  # ends without `close`: the client resumes

    def _flush(self) -> Iterator[bytes]:
        live = self._live
        if live.pending:
            chunk = b"".join(live.pending)
            live.pending.clear()
            yield chunk
            live.last_write = time.monotonic()
