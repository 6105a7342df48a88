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
COPY_BYTES = 16 * 1024  # a chunk up to this is framed in one buffer, by copying
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
        self._out_size = len(self._out[0])  # bytes in `_out`

    def queue(
        self, data: bytes, batch: Batch | None = None, last: bool = False
    ) -> None:
        self.inbox.append((data, batch, last))
        self.pushed += len(data)
        self.schedule(self)

    def offer(self, batch: Batch) -> None:
        """From the hub: queue the batch's events after the cursor, with a `gap`
        frame first when sequences jumped, and `close` after a terminal event."""
        cursor = self.cursor
        if batch.last <= cursor or self.ended is not None:
            return
        if batch.first > cursor:  # the whole batch (the usual case)
            events, data = batch.events, batch.data
            sequence = batch.first_sequence
        else:
            events, data = batch.after(cursor)
            sequence = events[0].sequence
        if self.last_sequence is not None and sequence > self.last_sequence + 1:
            data = gap_frame(self.last_id, events[0].id) + data
        self.cursor, self.last_sequence = batch.last, batch.last_sequence
        self.last_id = batch.events[-1].id
        if batch.terminal:
            data += CLOSE_FRAME
        self.queue(data, batch, batch.terminal)

    def end(self, error: Exception | None) -> None:
        """From the hub: no more events (closing, or the log failed)."""
        self.ended = "closing" if error is None else "failed"
        self.schedule(self)

    def bound_send_buffer(self) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    def backlog(self) -> int:
        """Bytes queued and not written yet."""
        return self.pushed - self.taken + self._out_size

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
        sock = self.sock
        while self._out:
            out = self._out
            try:
                sent = sock.send(out[0]) if len(out) == 1 else sock.sendmsg(out)
            except BlockingIOError:
                return False
            self.last_write = self.progress = time.monotonic()
            if sent < self._out_size:
                self._drop_sent(sent)
                return False
            self._out, self._out_size = [], 0
            if self.inbox:
                self._take(batches)
        return True

    def add_frame(self, frame: bytes) -> None:
        """Queue a frame of the writer loop's own (a heartbeat)."""
        part = b"%X\r\n%s\r\n" % (len(frame), frame) if self.chunked else frame
        self._out.append(part)
        self._out_size += len(part)

    def _take(self, batches: list[Batch]) -> None:
        inbox = self.inbox
        if len(inbox) == 1 and not self.finishing:  # the usual case: one item
            data, batch, last = inbox.popleft()
            size = len(data)
            self.taken += size
            if batch is not None:
                batches.append(batch)
            if not self.chunked:
                self._out, self._out_size = [data], size
            elif size <= COPY_BYTES:  # one buffer: cheaper to send than three
                part = b"%X\r\n%s\r\n" % (size, data)
                self._out, self._out_size = [part], len(part)
            else:
                head = b"%X\r\n" % size
                self._out, self._out_size = [head, data, b"\r\n"], size + len(head) + 2
            if last:
                self._finish()
            return
        parts: list[bytes] = []
        while inbox and len(parts) < MAX_PARTS:
            data, batch, last = inbox.popleft()
            self.taken += len(data)
            parts.append(data)
            if batch is not None:
                batches.append(batch)
            self.finishing = self.finishing or last
        size = sum(len(part) for part in parts)
        if parts and self.chunked:  # one chunk, sent from the parts themselves
            parts = [b"%X\r\n" % size, *parts, b"\r\n"]
            size += len(parts[0]) + 2
        self._out, self._out_size = parts, size
        if self.finishing and not inbox and not self.done:
            self._finish()

    def _finish(self) -> None:
        """`close` is taken: only the body's end is left to write."""
        self.finishing = self.done = True
        if self.chunked:
            self._out.append(LAST_CHUNK)
            self._out_size += len(LAST_CHUNK)

    def _drop_sent(self, sent: int) -> None:
        """Forget what was sent (less than all of `_out`)."""
        out = self._out
        self._out_size -= sent
        while sent >= len(out[0]):
            sent -= len(out.pop(0))
        if sent:
            out[0] = out[0][sent:]


def _unscheduled(subscriber: Subscriber) -> None:
    del subscriber
