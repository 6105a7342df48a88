"""The adapter's hot commands on a lone Redis, sent on connections of its own.

redis-py's `execute_command` spends tens of microseconds around each round trip:
pool bookkeeping with a readiness poll() per checkout, a retry closure,
observability hooks, arguments re-encoded one by one and reply callbacks. On an
append that is about a third of the whole call. The lane keeps idle connections
of its own, built exactly like the client pool's (address, timeouts, health
checks, handshake), packs all-string arguments with hiredis in one call and
returns the reply as the parser gives it: lists and decoded strings.

It never retries: a write whose reply was lost may have run, and sending it again
would store it twice. A connection idle for a while is checked before use (one
poll) and replaced if the server closed it meanwhile. redis-py's
Connection disconnects itself when a send or a read fails, so the next use of that
connection reconnects; a ResponseError (NOSCRIPT, say) leaves it clean. After a
fork the child drops the parent's connections without closing them (redis-py only
shuts a socket down in the process that opened it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from hiredis import pack_command
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

# Connections kept idle between calls; a burst beyond it opens more, which are
# closed when they come back.
IDLE_CONNECTIONS = 32
# A connection idle longer than this is polled for a server-side close before
# use. Polling every checkout cost an eighth of a gevent worker's CPU under the
# SSE load benchmark (gevent's poll is no cheap syscall); a connection that worked
# less than a second ago and broke since fails its call as any broken connection
# does (StorageUnavailable), which callers already handle.
QUIET_SECONDS = 1.0


class Lane:
    def __init__(
        self,
        client: Redis,
        idle: int = IDLE_CONNECTIONS,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        pool = client.connection_pool
        self._quiet = quiet_seconds
        self._connection_class = pool.connection_class
        self._connection_kwargs = dict(pool.connection_kwargs)
        self._most_idle = idle
        # (connection, when it was put back); redis-py's Connection is untyped.
        self._idle: list[tuple[Any, float]] = []
        self._pid = os.getpid()

    def call(self, args: Sequence[str]) -> Any:
        """The reply to one command; redis-py's errors are raised as they are."""
        # hiredis's stub wants a one-element tuple; any length works.
        return self._exchange(pack_command(tuple(args)), 0)  # type: ignore[arg-type]

    def call_all(self, commands: Sequence[Sequence[str]]) -> list[Any]:
        """The replies to several commands sent in one write (a pipeline). An
        error reply is raised after every reply has been read."""
        packed = b"".join(pack_command(tuple(args)) for args in commands)  # type: ignore[arg-type]
        replies: list[Any] = self._exchange(packed, len(commands))
        return replies

    def call_packed(self, command: bytes) -> Any:
        """The reply to a command already in RESP form (see `bulk`)."""
        return self._exchange(command, 0)

    def _exchange(self, command: bytes, replies: int) -> Any:
        """Send `command`; read one reply, or a list of `replies` replies."""
        if self._pid != os.getpid():
            self._idle, self._pid = [], os.getpid()
        try:
            connection, since = self._idle.pop()
        except IndexError:
            connection = self._connection_class(**self._connection_kwargs)
        else:
            # A quiet connection with something to read was closed by the server
            # (a restart, CLIENT KILL, its idle timeout): reconnect before sending.
            if (
                time.monotonic() - since > self._quiet
                and connection.is_connected
                and _closed(connection)
            ):
                connection.disconnect()
        try:
            connection.send_packed_command([command])
            if not replies:
                return connection.read_response()
            return _read_all(connection, replies)
        finally:
            if len(self._idle) < self._most_idle:
                self._idle.append((connection, time.monotonic()))
            else:
                connection.disconnect()

    def close(self) -> None:
        """Disconnect the idle connections (a later call opens new ones)."""
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.disconnect()


def _read_all(connection: Any, count: int) -> list[Any]:
    replies: list[Any] = []
    failure: ResponseError | None = None
    for _ in range(count):
        try:
            replies.append(connection.read_response())
        except ResponseError as err:  # the connection stays in step: read on
            failure = failure or err
    if failure is not None:
        raise failure
    return replies


def _closed(connection: Any) -> bool:
    try:
        return bool(connection.can_read())
    except RedisConnectionError:  # can_read has disconnected it
        return True


def bulk(text: str) -> bytes:
    """One argument in RESP form: a caller that sends the same arguments again and
    again packs them once and joins the pieces under `array`."""
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def array(count: int) -> bytes:
    """The header of a command of `count` arguments in RESP form."""
    return b"*%d\r\n" % count
