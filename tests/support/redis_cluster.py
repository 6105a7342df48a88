"""A throwaway Redis Cluster on loopback ports, built the way operators build one.

    with LocalCluster(masters=3, replicas=1) as cluster:
        client = redis.RedisCluster.from_url(cluster.url)
        cluster.kill(cluster.owner_of("run:1:events"))   # SIGKILL a master
        cluster.await_failover(dead)                     # its replica took over

Nodes are `redis-server --cluster-enabled yes` on free ports, joined with
`redis-cli --cluster create ... --cluster-yes`; every wait polls the nodes
(CLUSTER INFO, INFO replication) instead of sleeping. Nodes are always ended.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType

from redis import Redis
from redis.exceptions import RedisError

from runstream.adapters.redis_stream.client import Client, redis_client
from runstream.adapters.redis_stream.codec import key_index, stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from tests.services import require_program
from tests.support.backends import LogBackend
from tests.support.redis_server import RedisServer

_READY_SECONDS = 30.0
_POLL_SECONDS = 0.02


class LocalCluster:
    """`masters` masters with `replicas` replicas each, all on 127.0.0.1."""

    def __init__(
        self, masters: int = 3, replicas: int = 0, node_timeout_ms: int = 5000
    ) -> None:
        config = ("--cluster-node-timeout", str(node_timeout_ms))
        config += ("--cluster-replica-validity-factor", "0")  # any replica may win
        config += ("--repl-diskless-sync-delay", "0")  # replicas sync at once
        self.nodes = [
            RedisServer(cluster=True, assign_slots=False, config=config)
            for _ in range(masters * (1 + replicas))
        ]
        self._masters, self._replicas = masters, replicas

    @property
    def url(self) -> str:
        """A seed node's URL (any running node will do for a cluster client)."""
        return self.nodes[0].url

    def start(self) -> LocalCluster:
        try:
            for node in self.nodes:
                node.start()
            self._create()
            self.await_healthy()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for node in self.nodes:
            node.close()

    def masters(self) -> list[RedisServer]:
        """The running nodes that are masters right now."""
        return [n for n in self.nodes if n.running and _role(n) == "master"]

    def owner_of(self, key: str) -> RedisServer:
        """The running master that serves `key`'s slot."""
        seed = self.masters()[0]
        slot = int(str(_ask(seed, "CLUSTER", "KEYSLOT", key)))
        ranges = _ask(seed, "CLUSTER", "SLOTS")
        assert isinstance(ranges, list)
        port = next(int(r[2][1]) for r in ranges if r[0] <= slot <= r[1])
        return next(node for node in self.nodes if node.port == port)

    def replica_of(self, master: RedisServer) -> RedisServer:
        """A running replica of `master`."""
        for node in self.nodes:
            if node.running and node is not master:
                info = _ask(node, "INFO", "replication")
                if isinstance(info, dict) and info.get("master_port") == master.port:
                    return node
        raise RuntimeError(f"master {master.port} has no replica")

    def migrate(
        self, key: str, to: RedisServer, midway: Callable[[], object] = lambda: None
    ) -> None:
        """Move `key`'s slot to master `to` as `redis-cli --cluster reshard`
        does; `midway` runs once the keys moved but the slot has not (ASK time)."""
        source = self.owner_of(key)
        slot = int(str(_ask(source, "CLUSTER", "KEYSLOT", key)))
        source_id, target_id = (
            _ask(source, "CLUSTER", "MYID"),
            _ask(to, "CLUSTER", "MYID"),
        )
        _ask(to, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        _ask(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        keys = _ask(source, "CLUSTER", "GETKEYSINSLOT", slot, 1000)
        assert isinstance(keys, list)
        if keys:
            _ask(source, "MIGRATE", "127.0.0.1", to.port, "", 0, 5000, "KEYS", *keys)
        midway()
        for node in [to, source, *self.masters()]:
            _ask(node, "CLUSTER", "SETSLOT", slot, "NODE", target_id)

    def flush(self) -> None:
        """Delete every key on every master."""
        for node in self.masters():
            _ask(node, "FLUSHALL")

    def kill(self, node: RedisServer) -> None:
        node.stop(kill=True)

    def await_failover(self, dead: RedisServer, timeout: float = 20.0) -> None:
        """Wait until every live node sees `dead` as failed and the cluster is ok."""
        deadline = time.monotonic() + timeout
        while not all(
            _says_failed(node, dead.port) for node in self.nodes if node.running
        ):
            _tick(deadline, "the failed master was never replaced")
        self.await_healthy(deadline - time.monotonic())

    def await_healthy(self, timeout: float = _READY_SECONDS) -> None:
        """cluster_state:ok on every running node, every replica in sync."""
        deadline = time.monotonic() + timeout
        while not all(_healthy(node) for node in self.nodes if node.running):
            _tick(deadline, "never became healthy")

    def describe(self) -> str:
        """Each node's port, role and (a replica's) link to its master: what a
        test that gave up on the cluster reports."""
        parts = []
        for node in self.nodes:
            try:
                info = _ask(node, "INFO", "replication")
            except RedisError as err:
                parts.append(f"{node.port}: {err}")
                continue
            assert isinstance(info, dict)
            link = info.get("master_link_status")
            of = f" of {info.get('master_port')}, link {link}" if link else ""
            parts.append(f"{node.port}: {info['role']}{of}")
        return "; ".join(parts)

    def _create(self) -> None:
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        command = [require_program("redis-cli"), "--cluster", "create"]
        command += [*addresses, "--cluster-replicas", str(self._replicas)]
        done = subprocess.run(
            [*command, "--cluster-yes"], capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{done.stdout}")

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _ask(node: RedisServer, *command: object) -> object:
    with Redis(port=node.port, decode_responses=True, socket_timeout=2) as client:
        return client.execute_command(*command)


def _role(node: RedisServer) -> str:
    try:
        info = _ask(node, "INFO", "replication")
    except RedisError:
        return "down"
    return str(info["role"]) if isinstance(info, dict) else "down"


def _healthy(node: RedisServer) -> bool:
    try:
        if "cluster_state:ok" not in str(_ask(node, "CLUSTER", "INFO")):
            return False
        info = _ask(node, "INFO", "replication")
    except RedisError:
        return False
    assert isinstance(info, dict)
    return info["role"] == "master" or info.get("master_link_status") == "up"


def _says_failed(node: RedisServer, port: int) -> bool:
    try:
        lines = str(_ask(node, "CLUSTER", "NODES")).splitlines()
    except RedisError:
        return False
    entry = [line.split() for line in lines if f":{port}@" in line]
    return not entry or "fail" in entry[0][2].split(",")


def _tick(deadline: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise RuntimeError(f"the local Redis Cluster {what}")
    time.sleep(_POLL_SECONDS)


@contextlib.contextmanager
def cluster_service_env(
    cluster: LocalCluster, every_seed: bool = False
) -> Iterator[dict[str, str]]:
    """Environment for `runstream serve` on `cluster` (seeded by its first node,
    or with `every_seed` by all its nodes, first node first), runs in a fresh
    SQLite file. Service run ids restart at 1, so the cluster is flushed around
    it."""
    from tests.support.sql_backend import fresh_sqlite_url

    cluster.flush()
    with fresh_sqlite_url() as url:
        yield {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_REDIS_CLUSTER": "1",
            "RUNSTREAM_REDIS_URL": (
                ",".join(node.url for node in cluster.nodes)
                if every_seed
                else cluster.url
            ),
            "RUNSTREAM_EVENT_ARCHIVE": "none",
            "RUNSTREAM_RUN_REPOSITORY": "sql",
            "RUNSTREAM_DATABASE_URL": url,
        }
    cluster.flush()


@functools.cache
def shared_cluster() -> LocalCluster:
    """One 3-master cluster per test process, for tests that only add runs."""
    cluster = LocalCluster(masters=3).start()
    atexit.register(cluster.close)
    return cluster


def redis_cluster_log() -> LogBackend:
    """The Redis Stream adapter on the shared 3-master cluster (contract suite)."""
    client = _cluster_client(shared_cluster().url)

    def make(ttl_seconds: float = 86400) -> RedisStreamEventLog:
        return RedisStreamEventLog(client, maxlen=10_000, ttl_seconds=ttl_seconds)

    def purge(run_ids: Iterable[int]) -> None:
        for run_id in run_ids:
            client.delete(stream_key(run_id))
            client.delete(key_index(run_id))

    return LogBackend(make=make, purge=purge)


@functools.cache
def _cluster_client(url: str) -> Client:
    resource = redis_client(url, cluster=True, timeout=2.0)
    client = next(resource)
    atexit.register(resource.close)
    return client
