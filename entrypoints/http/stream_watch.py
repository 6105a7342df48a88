"""StreamWatch: the one clock and lookout of a process's live streams, so that
an idle stream costs nothing until it has an event, a heartbeat is due, or its
client went away. A stream's socket sits in one epoll set that reports only a
peer hang-up (not data), and a heap orders the streams by when their heartbeat
is due; one thread waits on both and sets the stream's alarm."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import select
import threading
import time
from typing import Any, Protocol

from runstream.entrypoints.http.connections import client_connected

logger = logging.getLogger(__name__)

CHECK_SECONDS = 1.0  # without epoll: how often every client is checked
# Heartbeats due this close together are sent in one turn (so a stream's may be
# this late): with many streams, the thread then wakes a few times a second
# rather than once per stream per interval.
GRAIN_SECONDS = 0.05
HANG_UP = getattr(select, "EPOLLRDHUP", 0)


class Watched(Protocol):
    """A stream as the watch sees it (the Pacer): the watch sets `alarm` when
    `last_write + heartbeat` has passed, and sets `broken` first when the client
    hung up."""

    alarm: threading.Event
    broken: bool
    last_write: float
    heartbeat: float


def _epoll() -> Any:
    """A real epoll object, or None where there is none. gevent's patching hides
    select.epoll; the original is fine here, as the watch only polls it after
    the (patched, cooperative) select said it is ready."""
    try:
        from gevent.monkey import get_original

        return get_original("select", "epoll")()
    except (ImportError, AttributeError):
        factory = getattr(select, "epoll", None)
        return None if factory is None else factory()


class StreamWatch:
    """Without epoll (or with `epoll=False`), every client socket is instead
    asked once every CHECK_SECONDS whether its peer hung up."""

    def __init__(self, epoll: bool = True) -> None:
        self._use_epoll = epoll
        self._lock = threading.Lock()
        self._streams: dict[Watched, tuple[Any, int | None]] = {}  # sock, fd
        self._by_fd: dict[int, Watched] = {}
        self._due: list[tuple[float, int, Watched]] = []
        self._order = itertools.count()
        self._deadline = float("inf")  # when the thread wakes next at the latest
        self._thread: threading.Thread | None = None
        self._poll: Any = None
        self._poke: tuple[int, int] | None = None

    def add(self, stream: Watched, sock: Any = None) -> None:
        with self._lock:
            if self._poke is None:
                self._open()
            fd = _fileno(sock)
            self._streams[stream] = (sock, fd)
            if fd is not None and self._poll is not None:
                self._by_fd[fd] = stream
                try:
                    self._poll.register(fd, HANG_UP)
                except FileExistsError:  # a closed socket's number, reused
                    self._poll.modify(fd, HANG_UP)
            due = stream.last_write + stream.heartbeat
            heapq.heappush(self._due, (due, next(self._order), stream))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="runstream-stream-watch", daemon=True
                )
                self._thread.start()
            elif due < self._deadline:
                self._wake_thread()

    def discard(self, stream: Watched) -> None:
        with self._lock:
            _, fd = self._streams.pop(stream, (None, None))
            if fd is not None and self._by_fd.get(fd) is stream:
                del self._by_fd[fd]
                with contextlib.suppress(OSError):
                    self._poll.unregister(fd)
            if not self._streams:
                self._wake_thread()  # to end: it starts again with a stream

    def watching(self) -> int:
        with self._lock:
            return len(self._streams)

    def _open(self) -> None:
        self._poll = _epoll() if self._use_epoll else None
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        self._poke = (read, write)
        if self._poll is not None:
            self._poll.register(read, select.EPOLLIN)

    def _wake_thread(self) -> None:
        if self._poke is not None:
            with contextlib.suppress(BlockingIOError):
                os.write(self._poke[1], b"x")

    def _watch(self) -> None:
        while True:
            with self._lock:
                if not self._streams:
                    self._thread = None
                    return
                now = time.monotonic()
                soonest = self._due[0][0] if self._due else now + 3600.0
                if self._poll is None:
                    soonest = min(soonest, now + CHECK_SECONDS)
                self._deadline = max(soonest, now + GRAIN_SECONDS)
            try:
                self._wait(self._deadline - time.monotonic())
                self._alarm_due()
            except Exception:  # the watch must outlive any one failure
                logger.exception("stream watch failed")
                time.sleep(CHECK_SECONDS)

    def _wait(self, timeout: float) -> None:
        """Until the deadline, a hang-up, or a poke."""
        assert self._poke is not None
        ready = self._poke[0] if self._poll is None else self._poll.fileno()
        select.select([ready], [], [], max(0.0, timeout))
        with contextlib.suppress(BlockingIOError):
            os.read(self._poke[0], 4096)
        if self._poll is None:
            self._check_all()
            return
        for fd, _ in self._poll.poll(0):
            if fd != self._poke[0]:
                self._hung_up(fd)

    def _hung_up(self, fd: int) -> None:
        with self._lock:
            stream = self._by_fd.pop(fd, None)
            with contextlib.suppress(OSError):
                self._poll.unregister(fd)
        if stream is not None:
            stream.broken = True
            stream.alarm.set()

    def _check_all(self) -> None:
        """Without epoll: ask every client socket, once a second."""
        with self._lock:
            streams = [(s, sock) for s, (sock, _) in self._streams.items() if sock]
        for stream, sock in streams:
            if not client_connected(sock):
                stream.broken = True
                stream.alarm.set()

    def _alarm_due(self) -> None:
        """Wake the streams whose heartbeat is due; the others (they wrote since
        they were scheduled) go back in the heap at their new due time."""
        now = time.monotonic()
        with self._lock:
            heap = self._due
            while heap and heap[0][0] <= now:
                _, order, stream = heapq.heappop(heap)
                if stream not in self._streams:
                    continue
                due = stream.last_write + stream.heartbeat
                if due <= now:
                    stream.alarm.set()
                    due = now + stream.heartbeat
                heapq.heappush(heap, (due, order, stream))


def _fileno(sock: Any) -> int | None:
    if sock is None:
        return None
    try:
        fd = sock.fileno()
    except OSError:
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None
