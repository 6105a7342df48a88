"""Which master serves each watched run on a Redis Cluster, the notice listener
held per master, and the reads that follow the slot map.

A run whose listener was lost or whose subscription was refused is rerouted
after the slot map is refreshed (at most every `REPAIR_SECONDS`), so after a
failover its notices resume from the promoted replica; reads that meet MOVED
patch the slot map at once and ask for the same rerouting.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from redis.cluster import RedisCluster
from redis.exceptions import MovedError

from runstream.adapters.redis_stream.client import REDIS_ERRORS
from runstream.adapters.redis_stream.codec import (
    notice_channel,
    run_of_channel,
    stream_key,
)
from runstream.adapters.redis_stream.notices import NodeListener, NoticeBoard
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import EventId
from runstream.domain.model import RunId

REPAIR_SECONDS = 0.25


class Routes:
    def __init__(self, client: RedisCluster, board: NoticeBoard) -> None:
        self._client: Any = client  # redis-py leaves the node lookups untyped
        self._board = board
        self._lock = threading.Lock()
        self._node_of: dict[RunId, str] = {}
        self._channels: dict[str, set[str]] = defaultdict(set)
        self._listeners: dict[str, NodeListener] = {}
        self._unrouted: set[RunId] = set()
        self._changed: set[str] = set()  # nodes whose channels `_push` owes
        self._stale_map = False
        self._next_repair = 0.0

    def follow(self, fresh: Iterable[RunId], idle: Iterable[RunId]) -> None:
        """Subscribe runs that are new to the waiter; drop idle ones."""
        idle = list(idle)
        with self._lock:
            for run_id in idle:
                self._unroute(run_id)
                self._unrouted.discard(run_id)
            for run_id in fresh:
                self._route(run_id)
            self._push()
        self._board.forget(idle)

    def repair(self) -> None:
        """Reroute what the listeners reported, on a freshly read slot map."""
        board = self._board
        now = time.monotonic()
        if now < self._next_repair or not (
            board.lost or board.misrouted or self._unrouted or self._stale_map
        ):
            return
        self._next_repair = now + REPAIR_SECONDS
        lost, misrouted = board.take_problems()
        with self._lock:
            for node in lost:
                self._listeners.pop(node, None)
                self._changed.add(node)
                for channel in self._channels.pop(node, set()):
                    self._unroute(run_of_channel(channel))
            for channel in misrouted:
                self._unroute(run_of_channel(channel))
        try:
            self._client.nodes_manager.initialize()
        except REDIS_ERRORS:
            return  # the cluster is still settling: the next repair retries
        self._stale_map = False
        with self._lock:
            for run_id in list(self._unrouted):
                self._route(run_id)
            self._push()

    def data_node(self, run_id: RunId) -> str:
        """The master the slot map names for the run's stream ('' if none)."""
        try:
            return str(self._client.get_node_from_key(stream_key(run_id)).name)
        except REDIS_ERRORS:
            return ""

    def xrange_after(
        self, node_name: str, items: Sequence[tuple[RunId, EventId, int]], limit: int
    ) -> list[object | None]:
        """Each run's entries after its cursor (None where the slot moved)."""
        node = self._client.get_node(node_name=node_name) if node_name else None
        try:
            if node is None:
                raise StorageUnavailable("no master serves these runs right now")
            client = self._client.get_redis_connection(node)
            with client.pipeline(transaction=False) as pipe:
                for run_id, cursor, _ in items:
                    pipe.xrange(stream_key(run_id), str(cursor.successor()), "+", limit)
                replies = pipe.execute(raise_on_error=False)
        except (*REDIS_ERRORS, StorageUnavailable) as err:
            self._stale_map = True
            raise StorageUnavailable(
                f"the Redis event log is unavailable: {err}"
            ) from err
        return [
            self._checked(run, reply)
            for (run, _, _), reply in zip(items, replies, strict=True)
        ]

    def close(self) -> None:
        with self._lock:
            for listener in self._listeners.values():
                listener.stop()
            self._listeners.clear()

    def _checked(self, run_id: RunId, reply: object) -> object | None:
        if isinstance(reply, MovedError):
            self._client.nodes_manager.move_slot(reply)
            self._board.report(misrouted=[notice_channel(run_id)])
            return None
        if isinstance(reply, Exception):
            raise StorageUnavailable(f"the Redis event log is unavailable: {reply}")
        return reply

    def _route(self, run_id: RunId) -> None:
        channel = notice_channel(run_id)
        try:
            node = self._client.get_node_from_key(channel).name
        except REDIS_ERRORS:
            self._unrouted.add(run_id)
            return
        self._unrouted.discard(run_id)
        self._node_of[run_id] = node
        self._channels[node].add(channel)
        self._changed.add(node)

    def _unroute(self, run_id: RunId) -> None:
        node = self._node_of.pop(run_id, None)
        if node is not None:
            self._channels[node].discard(notice_channel(run_id))
            self._changed.add(node)
            self._unrouted.add(run_id)

    def _push(self) -> None:
        """Hand each changed node's channels to its listener (started on
        demand, stopped once it has none)."""
        changed, self._changed = self._changed, set()
        for node in changed:
            channels = self._channels.get(node)
            listener = self._listeners.get(node)
            if not channels:
                self._channels.pop(node, None)
                if listener is not None:
                    self._listeners.pop(node).stop()
                continue
            if listener is None:
                listener = self._listener(node)
            if listener is None:  # not in the slot map any more
                for channel in list(channels):
                    self._unroute(run_of_channel(channel))
                self._changed.discard(node)
                continue
            self._listeners[node] = listener
            listener.want(channels)

    def _listener(self, node_name: str) -> NodeListener | None:
        node = self._client.get_node(node_name=node_name)
        if node is None:
            return None
        pool = self._client.get_redis_connection(node).connection_pool
        options = {**pool.connection_kwargs, "health_check_interval": 0}
        listener = NodeListener(
            node_name, lambda: pool.connection_class(**options), self._board
        )
        listener.start()
        return listener
