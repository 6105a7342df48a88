"""A loopback TCP proxy that a test can cut and restore, to take a real server
(MariaDB) away from the service without stopping it for everyone else."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from tests.support.redis_server import free_port


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`. `cut()` closes every connection and
    drops new ones until `restore()`; the port stays bound meanwhile, so no other
    socket on the machine can take it before the link is restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._open = True
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def restore(self) -> None:
        with self._lock:
            self._open = True

    def cut(self) -> None:
        with self._lock:
            self._open = False
            sockets, self._sockets = self._sockets, []
        _close(sockets)

    def close(self) -> None:
        self.cut()
        _close([self._listener])

    def _accept(self) -> None:
        for client in accepted(self._listener):
            with self._lock:
                refused = not self._open
            if refused:
                _close([client])
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close([client])
                continue
            with self._lock:
                if not self._open:
                    _close([client, upstream])
                    continue
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def accepted(listener: socket.socket) -> Iterator[socket.socket]:
    """The connections `listener` accepts, until it is closed."""
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        yield client


def _close(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
