"""Reading part of a run: full vs filtered vs coalesced replay over HTTP.

    .venv/bin/python -m benchmarks.reading [--backend NAME ...] [--repeat 10]

For each backend (default: all of them, one after the other in one run) starts
`runstream serve` (one worker), stores a finished run of 10,000 events
(10 agents streaming bursts of 20 chunks in turn), then replays it through the
history API (pages of 1,000, following `next_id`) and the SSE stream, whole,
filtered to one agent (`agent_id=`, 10 % of the events) and coalesced
(`coalesce=llm.stream`). For each: bytes received, the server's CPU time (user +
system of its processes, from /proc: the mean of `--repeat` replays) and wall
time at the client (their median).
Target: the filtered replay costs at most half the unfiltered one.

Backends: memory, sqlite, mariadb (a fresh database on the machine's MariaDB),
redis (a throwaway redis-server, archive off), archived (Redis with the SQL
archive on MariaDB) and failover (the same with the SQL fallback as well).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import requests

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.schema import upgrade
from tests.services import MYSQL_SERVER_URL
from tests.support.live_server import LiveServer
from tests.support.redis_server import RedisServer
from tests.support.sql_backend import fresh_mysql_database, fresh_sqlite_url

AGENTS = [f"agent-{n}" for n in range(10)]
BURST, ROUNDS = 20, 50  # 50 rounds x 10 agents x 20 chunks = 10,000 events
CASES = {"full": "", "filtered": "agent_id=agent-3", "coalesced": "coalesce=llm.stream"}
TICKS = os.sysconf("SC_CLK_TCK")


def chunk(agent: str, number: int) -> dict[str, object]:
    source = {"agent_id": agent, "agent_type": "worker", "agent_name": agent.title(),
              "team_name": "research"}  # fmt: skip
    return {"event": {"category": "llm", "action": "stream"}, "source": source,
            "data": {"content": f"token {number} of the analysis "}}  # fmt: skip


def store_run(url: str) -> int:
    run = requests.post(f"{url}/runs", json={"task": "bench", "executor": "external"})
    run_id = int(run.json()["id"])
    for round_number in range(ROUNDS):
        events = [chunk(agent, round_number * BURST + i)
                  for agent in AGENTS for i in range(BURST)]  # fmt: skip
        answer = requests.post(f"{url}/runs/{run_id}/events", json={"events": events})
        answer.raise_for_status()
    requests.post(f"{url}/runs/{run_id}/finish", json={"status": "completed"})
    return run_id


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and its children (gunicorn's worker)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
        except OSError:
            continue
        pending += [int(child) for child in children.split()]
    return total


def history(url: str, run_id: int, query: str) -> int:
    """Bytes of every page, following next_id from the start."""
    received, start = 0, "-"
    with requests.Session() as session:
        while start:
            answer = session.get(
                f"{url}/runs/{run_id}/events?start_id={start}&limit=1000&{query}"
            )
            received += len(answer.content)
            start = answer.json()["next_id"]
    return received


def stream(url: str, run_id: int, query: str) -> int:
    """Bytes of the SSE replay of the finished run, up to `close`."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=60)
    try:
        connection.request("GET", f"/runs/{run_id}/events/stream?{query}")
        response = connection.getresponse()
        received = 0
        while block := response.read1(65536):
            received += len(block)
        return received
    finally:
        connection.close()


def measure(
    server: LiveServer,
    read: Callable[[str, int, str], int],
    run_id: int,
    query: str,
    repeat: int,
) -> tuple[int, float, float]:
    """Bytes of one replay, mean server CPU per replay (the kernel counts it in
    10 ms ticks, so over all of them) and median wall time."""
    walls, cpu = [], server_cpu(server.process.pid)
    for _ in range(repeat):
        began = time.perf_counter()
        received = read(server.url, run_id, query)
        walls.append(time.perf_counter() - began)
    cpu = (server_cpu(server.process.pid) - cpu) / repeat
    return received, cpu, statistics.median(walls)


def report(server: LiveServer, run_id: int, repeat: int) -> None:
    for name, read in (("history", history), ("SSE", stream)):
        figures = {}
        for case, query in CASES.items():
            received, cpu, wall = measure(server, read, run_id, query, repeat)
            figures[case] = (received, cpu, wall)
            print(f"{name:8} {case:10} {received / 1e6:8.2f} MB {cpu * 1000:8.0f} ms "
                  f"CPU {wall * 1000:8.0f} ms wall")  # fmt: skip
        full, part = figures["full"], figures["filtered"]
        ok = part[1] <= full[1] / 2 and part[2] <= full[2] / 2
        print(f"{name:8} filtered/full: {part[0] / full[0]:.2f} bytes, "
              f"{part[1] / full[1]:.2f} CPU, {part[2] / full[2]:.2f} wall "
              f"(target <= 0.5: {'ok' if ok else 'OVER TARGET'})")  # fmt: skip


@contextlib.contextmanager
def sql_env(kind: str) -> Iterator[dict[str, str]]:
    """The SQL log and runs in a fresh SQLite file or MariaDB database."""
    fresh = (
        fresh_sqlite_url()
        if kind == "sqlite"
        else fresh_mysql_database(MYSQL_SERVER_URL)
    )
    with fresh as database:
        if kind == "mariadb":
            engine = build_engine(database)
            upgrade(engine)
            engine.dispose()
        yield {"RUNSTREAM_EVENT_LOG": "sql", "RUNSTREAM_RUN_REPOSITORY": "sql",
               "RUNSTREAM_DATABASE_URL": database}  # fmt: skip


@contextlib.contextmanager
def redis_env(archive: str, fallback: str) -> Iterator[dict[str, str]]:
    """Redis (a throwaway server) with runs on MariaDB, archive/fallback as given."""
    with sql_env("mariadb") as env, RedisServer() as redis:
        yield {**env, "RUNSTREAM_EVENT_LOG": "redis", "RUNSTREAM_REDIS_URL": redis.url,
               "RUNSTREAM_EVENT_ARCHIVE": archive,
               "RUNSTREAM_EVENT_LOG_FALLBACK": fallback}  # fmt: skip


MEMORY = {"RUNSTREAM_EVENT_LOG": "memory", "RUNSTREAM_RUN_REPOSITORY": "memory"}
BACKENDS: dict[str, Callable[[], contextlib.AbstractContextManager[dict[str, str]]]]
BACKENDS = {
    "memory": lambda: contextlib.nullcontext(MEMORY),
    "sqlite": lambda: sql_env("sqlite"),
    "mariadb": lambda: sql_env("mariadb"),
    "redis": lambda: redis_env("none", "none"),
    "archived": lambda: redis_env("sql", "none"),
    "failover": lambda: redis_env("sql", "sql"),
}


def bench(backend: str, repeat: int) -> None:
    with BACKENDS[backend]() as env:
        server = LiveServer(env)
        try:
            run_id = store_run(server.url)
            print(f"{backend}: run {run_id}, {ROUNDS * BURST * len(AGENTS) + 2} "
                  f"events, {repeat} replays each")  # fmt: skip
            report(server, run_id, repeat)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend", choices=list(BACKENDS), action="append", dest="backends"
    )
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    for backend in args.backends or list(BACKENDS):
        bench(backend, args.repeat)
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
