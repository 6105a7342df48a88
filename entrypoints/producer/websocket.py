"""WebSocket framing (RFC 6455), standard library only: what the producer's
connection and the service's ingest endpoint both speak (docs/producers.md).

Only what the ingest stream needs: text frames (one group or one answer each),
continuation frames from an intermediary that re-fragments, ping/pong and
close. Frames a client sends are masked, as the RFC requires (proxies must
not be fooled into reading frames as HTTP); a server's are not.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0
CONTROL = frozenset({CLOSE, PING, PONG})


class FrameError(Exception):
    """The peer broke the framing (bad opcode, unmasked client frame, a frame
    over the size limit): the connection cannot go on."""


class TooLarge(FrameError):
    """A message over the reader's size limit."""


def accept_value(key: str) -> str:
    """`Sec-WebSocket-Accept` for a handshake's `Sec-WebSocket-Key`."""
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode("ascii")


def _xor(payload: bytes, mask: bytes) -> bytes:
    """Masking (RFC 6455 §5.3) on whole integers, not byte by byte."""
    size = len(payload)
    if not size:
        return payload
    stream = (mask * (size // 4 + 1))[:size]
    value = int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")
    return value.to_bytes(size, "little")


def encode(opcode: int, payload: bytes, masked: bool) -> bytes:
    """One final frame."""
    size = len(payload)
    bit = 0x80 if masked else 0
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, bit | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, bit | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, bit | 127, size)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + _xor(payload, mask)


def close_payload(code: int = 1000, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()[:120]


@dataclass(frozen=True)
class Frame:
    opcode: int
    payload: bytes


class FrameReader:
    """Bytes in, whole messages out: `feed` returns the frames completed so
    far (fragments joined into one TEXT frame). `masked` is what the peer must
    do (a server reads masked frames); `limit` bounds one message."""

    def __init__(self, masked: bool, limit: int) -> None:
        self._masked = masked
        self._limit = limit
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragmented = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while (found := self._next()) is not None:
            frame, fin = found
            if frame.opcode in CONTROL:
                frames.append(frame)
            elif (whole := self._join(frame, fin)) is not None:
                frames.append(whole)
        return frames

    def _next(self) -> tuple[Frame, bool] | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        size, start = second & 0x7F, 2
        if size == 126:
            if len(buffer) < 4:
                return None
            size, start = struct.unpack_from("!H", buffer, 2)[0], 4
        elif size == 127:
            if len(buffer) < 10:
                return None
            size, start = struct.unpack_from("!Q", buffer, 2)[0], 10
        self._check(first, second, size)
        masked = bool(second & 0x80)
        end = start + (4 if masked else 0) + size
        if len(buffer) < end:
            return None
        payload = bytes(buffer[end - size : end])
        if masked:
            payload = _xor(payload, bytes(buffer[start : start + 4]))
        del buffer[:end]
        return Frame(first & 0x0F, payload), bool(first & 0x80)

    def _check(self, first: int, second: int, size: int) -> None:
        opcode = first & 0x0F
        if first & 0x70:
            raise FrameError("reserved bits set (no extension was agreed)")
        if opcode not in (TEXT, CONTINUATION, *CONTROL):
            raise FrameError(f"opcode {opcode:#x} is not used here")
        if bool(second & 0x80) != self._masked:
            raise FrameError("masked frames go from client to server only")
        if opcode in CONTROL and (size > 125 or not first & 0x80):
            raise FrameError("a control frame is short and never fragmented")
        if size + self._fragmented > self._limit:
            raise TooLarge(f"a message over the {self._limit}-byte limit")

    def _join(self, frame: Frame, fin: bool) -> Frame | None:
        if (frame.opcode == CONTINUATION) != bool(self._fragments):
            raise FrameError("a continuation frame belongs after a first fragment")
        if fin and not self._fragments:
            return frame
        self._fragments.append(frame.payload)
        self._fragmented += len(frame.payload)
        if not fin:
            return None
        payload = b"".join(self._fragments)
        self._fragments, self._fragmented = [], 0
        return Frame(TEXT, payload)
