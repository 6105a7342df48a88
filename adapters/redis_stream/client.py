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
    url: str, cluster: bool = False, timeout: float = 2.0
) -> Generator[Client, None, None]:
    """A pooled client whose every call gives up after `timeout` seconds.

    With `cluster`, `url` may list several seed nodes, comma-separated (the first
    a full URL, the others full URLs or `host:port`): a process that starts while
    a seed is down finds the cluster through another.

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
        with _shared_cluster(url, options) as shared:
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


# Building a cluster client reads the slot map over the network, so under gevent
# the first requests of a worker can all start building one at once, and every
# copy the container does not keep is closed when its generator is collected.
# One client per URL and options per process, closed by its last user, avoids it.
_clusters: dict[str, tuple[RedisCluster, int]] = {}
_clusters_lock = threading.Lock()


@contextlib.contextmanager
def _shared_cluster(url: str, options: dict[str, Any]) -> Iterator[RedisCluster]:
    name = f"{url} {sorted(options.items())}"
    with _clusters_lock:
        client, users = _clusters.get(name) or (None, 0)
        if client is None:
            # Writes go through ScriptRunner, which never retries them; reads
            # and PEXPIRE may be repeated once after a refreshed slot map.
            first, *others = (seed.strip() for seed in url.split(","))
            client = RedisCluster.from_url(
                first,
                startup_nodes=[_node(other) for other in others],
                retry=Retry(NoBackoff(), 1),
                **options,
            )
        _clusters[name] = (client, users + 1)
    try:
        yield client
    finally:
        with _clusters_lock:
            users = _clusters[name][1] - 1
            if users:
                _clusters[name] = (client, users)
            else:
                del _clusters[name]
                client.close()


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
