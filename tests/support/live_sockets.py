"""Helpers of the live-delivery unit tests: socket pairs, polling, frames."""

import socket

from runstream.entrypoints.live.subscriber import Subscriber


def connection(heartbeat=60.0, chunked=False, buffer=None):
    """A subscriber on a loopback TCP connection, and the client's end."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        peer = socket.create_connection(listener.getsockname())
        if buffer is not None:
            peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)
        ours, _ = listener.accept()
    if buffer is not None:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer)
    ours.setblocking(False)
    peer.settimeout(5)
    return Subscriber(ours, 1, heartbeat, chunked), peer


def read_until(peer, marker, count=1):
    data = b""
    while data.count(marker) < count:
        chunk = peer.recv(65536)
        assert chunk, f"the stream ended before {count} x {marker!r}: {data!r}"
        data += chunk
    return data


def body(data):
    """What follows the response head."""
    return data.partition(b"\r\n\r\n")[2]
