"""A loopback proxy in front of the service that sees producers' ingest
streams: it can cut one in the middle of a group, or refuse the upgrade as a
proxy without WebSocket support does."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.redis_server import free_port
from tests.support.tcp_proxy import _close, _pump, accepted

REFUSAL = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class IngestProxy:
    """Forwards 127.0.0.1:`port` to `target`. `cut_after(n)`: the next stream
    is closed, both ways, once `n` bytes of its frames went through (the rest
    of the chunk that crosses `n` is dropped)."""

    def __init__(self, target: tuple[str, int], refuse_upgrades: bool = False):
        self.target = target
        self.refuse_upgrades = refuse_upgrades
        self.port = free_port()
        self.upgrades = 0
        self.cuts = 0
        self._cut_at: int | None = None
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_after(self, size: int) -> None:
        with self._lock:
            self._cut_at = size

    def close(self) -> None:
        _close([self._listener])

    def _accept(self) -> None:
        for client in accepted(self._listener):
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            head = client.recv(65536)
            stream = head.startswith(b"GET /ingest ")
            if stream:
                with self._lock:
                    self.upgrades += 1
                if self.refuse_upgrades:
                    client.sendall(REFUSAL)
                    _close([client])
                    return
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            upstream.sendall(head)
            back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
            back.start()
            if stream:
                self._forward_stream(client, upstream)
            else:
                _pump(client, upstream)

    def _forward_stream(self, client: socket.socket, upstream: socket.socket) -> None:
        with self._lock:
            cut_at, self._cut_at = self._cut_at, None
        passed = 0
        with contextlib.suppress(OSError):
            while chunk := client.recv(65536):
                if cut_at is not None and passed + len(chunk) > cut_at:
                    upstream.sendall(chunk[: cut_at - passed])
                    with self._lock:
                        self.cuts += 1
                    break
                upstream.sendall(chunk)
                passed += len(chunk)
        _close([client, upstream])
