"""One producer's stream: read what arrived, append each group in order (the
AppendEvents use case, with the group's key), write one answer per group.

After an error answer the connection reads nothing more and ends: the groups
behind the failed one are not appended out of order, and the producer sends
them again, with the failed one first, on a new connection.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable

from runstream.application.append_events import AppendEvents
from runstream.domain.errors import DomainError, StorageUnavailable
from runstream.entrypoints.http.errors import UNEXPECTED, classify
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.ingest.groups import (
    error_answer,
    group_key,
    parse_group,
    stored_answer,
)
from runstream.entrypoints.producer import websocket as ws

logger = logging.getLogger(__name__)

READ_SIZE = 64 * 1024  # under malloc's mmap threshold: a read allocates this much
IDLE_SECONDS = 300.0  # a producer silent this long reconnects when it needs to
DRAIN_SECONDS = 5.0  # after an error: how long the client gets to hang up


class IngestConnection:
    def __init__(
        self,
        sock: socket.socket,
        append: AppendEvents,
        metrics: Metrics,
        tenant: str | None,
        max_bytes: int,
        limit: int,
        ended: Callable[[IngestConnection], None],
    ) -> None:
        self.sock = sock
        self._append = append
        self._metrics = metrics
        self._tenant = tenant
        self._max_bytes = max_bytes
        self._reader = ws.FrameReader(masked=True, limit=limit)
        self._ended = ended

    def serve(self) -> None:
        try:
            self.sock.settimeout(IDLE_SECONDS)
            while data := self.sock.recv(READ_SIZE):
                answers, going_on = self._answer(data)
                if answers:
                    self.sock.sendall(b"".join(answers))
                if not going_on:
                    self._drain()
                    break
        except (OSError, TimeoutError):
            pass
        finally:
            self.sock.close()
            self._ended(self)

    def close(self) -> None:
        """End the stream (the service is stopping): the producer reconnects."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def _answer(self, data: bytes) -> tuple[list[bytes], bool]:
        """The frames for what arrived, and whether to read on."""
        try:
            frames = self._reader.feed(data)
        except ws.TooLarge as err:
            # Answered like a POST over the body limit: the client sends the
            # group's events again one at a time.
            answer = error_answer(None, "EVENT_TOO_LARGE", str(err), 413)
            closing = ws.encode(ws.CLOSE, ws.close_payload(1009), False)
            return [ws.encode(ws.TEXT, answer, False), closing], False
        except ws.FrameError as err:
            return [ws.encode(ws.CLOSE, ws.close_payload(1002, str(err)), False)], False
        answers: list[bytes] = []
        for frame in frames:
            if frame.opcode == ws.TEXT:
                answer, ok = self._group(frame.payload)
                answers.append(ws.encode(ws.TEXT, answer, False))
                if not ok:
                    answers.append(ws.encode(ws.CLOSE, ws.close_payload(), False))
                    return answers, False
            elif frame.opcode == ws.PING:
                answers.append(ws.encode(ws.PONG, frame.payload, False))
            elif frame.opcode == ws.CLOSE:
                answers.append(ws.encode(ws.CLOSE, ws.close_payload(), False))
                return answers, False
        return answers, True

    def _group(self, raw: bytes) -> tuple[bytes, bool]:
        key = None
        try:
            group = parse_group(raw, self._max_bytes)
            key = group.idempotency.key
            started = time.perf_counter()
            stored = self._append.execute(
                group.run_id, group.events, self._tenant, group.idempotency
            )
        except DomainError as err:
            code, status = classify(err)
            if isinstance(err, StorageUnavailable):
                logger.warning("storage unavailable: %s", err)
                self._metrics.backend_errors.inc()
            key = key or group_key(raw)
            return error_answer(key, code, str(err) or code, status), False
        except Exception:
            logger.exception("unexpected error in an ingest group")
            code, status = UNEXPECTED
            return error_answer(key, code, "internal error", status), False
        self._metrics.append_seconds.observe(time.perf_counter() - started)
        self._metrics.appended.inc(len(stored))
        return stored_answer(key, stored), True

    def _drain(self) -> None:
        """Read (and drop) until the client hangs up, so closing on unread
        data does not reset the connection before the answer is read."""
        with contextlib.suppress(OSError, TimeoutError):
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(DRAIN_SECONDS)
            deadline = time.monotonic() + DRAIN_SECONDS
            while self.sock.recv(READ_SIZE) and time.monotonic() < deadline:
                pass
