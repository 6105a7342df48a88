"""Request bodies: JSON only, read with a cap on size and time, clean JSON values.

A body over its limit is refused from its declared length before anything is
read, and a chunked one as soon as the cap is passed (413 `EVENT_TOO_LARGE`);
a body that does not arrive within the read timeout is answered 408
(`INVALID_REQUEST`). After either, the connection is not reused: what is left of
the body is never read.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import sys
from typing import Any

from flask import current_app, request
from werkzeug.exceptions import RequestTimeout

from runstream.domain.errors import EventTooLarge, InvalidRequest
from runstream.domain.model import JsonObject

READ_SIZE = 64 * 1024
JSON_TYPE = "application/json"
# Room for a body's wrapper and whitespace around events at the size limit.
BODY_SLACK = 64 * 1024


def body_limit(max_batch: int = 1) -> int:
    """The largest body accepted: RUNSTREAM_MAX_BODY_BYTES, lowered to what
    `max_batch` events at the size limit need, never below what one needs."""
    config = current_app.container.config  # type: ignore[attr-defined]
    event_bytes: int = config.events.max_bytes()
    batch = min(event_bytes * max_batch + BODY_SLACK, config.http.max_body_bytes())
    return int(max(batch, event_bytes + BODY_SLACK))


# A string holds a surrogate only from a `\uD800`-`\uDFFF` escape (UTF-8
# cannot carry one): a body without such an escape needs no encoding check for
# lone ones. A body short enough cannot nest deeper than json.dumps can write.
_MAY_HOLD_SURROGATES = re.compile(rb"\\u[dD][89a-fA-F]")
_DEPTH_SAFE_BYTES = 1000


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is not finite as a double")
    return value


def require_json_type() -> None:
    """A POST carries `Content-Type: application/json`, or no body at all: a
    form or `text/plain` POST (which any web page can send) is refused."""
    if request.environ.get("CONTENT_TYPE") == JSON_TYPE:  # the usual, unparsed
        return
    has_body = request.content_length or "Transfer-Encoding" in request.headers
    if request.mimetype == JSON_TYPE or (not request.mimetype and not has_body):
        return
    raise InvalidRequest(f"Content-Type must be {JSON_TYPE}")


def json_object(limit: int, *, depth_checked: bool = False) -> JsonObject:
    """The body as a clean JSON object: finite numbers, valid Unicode, not
    nested deeper than json.dumps can write (unless `depth_checked`: the
    caller turns a RecursionError of its own dumps into INVALID_REQUEST)."""
    _check_declared(limit)
    require_json_type()
    config = current_app.container.config  # type: ignore[attr-defined]
    raw = _read(limit, config.http.body_timeout())
    return clean_object(raw, depth_checked=depth_checked)


def clean_object(raw: bytes, *, depth_checked: bool = False) -> JsonObject:
    """`raw` as a clean JSON object (see json_object); a request body, or a
    message of the ingest stream."""
    try:
        value = json.loads(raw, parse_constant=_no_constants, parse_float=_finite)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise InvalidRequest(f"the request body is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise InvalidRequest("the request body must be a JSON object")
    deep = not depth_checked and len(raw) > _DEPTH_SAFE_BYTES
    if deep or _MAY_HOLD_SURROGATES.search(raw):
        _check_encodable(value)
    return value


def _check_encodable(value: JsonObject) -> None:
    """What `dump_json` will write of it: no lone surrogate, not too deep."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except RecursionError:
        raise InvalidRequest("the request body is nested too deeply") from None
    except UnicodeEncodeError:
        raise InvalidRequest(
            "the request body has a string that is not valid Unicode (a lone "
            "surrogate such as \\udfff)"
        ) from None


def _check_declared(limit: int) -> None:
    declared = request.content_length
    if declared is not None and declared > limit:
        _refuse_rest()
        raise EventTooLarge(f"the request body is over the {limit}-byte limit")


def _read(limit: int, timeout: float) -> bytes:
    declared = request.content_length
    if declared is not None and declared <= limit:
        return _read_declared(declared, timeout)
    request.max_content_length = limit + 1
    stream = request.stream
    parts: list[bytes] = []
    size = 0
    try:
        with _deadline(timeout):
            while chunk := stream.read(min(READ_SIZE, limit + 1 - size)):
                parts.append(chunk)
                size += len(chunk)
                if size > limit:
                    _refuse_rest()
                    raise EventTooLarge(
                        f"the request body is over the {limit}-byte limit"
                    )
    except BodyTimedOut:
        _refuse_rest()
        raise RequestTimeout(
            f"the request body did not arrive within {timeout:g} s"
        ) from None
    return b"".join(parts)


def _read_declared(length: int, timeout: float) -> bytes:
    """A body of a declared length within the limit, read straight from the
    server's input (WSGI: never past CONTENT_LENGTH), without werkzeug's
    limited stream around it: every append reads one."""
    source = request.environ["wsgi.input"]
    parts: list[bytes] = []
    size = 0
    try:
        with _deadline(timeout):
            while size < length and (chunk := source.read(length - size)):
                parts.append(chunk)
                size += len(chunk)
    except BodyTimedOut:
        _refuse_rest()
        raise RequestTimeout(
            f"the request body did not arrive within {timeout:g} s"
        ) from None
    if size < length:
        raise InvalidRequest(
            f"the request body ended after {size} of its {length} declared bytes"
        )
    return b"".join(parts)


class BodyTimedOut(Exception):
    """The body read passed its deadline."""


def _deadline(seconds: float) -> contextlib.AbstractContextManager[Any]:
    """A deadline for the whole read under gevent (`runstream serve`); other
    servers bring their own."""
    if "gevent" not in sys.modules:
        return contextlib.nullcontext()
    from gevent import Timeout, monkey

    if not monkey.is_module_patched("socket"):
        return contextlib.nullcontext()
    deadline: contextlib.AbstractContextManager[Any] = Timeout(seconds, BodyTimedOut())
    return deadline


def _refuse_rest() -> None:
    """The server reads nothing more from this connection: it ends after the
    answer instead of reading the rest of the body to reach a next request."""
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)
