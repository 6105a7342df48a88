"""The client sockets of live streams: is the client still there, and dropping
the ones that stopped reading."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

STALL_SECONDS = 30.0  # a write blocked this long: the client stopped reading
SWEEP_SECONDS = 5.0


class Writer(Protocol):
    sock: Any
    writing_since: float | None


def client_connected(sock: Any) -> bool:
    """False once the peer closed its side (EOF); True when it cannot tell."""
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable or sock.recv(1, socket.MSG_PEEK) != b""
    except (OSError, ValueError):
        return False


def end_keepalive(sock: Any) -> None:
    """Once the response ends, make the server see the connection as done
    instead of waiting for another request on it (used when shutting down)."""
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)


class StalledWrites:
    """One sweeper for all streams of a process. A stream marks when a write
    starts and ends (an attribute, nothing else per write); a write blocked past
    `stall` seconds gets its socket shut down, which ends that stream."""

    def __init__(
        self,
        on_drop: Callable[[], None],
        stall: float = STALL_SECONDS,
        sweep: float = SWEEP_SECONDS,
    ) -> None:
        self._on_drop = on_drop
        self._stall = stall
        self._sweep = sweep
        self._writers: set[Writer] = set()
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None

    def add(self, writer: Writer) -> None:
        if writer.sock is None:
            return
        with self._lock:
            self._writers.add(writer)
            if self._sweeper is None:
                self._sweeper = threading.Thread(
                    target=self._sweep_forever, name="runstream-stalls", daemon=True
                )
                self._sweeper.start()

    def discard(self, writer: Writer) -> None:
        with self._lock:
            self._writers.discard(writer)

    def sweep_once(self) -> int:
        """Drop the stalled writers now; returns how many."""
        now = time.monotonic()
        with self._lock:
            stalled = [
                w
                for w in self._writers
                if w.writing_since is not None and now - w.writing_since > self._stall
            ]
            self._writers.difference_update(stalled)
        for writer in stalled:
            with contextlib.suppress(OSError):
                writer.sock.shutdown(socket.SHUT_RDWR)
            self._on_drop()
        return len(stalled)

    def _sweep_forever(self) -> None:
        while True:
            time.sleep(self._sweep)
            self.sweep_once()
