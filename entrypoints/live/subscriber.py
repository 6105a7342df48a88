"""Subscriber: one taken-over live-stream connection (socket, bounded outbound
queue, cursor, heartbeat deadline), as the hub and the writer loop see it."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections import deque

from runstream.application.live.subscription import Batch
from runstream.application.recent_events import event_key
from runstream.domain.ids import EventId
from runstream.domain.model import RunId
from runstream.entrypoints.live.frames import CLOSE_FRAME, gap_frame

HEAD = (
    b"%s 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Connection: keep-alive\r\nX-Accel-Buffering: no\r\n"
)
LAST_CHUNK = b"0\r\n\r\n"
# Once live, a client that stops reading soon fills its socket (and the policy
# drops it) instead of hiding megabytes in the kernel; a replay runs unbounded.
SEND_BUFFER = 64 * 1024
MAX_PARTS = 512  # queued items per write (sendmsg takes at most IOV_MAX buffers)


class Subscriber:
    """Producers (the request's replay, then the hub, never both at once) only
    append to `inbox` and count `pushed`; everything else is the writer loop's.
    `schedule` is the writer loop's, called whenever something was queued."""

    def __init__(
        self, sock: socket.socket, run_id: RunId, heartbeat: float, chunked: bool
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.run_id = run_id
        self.heartbeat = heartbeat
        self.chunked = chunked
        self.schedule = _unscheduled
        # (frames, the live batch they came from or None, the stream ends after)
        self.inbox: deque[tuple[bytes, Batch | None, bool]] = deque()
        self.pushed = 0  # bytes ever queued (producers only)
        self.taken = 0  # bytes ever moved from the inbox to the socket (loop only)
        self.cursor = -1  # event_key of the last event queued
        self.last_id: EventId | None = None  # and its id (None: none yet)
        self.last_sequence: int | None = None
        self.ended: str | None = None  # why the stream ends, once it does
        self.room = threading.Event()  # the replay may queue more
        self.wants_room = False  # the replay waits for `room`
        self.finishing = False  # `close` is queued: end once everything is written
        self.done = False  # everything but the last bytes is out: end when idle
        self.blocked = False  # the socket took less than offered
        self.last_write = self.progress = time.monotonic()
        status = b"HTTP/1.1" if chunked else b"HTTP/1.0"
        head = HEAD % status + (b"Transfer-Encoding: chunked\r\n" if chunked else b"")
        self._out: list[bytes] = [head + b"\r\n"]

    def queue(
        self, data: bytes, batch: Batch | None = None, last: bool = False
    ) -> None:
        self.inbox.append((data, batch, last))
        self.pushed += len(data)
        self.schedule(self)

    def offer(self, batch: Batch) -> None:
        """From the hub: queue the batch's events after the cursor, with a `gap`
        frame first when sequences jumped, and `close` after a terminal event."""
        events, data = batch.after(self.cursor)
        if not events or self.ended is not None:
            return
        first, last = events[0], events[-1]
        if self.last_sequence is not None and first.sequence > self.last_sequence + 1:
            data = gap_frame(self.last_id, first.id) + data
        self.cursor, self.last_sequence = event_key(last.id), last.sequence
        self.last_id = last.id
        if last.is_terminal:
            data += CLOSE_FRAME
        self.queue(data, batch, last.is_terminal)

    def end(self, error: Exception | None) -> None:
        """From the hub: no more events (closing, or the log failed)."""
        self.ended = "closing" if error is None else "failed"
        self.schedule(self)

    def bound_send_buffer(self) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    def backlog(self) -> int:
        """Bytes queued and not written yet."""
        return self.pushed - self.taken + sum(len(part) for part in self._out)

    def close(self, reset: bool, reason: str) -> None:
        """Close the socket: reset (the kernel frees unread bytes at once), or
        end the response first when nothing is partly written."""
        with contextlib.suppress(OSError):
            if reset:
                linger = struct.pack("ii", 1, 0)
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            elif not self.done and self.chunked and not self._out:
                self.sock.send(LAST_CHUNK)  # a response without `close`
        self.sock.close()
        self.ended = reason
        self.room.set()

    def idle(self) -> bool:
        return not self._out and not self.inbox

    def send(self, batches: list[Batch]) -> bool:
        """Write what is queued without blocking, adding the batches it takes to
        `batches`; True when nothing is left. Raises OSError when the client is
        gone."""
        if not self._out:
            self._take(batches)
        while self._out:
            try:
                sent = self.sock.sendmsg(self._out)
            except BlockingIOError:
                return False
            now = time.monotonic()
            self.last_write = self.progress = now
            if not self._drop_sent(sent):
                return False
            self._take(batches)
        return True

    def add_frame(self, frame: bytes) -> None:
        """Queue a frame of the writer loop's own (a heartbeat)."""
        self._out.append(
            b"%X\r\n%s\r\n" % (len(frame), frame) if self.chunked else frame
        )

    def _take(self, batches: list[Batch]) -> None:
        parts: list[bytes] = []
        inbox = self.inbox
        while inbox and len(parts) < MAX_PARTS:
            data, batch, last = inbox.popleft()
            self.taken += len(data)
            parts.append(data)
            if batch is not None:
                batches.append(batch)
            self.finishing = self.finishing or last
        if parts and self.chunked:  # one chunk, sent from the parts themselves
            size = sum(len(part) for part in parts)
            parts = [b"%X\r\n" % size, *parts, b"\r\n"]
        self._out = parts
        if self.finishing and not inbox and not self.done:
            self.done = True  # after this, only the body's end is left to write
            if self.chunked:
                self._out.append(LAST_CHUNK)

    def _drop_sent(self, sent: int) -> bool:
        """Forget what was sent; False when the socket took less than offered."""
        out = self._out
        while out and sent >= len(out[0]):
            sent -= len(out.pop(0))
        if out and sent:
            out[0] = out[0][sent:]
        return not out


def _unscheduled(subscriber: Subscriber) -> None:
    del subscriber
