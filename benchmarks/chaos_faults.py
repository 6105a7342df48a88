"""The chaos checker's deployment (two service processes, one Redis or a
3-master Redis Cluster with a replica each, one MariaDB database, TCP proxies
in between) and the faults it injects."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.services import require_mysql
from tests.support.fleet_harness import kill_hard, migrated_mysql_database
from tests.support.live_server import LiveServer
from tests.support.redis_cluster import LocalCluster
from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy

REDIS_TIMEOUT = "0.5"
# On the cluster an append is acknowledged once a replica has it as well.
CLUSTER = {"RUNSTREAM_REDIS_CLUSTER": "1", "RUNSTREAM_REDIS_MIN_REPLICAS": "1",
           "RUNSTREAM_REDIS_REPLICA_TIMEOUT_MS": "250"}  # fmt: skip


class Deployment:
    """On one Redis, process 0 reaches it through `redis_link` (cut alone by a
    fault); on a cluster both reach every node directly (a cluster client
    learns the nodes' own addresses). Both reach MariaDB through `db_link`."""

    def __init__(
        self,
        database: str,
        redis: RedisServer | None,
        cluster: LocalCluster | None,
        logs: Path | None = None,
    ) -> None:
        self.db_link = TcpProxy(("127.0.0.1", 3306))
        proxied = database.replace("127.0.0.1:3306", f"127.0.0.1:{self.db_link.port}")
        shared = {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_EVENT_LOG_FALLBACK": "sql",
            "RUNSTREAM_RUN_REPOSITORY": "sql",
            "RUNSTREAM_DATABASE_URL": proxied,
            "RUNSTREAM_REDIS_TIMEOUT_SECONDS": REDIS_TIMEOUT,
        }
        self._redis, self.cluster = redis, cluster
        if cluster is not None:
            seeds = ",".join(node.url for node in cluster.nodes)
            self.envs = [{**shared, **CLUSTER, "RUNSTREAM_REDIS_URL": seeds}] * 2
        else:
            assert redis is not None
            self.redis_link = TcpProxy(("127.0.0.1", redis.port))
            link = f"redis://127.0.0.1:{self.redis_link.port}/0"
            self.envs = [
                {**shared, "RUNSTREAM_REDIS_URL": link},
                {**shared, "RUNSTREAM_REDIS_URL": redis.url},
            ]
        self.logs, self.started = logs, 0
        self.servers = [self.start_server(index) for index in range(len(self.envs))]

    def start_server(self, index: int) -> LiveServer:
        """Process `index` (again); its output is kept in `logs` when given, one
        file per start: process-<index>-<nth start of the deployment>.log."""
        self.started += 1
        log = None
        if self.logs is not None:
            log = self.logs / f"process-{index}-{self.started}.log"
        return LiveServer(self.envs[index], log=log)

    @property
    def redis(self) -> RedisServer:
        """The one Redis (the single-server faults only run without a cluster)."""
        assert self._redis is not None
        return self._redis

    def urls(self) -> list[str]:
        return [s.url for s in self.servers if s.process.poll() is None]

    def reopen_redis_link(self) -> None:
        """The proxy stops accepting once Redis refused it: reopen it."""
        self.redis_link.cut()
        self.redis_link.restore()

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        if self.cluster is None:
            self.redis_link.close()
        self.db_link.close()


@contextlib.contextmanager
def deployment(cluster: bool = False, logs: Path | None = None) -> Iterator[Deployment]:
    require_mysql()
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(migrated_mysql_database())
        if cluster:
            nodes = LocalCluster(masters=3, replicas=1, node_timeout_ms=1000)
            built = Deployment(database, None, stack.enter_context(nodes), logs)
        else:
            redis = stack.enter_context(RedisServer(appendonly=True))
            built = Deployment(database, redis, None, logs)
        try:
            yield built
        finally:
            built.close()


def redis_restarted_with_aof(dep: Deployment, rng: random.Random, d: float) -> str:
    dep.redis.stop()
    time.sleep(d)
    dep.redis.start()
    dep.reopen_redis_link()
    return "Redis stopped and restarted with its AOF"


def redis_restarted_empty(dep: Deployment, rng: random.Random, d: float) -> str:
    dep.redis.restart_empty(d)
    dep.reopen_redis_link()
    return "Redis killed and restarted empty (no AOF)"


def redis_frozen(dep: Deployment, rng: random.Random, d: float) -> str:
    dep.redis.freeze()
    time.sleep(d)
    dep.redis.thaw()
    return "Redis SIGSTOP, then SIGCONT"


def redis_link_cut(dep: Deployment, rng: random.Random, d: float) -> str:
    dep.redis_link.cut()
    time.sleep(d)
    dep.redis_link.restore()
    return "process 0 cut off from Redis"


def mariadb_cut(dep: Deployment, rng: random.Random, d: float) -> str:
    dep.db_link.cut()
    time.sleep(d)
    dep.db_link.restore()
    return "MariaDB cut off from both processes"


def service_killed(dep: Deployment, rng: random.Random, d: float) -> str:
    index = rng.randrange(len(dep.servers))
    kill_hard(dep.servers[index])
    time.sleep(d)
    dep.servers[index] = dep.start_server(index)
    return f"process {index} kill -9, restarted"


def cluster_master_killed(dep: Deployment, rng: random.Random, d: float) -> str:
    assert dep.cluster is not None
    victim = rng.choice(dep.cluster.masters())
    dep.cluster.kill(victim)
    dep.cluster.await_failover(victim, timeout=60)
    time.sleep(d)
    victim.start()  # back as its successor's replica: WAIT 1 succeeds again
    dep.cluster.await_healthy(60)
    return f"cluster master :{victim.port} kill -9, replaced, back as a replica"


Fault = Callable[[Deployment, random.Random, float], str]
FAULTS: dict[str, Fault] = {
    "redis_restart_aof": redis_restarted_with_aof,
    "redis_restart_empty": redis_restarted_empty,
    "redis_sigstop": redis_frozen,
    "redis_link_cut": redis_link_cut,
    "mariadb_cut": mariadb_cut,
    "service_kill": service_killed,
}
CLUSTER_FAULTS: dict[str, Fault] = {
    "cluster_master_kill": cluster_master_killed,
    "mariadb_cut": mariadb_cut,
    "service_kill": service_killed,
}
