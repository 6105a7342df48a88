"""The link: one thread that owns the producer's stream connection. It sends
the window's groups as they come, reads the service's answer to each (in send
order), and when the connection breaks, opens a new one and sends every group
still unanswered again, same groups, same keys. When the service refuses the
upgrade it sends the window by keyed POSTs instead, and tries the stream again
later."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from runstream.entrypoints.producer.answers import RETRYABLE_STATUSES, ServiceError
from runstream.entrypoints.producer.inflight import Group, Window
from runstream.entrypoints.producer.retry import GaveUp, RetryPolicy
from runstream.entrypoints.producer.retry import send_with_retries as send
from runstream.entrypoints.producer.stream import StreamConnection, UpgradeRefused
from runstream.entrypoints.producer.transport import ConnectionFailed, Transport
from runstream.entrypoints.producer.websocket import FrameError

logger = logging.getLogger("runstream.producer")

UPGRADE_AGAIN_SECONDS = 60.0  # after a refused upgrade, POSTs for this long
Settle = Callable[[Group, "ServiceError | GaveUp | None"], None]


class Reconnect(Exception):
    """The service answered an error and ends the connection (it processes
    nothing after an error, so the groups behind it keep their order)."""

    def __init__(self, retryable: bool) -> None:
        self.retryable = retryable


class Link:
    def __init__(
        self,
        url: str,
        api_key: str | None,
        timeout: float,
        window: Window,
        policy: RetryPolicy,
        settle: Settle,
        abandon: threading.Event,
        stream: bool = True,
    ) -> None:
        self._connection = StreamConnection(url, api_key, timeout)
        self._posts = Transport(url, api_key, timeout)
        self._timeout = timeout
        self._window = window
        self._policy = policy
        self._settle = settle
        self._abandon = abandon
        self._stopping = False
        self._posting_until = 0.0 if stream else float("inf")
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self.thread = threading.Thread(
            target=self._run, name="runstream-producer-link", daemon=True
        )
        self.thread.start()

    def poke(self) -> None:
        """Something was added to the window (or the link should stop)."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"!")

    def stop(self) -> None:
        self._stopping = True
        self.poke()

    def _done(self) -> bool:
        return self._abandon.is_set() or (self._stopping and not len(self._window))

    def _run(self) -> None:
        failures, since = 0, 0.0
        try:
            while not self._done():
                if not len(self._window):
                    self._wait(None)
                    continue
                try:
                    if time.monotonic() < self._posting_until:
                        self._post_window()
                    else:
                        self._stream()
                    failures = 0
                except Reconnect as cut:
                    if not cut.retryable:
                        continue
                    failures, since = self._failed(failures, since, cut)
                except (ConnectionFailed, ServiceError, OSError, FrameError) as err:
                    failures, since = self._failed(failures, since, err)
        finally:
            self._connection.close()
            self._posts.close()
            self._wake_r.close()
            self._wake_w.close()

    def _failed(self, failures: int, since: float, err: Exception) -> tuple[int, float]:
        self._connection.close()
        if not len(self._window):  # an idle connection ended: open one when needed
            logger.debug("producer stream: %s", err)
            return 0, 0.0
        log = logger.debug if failures else logger.warning
        log("producer stream: %s; retrying", err)
        now = time.monotonic()
        since = since if failures else now
        budget = self._policy.retry_for
        if budget is not None and now - since > budget:
            for group in self._window.take_all():
                reason = "UNCONFIRMED" if group.ever_sent else "UNSENT"
                self._settle(group, GaveUp(reason, "no answer from the service"))
            return 0, now
        self._abandon.wait(self._policy.delay(failures))
        return failures + 1, since

    def _wait(self, sock: socket.socket | None) -> bool:
        """Until poked or the socket is readable (True then)."""
        watched = [self._wake_r] if sock is None else [self._wake_r, sock]
        readable, _, _ = select.select(watched, [], [], 1.0)
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(4096)
        return sock is not None and sock in readable

    def _stream(self) -> None:
        try:
            self._connection.open()
        except UpgradeRefused as refused:
            logger.info("the service takes no stream (%s): POSTs it is", refused)
            self._posting_until = time.monotonic() + UPGRADE_AGAIN_SECONDS
            return
        self._window.new_connection()
        sock = self._connection.sock
        assert sock is not None
        try:
            self._exchange(sock)
        finally:
            self._connection.close()

    def _exchange(self, sock: socket.socket) -> None:
        waiting_since: float | None = None
        while not self._done():
            if unsent := self._window.unsent():
                self._connection.send([g.message for g in unsent])
                waiting_since = waiting_since or time.monotonic()
            if self._connection.buffered() or self._wait(sock):
                for answer in self._connection.receive():
                    self._answer(answer)
                waiting_since = time.monotonic() if len(self._window) else None
            elif waiting_since and time.monotonic() - waiting_since > self._timeout:
                raise ConnectionFailed(TimeoutError("no answer"), True, False)

    def _answer(self, answer: dict[str, Any]) -> None:
        if answer.get("closed"):
            raise ConnectionResetError("the service ended the stream")
        error, key = answer.get("error"), answer.get("key")
        group = self._window.head()
        if group is None or key not in (group.key, *((None,) if error else ())):
            raise ConnectionResetError(f"an answer out of order: {answer!r:.200}")
        if not error:
            self._settle(group, None)
            return
        status = int(answer.get("status", 500))
        refusal = ServiceError(
            status, str(error.get("code")), str(error.get("message"))
        )
        if status not in RETRYABLE_STATUSES:
            self._settle(group, refusal)
        raise Reconnect(retryable=status in RETRYABLE_STATUSES) from refusal

    def _post_window(self) -> None:
        """The window by POSTs, in order, each retried with its key."""
        while (group := self._window.head()) is not None and not self._abandon.is_set():
            group.ever_sent = True
            path = f"/runs/{group.run_id}/events"
            try:
                send(self._posts, self._policy, self._abandon, "POST", path,
                     group.events_body, group.key)  # fmt: skip
            except (ServiceError, GaveUp) as err:
                self._settle(group, err)
            else:
                self._settle(group, None)
