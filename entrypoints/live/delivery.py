"""LiveDelivery: the taken-over live streams of one process, from the request
that takes a connection over to the end of its stream."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

from runstream.application.follow_run import FeedItem
from runstream.application.live.hub import FanOutHub
from runstream.application.live.subscription import Batch
from runstream.domain.model import RunId
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.live.handoff import Handoff
from runstream.entrypoints.live.subscriber import Subscriber
from runstream.entrypoints.live.writer_loop import WriterLoop

logger = logging.getLogger(__name__)

SLOW = ("slow", "stalled")  # the writer loop's drops (a lagged replay logs itself)


class LiveDelivery:
    """Owns the process's WriterLoop; one per app (no module-level state)."""

    def __init__(self, hub: FanOutHub, metrics: Metrics) -> None:
        self._hub = hub
        self._metrics = metrics
        self.loop = WriterLoop(self._ended, self._written)

    def serve(
        self,
        sock: socket.socket,
        run_id: RunId,
        handoff: Handoff,
        feed: Iterator[FeedItem],
        heartbeat: float,
        chunked: bool = True,
    ) -> None:
        """Write the response head, replay, and leave the rest to the hub and
        the writer loop (this returns once the stream is live or over)."""
        subscriber = Subscriber(sock, run_id, heartbeat, chunked)
        self._metrics.subscribers.inc()
        self.loop.add(subscriber)
        try:
            handoff.replay(feed, subscriber)
        except BaseException:
            subscriber.end(None)  # the stream cannot go on: end it, no `close`
            raise

    def close(self) -> None:
        """End every stream, without `close` (the service is stopping)."""
        self.loop.close()

    def _written(self, batch: Batch) -> None:
        """Push latency, once per batch (at its first write)."""
        if batch.events:
            stamp = batch.events[0].timestamp_ms / 1000
            self._metrics.push_seconds.observe(max(0.0, time.time() - stamp))

    def _ended(self, subscriber: Subscriber, reason: str) -> None:
        self._hub.unsubscribe(subscriber.run_id, subscriber)
        self._metrics.subscribers.dec()
        if reason in SLOW:
            logger.info(
                "dropping a slow subscriber of run %s: %s, %d bytes unwritten",
                subscriber.run_id,
                reason,
                subscriber.backlog(),
            )
        if reason in (*SLOW, "lagged"):
            self._metrics.slow_disconnects.inc()
