"""The chaos checker's deployment (two service processes, one Redis, one
MariaDB database, TCP proxies in between) and the faults it injects."""

from __future__ import annotations

import contextlib
import random
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.services import require_mysql
from tests.support.fleet_harness import kill_hard, migrated_mysql_database
from tests.support.live_server import LiveServer
from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy

REDIS_TIMEOUT = "0.5"


class Deployment:
    """Process 0 reaches Redis through `redis_link` (cut alone by a fault); both
    reach MariaDB through `db_link`."""

    def __init__(self, redis: RedisServer, database: str) -> None:
        self.redis = redis
        self.redis_link = TcpProxy(("127.0.0.1", redis.port))
        self.db_link = TcpProxy(("127.0.0.1", 3306))
        proxied = database.replace("127.0.0.1:3306", f"127.0.0.1:{self.db_link.port}")
        shared = {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_EVENT_LOG_FALLBACK": "sql",
            "RUNSTREAM_RUN_REPOSITORY": "sql",
            "RUNSTREAM_DATABASE_URL": proxied,
            "RUNSTREAM_REDIS_TIMEOUT_SECONDS": REDIS_TIMEOUT,
        }
        self.envs = [
            {
                **shared,
                "RUNSTREAM_REDIS_URL": f"redis://127.0.0.1:{self.redis_link.port}/0",
            },
            {**shared, "RUNSTREAM_REDIS_URL": redis.url},
        ]
        self.servers = [LiveServer(env) for env in self.envs]

    def urls(self) -> list[str]:
        return [s.url for s in self.servers if s.process.poll() is None]

    def reopen_redis_link(self) -> None:
        """The proxy stops accepting once Redis refused it: reopen it."""
        self.redis_link.cut()
        self.redis_link.restore()

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.redis_link.close()
        self.db_link.close()


@contextlib.contextmanager
def deployment() -> Iterator[Deployment]:
    require_mysql()
    with (
        RedisServer(appendonly=True) as redis,
        migrated_mysql_database() as database,
    ):
        built = Deployment(redis, database)
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
    dep.redis.stop(kill=True)
    time.sleep(d)
    for leftover in Path(dep.redis.dir).iterdir():
        if leftover.name != "redis.log":
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    dep.redis.start()
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
    dep.servers[index] = LiveServer(dep.envs[index])
    return f"process {index} kill -9, restarted"


FAULTS: dict[str, Callable[[Deployment, random.Random, float], str]] = {
    "redis_restart_aof": redis_restarted_with_aof,
    "redis_restart_empty": redis_restarted_empty,
    "redis_sigstop": redis_frozen,
    "redis_link_cut": redis_link_cut,
    "mariadb_cut": mariadb_cut,
    "service_kill": service_killed,
}
