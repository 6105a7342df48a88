"""The service behind a WSGI middleware that wraps every response body: it
holds the body's chunks back until it has BUFFER bytes (or the body ends), as
compressing or rewriting middleware does, and marks each response."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from runstream.entrypoints.http.app import create_app

BUFFER = 4096


class BufferingMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def marked(status: str, headers: list[Any], *rest: Any) -> Any:
            return start_response(status, [*headers, ("X-Wrapped", "yes")], *rest)

        return _Buffered(self.app(environ, marked))


class _Buffered:
    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        held = b""
        for chunk in self._body:
            held += chunk
            if len(held) >= BUFFER:
                yield held
                held = b""
        if held:
            yield held

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


def wrapped_app() -> BufferingMiddleware:
    return BufferingMiddleware(create_app())
