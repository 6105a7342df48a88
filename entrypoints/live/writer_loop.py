"""WriterLoop: the one owner of every taken-over live-stream connection of a
process. One thread (a greenlet under gevent) waits on one epoll set (hang-ups
always, writability only while a socket is full) and a heap of heartbeat
deadlines; it writes without blocking, sends heartbeats, drops slow clients."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from runstream.application.live.subscription import Batch
from runstream.entrypoints.live.frames import heartbeat_frame
from runstream.entrypoints.live.poller import HANG_UP, WRITABLE, Poller
from runstream.entrypoints.live.subscriber import Subscriber

logger = logging.getLogger(__name__)

STALL_SECONDS = 30.0  # a full socket that took nothing for this long: dropped
MAX_BACKLOG = 4 * 1024 * 1024  # bytes queued for one client: over it, dropped
CHECK_SECONDS = 1.0  # how often full sockets are checked for a stall
DROPPED = ("slow", "stalled")  # ends that reset the connection (frees its buffers)


class WriterLoop:
    """`on_end(subscriber, reason)` is called once per stream, after its socket
    is closed; `on_batch(batch)` once per live batch, at its first write."""

    def __init__(
        self,
        on_end: Callable[[Subscriber, str], None],
        on_batch: Callable[[Batch], None] = lambda batch: None,
        stall: float = STALL_SECONDS,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self._on_end = on_end
        self._on_batch = on_batch
        self._stall = stall
        self._max_backlog = max_backlog
        self._lock = threading.Lock()
        self._by_fd: dict[int, Subscriber] = {}
        self._due: list[tuple[float, int, Subscriber]] = []
        self._order = itertools.count()
        self._ready: deque[Subscriber] = deque()
        self._poked = False
        self._poll: Poller | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._blocked: set[Subscriber] = set()  # sockets that took less than offered
        self._observed: Batch | None = None  # the batch last given to `on_batch`

    def add(self, subscriber: Subscriber) -> None:
        """Own the connection from now on; its queued bytes go out at once."""
        with self._lock:
            if self._poll is None:
                self._poll = Poller()
            self._by_fd[subscriber.fd] = subscriber
            self._poll.watch(subscriber.fd)
            due = subscriber.last_write + subscriber.heartbeat
            heapq.heappush(self._due, (due, next(self._order), subscriber))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="runstream-writer", daemon=True
                )
                self._thread.start()
        subscriber.schedule = self.schedule
        self.schedule(subscriber)

    def schedule(self, subscriber: Subscriber) -> None:
        """Something was queued for `subscriber` (any thread; never blocks)."""
        self._ready.append(subscriber)
        if not self._poked and self._poll is not None:
            self._poked = True
            self._poll.poke()

    def streams(self) -> int:
        with self._lock:
            return len(self._by_fd)

    def close(self) -> None:
        """End every stream now, without `close` (the service is stopping):
        the loop's thread does it, between two writes."""
        with self._lock:
            self._closing = True
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            self._poked = True
            self._poll.poke()  # type: ignore[union-attr]
            thread.join(5.0)
        self._end_all()

    def _end_all(self) -> None:
        with self._lock:
            owned = list(self._by_fd.values())
        for subscriber in owned:
            self._end(subscriber, "closing")

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._by_fd:
                    self._thread = None
                    return
                now = time.monotonic()
                soonest = self._due[0][0] if self._due else now + 3600.0
                if self._blocked:
                    soonest = min(soonest, now + CHECK_SECONDS)
            try:
                self._turn(max(0.0, soonest - now))
            except Exception:  # the loop must outlive any one failure
                logger.exception("live writer loop failed")
                time.sleep(CHECK_SECONDS)

    def _turn(self, timeout: float) -> None:
        assert self._poll is not None
        for fd, flags in self._poll.wait(timeout):
            subscriber = self._by_fd.get(fd)
            if subscriber is None:
                continue
            if flags & HANG_UP:
                self._end(subscriber, "hung up")
            elif flags & WRITABLE:
                self._write(subscriber)
        self._poked = False
        if self._closing:
            self._end_all()
            return
        ready = self._ready
        while ready:
            subscriber = ready.popleft()
            if subscriber.ended is not None:
                self._end(subscriber, subscriber.ended)
            else:
                self._write(subscriber)
        now = time.monotonic()
        self._heartbeats(now)
        if self._blocked:  # (only this thread adds to it)
            with self._lock:
                stalled = [s for s in self._blocked if now - s.progress > self._stall]
            for subscriber in stalled:
                self._end(subscriber, "stalled")

    def _write(self, subscriber: Subscriber) -> None:
        if self._by_fd.get(subscriber.fd) is not subscriber:
            return
        batches: list[Batch] = []
        try:
            written = subscriber.send(batches)
        except OSError:
            self._end(subscriber, "hung up")
            return
        for batch in batches:
            if batch is not self._observed:
                self._observed = batch
                self._on_batch(batch)
        if subscriber.wants_room:
            subscriber.room.set()
        if written and subscriber.done:
            self._end(subscriber, "done")
        elif written != (not subscriber.blocked):
            subscriber.blocked = not written
            if written:
                self._blocked.discard(subscriber)
            else:
                self._blocked.add(subscriber)
            assert self._poll is not None
            self._poll.watch(subscriber.fd, writable=not written)
        if subscriber.blocked and subscriber.backlog() > self._max_backlog:
            self._end(subscriber, "slow")

    def _heartbeats(self, now: float) -> None:
        """Heartbeats for the streams that wrote nothing for an interval; the
        others go back in the heap at their new due time."""
        heap = self._due
        while heap and heap[0][0] <= now:
            _, order, subscriber = heapq.heappop(heap)
            if self._by_fd.get(subscriber.fd) is not subscriber:
                continue
            due = subscriber.last_write + subscriber.heartbeat
            if due <= now * 1.000001 and subscriber.idle():
                subscriber.add_frame(heartbeat_frame(int(time.time() * 1000)))
                self._write(subscriber)
                due = now + subscriber.heartbeat
            heapq.heappush(heap, (max(due, now + 0.001), order, subscriber))

    def _end(self, subscriber: Subscriber, reason: str) -> None:
        with self._lock:
            if self._by_fd.get(subscriber.fd) is not subscriber:
                return
            del self._by_fd[subscriber.fd]
            self._blocked.discard(subscriber)
        if self._poll is not None:
            self._poll.forget(subscriber.fd)
        subscriber.close(reset=reason in DROPPED, reason=reason)
        self._on_end(subscriber, reason)
