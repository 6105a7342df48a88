"""Notices of new events on a Redis Cluster: one sharded pub/sub connection per
master, whatever the number of runs or subscribers.

A `NodeListener` thread owns one connection to one master, subscribes it to the
notice channels it is asked for (SSUBSCRIBE, one slot per command) and turns
what arrives into version bumps on the shared `NoticeBoard`: a notice bumps its
run, and so does a confirmed subscription, since events may have been appended
before it took effect. A refused subscription (MOVED, or the server dropping it
when the slot left) is reported as misrouted; a broken or silent connection
ends the thread and is reported as lost. The waiter reroutes both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MovedError

from runstream.adapters.redis_stream.client import REDIS_ERRORS
from runstream.adapters.redis_stream.codec import run_of_channel
from runstream.domain.model import RunId

logger = logging.getLogger(__name__)


class NoticeBoard:
    """Per-run versions, bumped by the listeners; waiters block on `tick`."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._versions: dict[RunId, int] = {}
        self.tick = 0
        self.lost: set[str] = set()
        self.misrouted: set[str] = set()

    def version(self, run_id: RunId) -> int:
        return self._versions.get(run_id, 0)

    def bump(self, run_ids: Iterable[RunId]) -> None:
        with self._changed:
            for run_id in run_ids:
                self._versions[run_id] = self._versions.get(run_id, 0) + 1
            self._wake()

    def forget(self, run_ids: Iterable[RunId]) -> None:
        with self._changed:
            for run_id in run_ids:
                self._versions.pop(run_id, None)

    def report(self, *, lost: str = "", misrouted: Iterable[str] = ()) -> None:
        with self._changed:
            if lost:
                self.lost.add(lost)
            self.misrouted.update(misrouted)
            self._wake()

    def take_problems(self) -> tuple[set[str], set[str]]:
        with self._changed:
            problems = (self.lost, self.misrouted)
            self.lost, self.misrouted = set(), set()
            return problems

    def await_change(self, tick: int, timeout: float) -> None:
        with self._changed:
            if self.tick == tick:
                self._changed.wait(timeout)

    def _wake(self) -> None:
        self.tick += 1
        self._changed.notify_all()


class NodeListener(threading.Thread):
    """One master's notice connection; `want` replaces its set of channels."""

    def __init__(
        self,
        name: str,
        connect: Callable[[], Any],
        board: NoticeBoard,
        poll: float = 0.05,
        health: float = 5.0,
    ) -> None:
        super().__init__(name=f"runstream-notices-{name}", daemon=True)
        self.node = name
        self._connect, self._board = connect, board
        self._poll, self._health = poll, health
        self._wanted: frozenset[str] = frozenset()
        self._sent: set[str] = set()
        self._stopping = threading.Event()
        self._heard = self._pinged = time.monotonic()

    def want(self, channels: Iterable[str]) -> None:
        self._wanted = frozenset(channels)  # one reference swap: no lock needed

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        connection = None
        try:
            connection = self._connect()
            connection.connect()
            while not self._stopping.is_set():
                self._sync(connection)
                self._receive(connection)
        except (*REDIS_ERRORS, OSError) as err:
            logger.info("notices from %s stopped: %s", self.node, err)
        finally:
            if connection is not None:
                connection.disconnect()
            if not self._stopping.is_set():
                self._board.report(lost=self.node)

    def _sync(self, connection: Any) -> None:
        wanted = self._wanted
        for command, channels in (
            ("SSUBSCRIBE", wanted - self._sent),
            ("SUNSUBSCRIBE", self._sent - wanted),
        ):
            for group in _by_slot(channels).values():
                connection.send_command(command, *group)
        self._sent = set(wanted)
        now = time.monotonic()
        if now - self._pinged > self._health:
            connection.send_command("PING")
            self._pinged = now
        if now - self._heard > 2 * self._health + self._poll:
            raise RedisConnectionError(f"{self.node} stopped answering PING")

    def _receive(self, connection: Any) -> None:
        if not connection.can_read(timeout=self._poll):
            return
        while True:
            try:
                self._handle(connection.read_response())
            except MovedError as moved:
                self._refuse(c for c in self._sent if _slot(c) == moved.slot_id)
            self._heard = time.monotonic()
            if not connection.can_read(timeout=0):
                return

    def _handle(self, message: Any) -> None:
        if not isinstance(message, list) or len(message) < 2:
            return  # PONG outside subscribed mode
        kind, channel = message[0], message[1]
        if kind in ("smessage", "ssubscribe"):
            self._board.bump([run_of_channel(channel)])
        elif kind == "sunsubscribe" and channel in self._sent:
            self._refuse([channel])  # the server dropped it: the slot moved away

    def _refuse(self, channels: Iterable[str]) -> None:
        """Report channels this node will not serve; until the waiter moves them
        elsewhere they are asked for again on every pass."""
        refused = set(channels)
        self._sent -= refused
        self._board.report(misrouted=refused)


def _slot(channel: str) -> int:
    return key_slot(channel.encode())


def _by_slot(channels: Iterable[str]) -> dict[int, list[str]]:
    """SSUBSCRIBE takes several channels only when they share a slot."""
    groups: dict[int, list[str]] = defaultdict(list)
    for channel in channels:
        groups[_slot(channel)].append(channel)
    return groups
