"""The redis-py client the Redis Stream adapter runs on (a container Resource)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator, Iterator
from typing import Any
from urllib.parse import urlsplit

from redis import Redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import parse_url
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry

Client = Redis | RedisCluster

# Every failure the driver can raise; RedisClusterException is not a RedisError.
REDIS_ERRORS = (RedisError, RedisClusterException)

HEALTH_CHECK_SECONDS = 30
_LONGEST_BLOCK = 5.0
_SHORTEST_BLOCK = 0.001
# 1/hz with Redis's default hz of 10: how late a BLOCK timeout can fire.
_SERVER_TICK = 0.1


def redis_client(
    url: str,
    cluster: bool = False,
    timeout: float = 2.0,
    clusters: ClusterClients | None = None,
) -> Generator[Client, None, None]:
    """A pooled client whose every call gives up after `timeout` seconds.

    With `cluster`, `url` may list several seed nodes, comma-separated (the first
    a full URL, the others full URLs or `host:port`): a process that starts while
    a seed is down finds the cluster through another. Cluster clients come from
    `clusters` (a new set when not given).

    Responses are decoded to str (hiredis does it in C). The client speaks RESP2:
    RESP3 would add a HELLO round trip per connection and the maintenance-
    notification machinery, and the adapter needs neither.
    """
    options = {
        "decode_responses": True,
        "protocol": 2,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "socket_keepalive": True,
        "health_check_interval": HEALTH_CHECK_SECONDS,
    }
    if cluster:
        with (clusters or ClusterClients()).client(url, options) as shared:
            yield shared
        return
    # No retries: a retried append whose reply was lost would store its batch
    # twice, and retrying with backoff would overrun the timeout. The pool
    # already replaces connections the server closed before handing them out.
    client = Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)
    try:
        yield client
    finally:
        client.close()


class ClusterClients:
    """The cluster clients of one container, one per URL and options.

    Building a cluster client reads the slot map over the network, so under
    gevent the first requests of a worker can all start building one at once,
    and every copy the container does not keep is closed when its generator is
    collected. Sharing one client per URL and options, closed by its last user,
    avoids it; `close` closes whatever is left.
    """

    def __init__(self) -> None:
        self._clients: dict[str, tuple[RedisCluster, int]] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def client(self, url: str, options: dict[str, Any]) -> Iterator[RedisCluster]:
        name = f"{url} {sorted(options.items())}"
        with self._lock:
            client, users = self._clients.get(name) or (None, 0)
            if client is None:
                client = _cluster(url, options)
            self._clients[name] = (client, users + 1)
        try:
            yield client
        finally:
            self._release(name)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, {}
        for client, _ in clients.values():
            client.close()

    def _release(self, name: str) -> None:
        with self._lock:
            found = self._clients.get(name)
            if found is None:
                return
            client, users = found
            if users > 1:
                self._clients[name] = (client, users - 1)
                return
            del self._clients[name]
        client.close()


def cluster_clients() -> Iterator[ClusterClients]:
    """A Resource: the container's cluster clients, closed when it shuts down."""
    clients = ClusterClients()
    try:
        yield clients
    finally:
        clients.close()


def _cluster(url: str, options: dict[str, Any]) -> RedisCluster:
    # Writes go through ScriptRunner, which never retries them; reads and
    # PEXPIRE may be repeated once after a refreshed slot map.
    first, *others = (seed.strip() for seed in url.split(","))
    return RedisCluster.from_url(
        first,
        startup_nodes=[_node(other) for other in others],
        retry=Retry(NoBackoff(), 1),
        **options,
    )


def check_seeds(url: str) -> None:
    """ValueError for a cluster seed list redis-py could not use (checked
    without connecting)."""
    first, *others = (seed.strip() for seed in url.split(","))
    parse_url(first)  # type: ignore[no-untyped-call]
    for other in others:
        parse_url(other if "//" in other else f"redis://{other}")  # type: ignore[no-untyped-call]


def _node(url: str) -> ClusterNode:
    """A further seed of a cluster: only its address counts (credentials and
    options come from the first URL)."""
    parts = urlsplit(url if "//" in url else f"redis://{url}")
    return ClusterNode(parts.hostname or "localhost", parts.port or 6379)  # type: ignore[no-untyped-call]


def block_slice(client: Client) -> float:
    """The longest server-side BLOCK that is sure to answer before the socket
    timeout cuts the read. Redis ends a BLOCK on its next timer tick, so the
    answer can come a tick late; below about 0.25 s of timeout no block fits."""
    timeout = client.get_connection_kwargs().get("socket_timeout")
    if not timeout:
        return _LONGEST_BLOCK
    fitting = min(float(timeout) / 2, float(timeout) - 2 * _SERVER_TICK)
    return max(min(fitting, _LONGEST_BLOCK), _SHORTEST_BLOCK)
