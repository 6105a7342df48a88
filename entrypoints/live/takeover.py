"""Taking a live stream's connection over from gunicorn, with public APIs only.

`TakeoverWorker` is gunicorn's gevent worker (the `worker_class` of `runstream
serve`) with one addition: every request's environ carries `TAKE_OVER`, a
callable that gives the application the request's connection as a socket of
its own (a duplicate of the descriptor gunicorn puts in the environ as
`gunicorn.socket`). Once the application called it, the worker writes nothing
on that connection, whatever the application returned and whatever middleware
wrapped its body: it closes the returned body (as WSGI requires), ends its own
handling of the connection through gunicorn's `is_already_handled` hook, and
closes its copy of the descriptor, which leaves the application's copy open.
The application then writes the whole HTTP response itself.

Under any other server (or the Flask test client) there is no `TAKE_OVER` in
the environ, and the stream is served as an ordinary WSGI body.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

TAKE_OVER = "runstream.take_over"


def _own_socket(shared: Any) -> socket.socket:
    """A non-blocking OS socket of the connection, independent of gunicorn's."""
    fd = os.dup(shared.fileno())
    try:
        from gevent.monkey import get_original

        plain: type[socket.socket] = get_original("socket", "socket")
    except ImportError:
        plain = socket.socket
    sock = plain(fileno=fd)
    sock.setblocking(False)
    return sock


class HandedOver:
    """What the worker gets back for a taken-over request: nothing to write."""


class Handover:
    """The WSGI application as the worker calls it: offers `TAKE_OVER`."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        shared = environ.get("gunicorn.socket")
        taken: list[socket.socket] = []
        # Not under TLS: the application would write around the encryption.
        if shared is not None and not hasattr(shared, "getpeercert"):

            def take_over() -> socket.socket:
                taken.append(_own_socket(shared))
                return taken[-1]

            environ[TAKE_OVER] = take_over
        body = self.application(environ, start_response)
        if not taken:
            return body
        close = getattr(body, "close", None)
        if close is not None:
            close()
        return HandedOver()


class Takeover:
    """Mix into a gunicorn async worker class (first in the bases) to offer
    `TAKE_OVER`; `served_app` is the application as loaded."""

    wsgi: Any

    def load_wsgi(self) -> None:
        super().load_wsgi()  # type: ignore[misc]
        self.served_app = self.wsgi
        self.wsgi = Handover(self.wsgi)

    def is_already_handled(self, respiter: Any) -> bool:
        if isinstance(respiter, HandedOver):
            raise StopIteration  # gunicorn's way to end a connection's handling
        return bool(super().is_already_handled(respiter))  # type: ignore[misc]


class TakeoverWorker(Takeover, GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker, with `TAKE_OVER` in every request's environ."""
