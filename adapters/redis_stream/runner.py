"""Running a write script on the node that owns the run's key.

EVALSHA goes on the adapter's lane on a lone Redis, else straight to
`execute_command` (no redis-py Script wrapper); a node
that lacks the script (a fresh or promoted replica: script caches are not
replicated) gets EVAL, which is safe because NOSCRIPT means nothing ran. On a
cluster, MOVED and ASK are followed by hand to the owner (a refusal ran nothing
either), but a broken connection is never retried: the script may have run, and
running it twice would store the batch twice. With `min_replicas` the script is
followed by `WAIT min_replicas timeout` on the same connection, and too few
acknowledgements are raised as StorageUnavailable.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any

from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MovedError,
    NoScriptError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from runstream.adapters.redis_stream.client import REDIS_ERRORS, Client
from runstream.adapters.redis_stream.lane import Lane
from runstream.adapters.redis_stream.scripts import Script
from runstream.domain.errors import StorageUnavailable

_REDIRECTIONS = 5
_TRY_AGAIN_SECONDS = 0.05
# Failures after which the slot map may be out of date (a master went away).
_MAP_ERRORS = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,
    SlotNotCoveredError,
)

Args = Sequence[str]
# The keys a script writes: the run's stream first (it routes the call), then
# keys hash-tagged into its slot.
Keys = Sequence[str]


class ScriptRunner:
    def __init__(
        self,
        client: Client,
        min_replicas: int = 0,
        replica_timeout_ms: int = 500,
        lane: Lane | None = None,
    ) -> None:
        if min_replicas < 0 or replica_timeout_ms < 1:
            raise ValueError("min_replicas must be >= 0 and the timeout >= 1 ms")
        socket_timeout = client.get_connection_kwargs().get("socket_timeout")
        if (
            min_replicas
            and socket_timeout
            and replica_timeout_ms >= socket_timeout * 1000
        ):
            raise ValueError(
                f"the replica timeout ({replica_timeout_ms} ms) must be shorter than "
                f"the socket timeout ({socket_timeout} s), or WAIT is cut short"
            )
        self._client: Any = client
        self._cluster = isinstance(client, RedisCluster)
        self._replicas, self._timeout_ms = min_replicas, replica_timeout_ms
        # The common case (a lone Redis, no WAIT) is one EVALSHA on the lane.
        if lane is not None and not self._cluster and not min_replicas:
            self._lane = lane
            self.run = self._direct  # type: ignore[method-assign]

    def run(self, script: Script, keys: Keys, args: Args) -> Any:
        """The script's reply; driver errors are raised as they are."""
        if self._cluster:
            return self._routed(self._client, script, keys, args)
        return self._on(self._client, script, keys, args, asking=False)

    def _direct(self, script: Script, keys: Keys, args: Args) -> Any:
        count = str(len(keys))
        try:
            return self._lane.call(("EVALSHA", script.sha, count, *keys, *args))
        except NoScriptError:
            return self._lane.call(("EVAL", script.source, count, *keys, *args))

    # The driver objects below are Any: redis-py leaves these methods untyped.
    def _routed(self, cluster: Any, script: Script, keys: Keys, args: Args) -> Any:
        asked: ClusterNode | None = None
        for _ in range(_REDIRECTIONS):
            node = asked or cluster.get_node_from_key(keys[0])
            try:
                node_client = cluster.get_redis_connection(node)
                return self._on(node_client, script, keys, args, asking=bool(asked))
            except MovedError as moved:
                cluster.nodes_manager.move_slot(moved)
                asked = None
            except AskError as ask:
                asked = cluster.get_node(host=ask.host, port=ask.port)
            except TryAgainError:
                # A slot in migration holds some of the keys: nothing ran.
                time.sleep(_TRY_AGAIN_SECONDS)
            except _MAP_ERRORS:
                _refresh(cluster)
                raise
        raise StorageUnavailable(f"{keys[0]}: too many cluster redirections")

    def _on(
        self, node: Any, script: Script, keys: Keys, args: Args, asking: bool
    ) -> Any:
        if asking or self._replicas:
            return self._piped(node, script, keys, args, asking)
        count = len(keys)
        try:
            return node.execute_command("EVALSHA", script.sha, count, *keys, *args)
        except NoScriptError:
            return node.execute_command("EVAL", script.source, count, *keys, *args)

    def _piped(
        self, node: Any, script: Script, keys: Keys, args: Args, asking: bool
    ) -> Any:
        """The script (after ASKING) and WAIT, in one round trip on one connection."""
        for command, body in (("EVALSHA", script.sha), ("EVAL", script.source)):
            with node.pipeline(transaction=False) as pipe:
                if asking:
                    pipe.execute_command("ASKING")
                pipe.execute_command(command, body, len(keys), *keys, *args)
                if self._replicas:
                    pipe.execute_command("WAIT", self._replicas, self._timeout_ms)
                replies = pipe.execute(raise_on_error=False)[int(asking) :]
            if not isinstance(replies[0], NoScriptError):
                break
        if isinstance(replies[0], Exception):
            raise replies[0]
        if self._replicas and not _enough(replies[1], self._replicas):
            raise StorageUnavailable(
                f"{keys[0]}: written on its master, but only {replies[1]!r} of "
                f"{self._replicas} replicas confirmed it within {self._timeout_ms} ms"
            )
        return replies[0]


def _enough(acknowledged: object, wanted: int) -> bool:
    return isinstance(acknowledged, int) and acknowledged >= wanted


def _refresh(cluster: Any) -> None:
    """Re-read the slot map, so the next write finds a promoted replica."""
    # While the cluster is still electing this fails; the next failure retries.
    with contextlib.suppress(*REDIS_ERRORS):
        cluster.nodes_manager.initialize()
