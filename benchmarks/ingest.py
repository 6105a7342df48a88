"""Ingest benchmark: what producers sending LLM tokens cost the service.

    .venv/bin/python -m benchmarks.ingest [--seconds 20] [--runs 10] [--rate 100]
        [--archive sql|none] [--only post|client|client-post|batch ...]
        [--linger 0.005]

One `runstream serve` (one gevent worker) on Redis + MariaDB with the SQL
archive on; three producers side by side, each on fresh runs, `--runs` runs x
`--rate` tokens/s for `--seconds`, with one SSE subscriber per run:
(a) one POST per token, (b) the producer client emitting single tokens (on
its WebSocket stream), (b') the same client sending keyed POSTs instead (its
fallback, `stream=False`), (c) raw POSTs of 100-token batches. For each:
the service process tree's CPU per event (from /proc, SSE delivery and
archive included), events per append (a request, or a group on the stream),
events/s stored, and emit -> subscriber latency (a batch's tokens wait for
their batch).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import requests

from benchmarks.load_parts import Clients, Process, children_of
from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.schema import upgrade
from runstream.entrypoints.producer.transport import Transport
from tests.services import MYSQL_SERVER_URL
from tests.support.live_server import LiveServer
from tests.support.sql_backend import fresh_mysql_database

DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
MODES = {"a) POST per token": "post", "b) client, single tokens": "client",
         "b') client, by POST": "client-post", "c) POST of 100": "batch"}  # fmt: skip


def tree_cpu(pid: int) -> float:
    return sum(Process(p).cpu_seconds() for p in [pid, *children_of(pid)])


def healthz_cpu(server: LiveServer, requests_made: int = 300) -> float:
    """The service's CPU per bare `GET /healthz`: the scale for the figures
    (a loaded machine inflates every CPU figure alike)."""
    transport = Transport(server.url)
    used = tree_cpu(server.process.pid)
    for _ in range(requests_made):
        transport.request("GET", "/healthz")
    transport.close()
    return (tree_cpu(server.process.pid) - used) / requests_made * 1e6


def warm_up(server: LiveServer, connections: int = 20) -> None:
    """Open the service's SQL pool before measuring: `connections` requests at
    once that read a run (a first connection costs milliseconds of CPU, a
    one-time cost that would otherwise land on the first mode measured)."""
    made = requests.post(f"{server.url}/runs", json={"task": "warm up",
                         "executor": "external"}, timeout=10)  # fmt: skip
    url = f"{server.url}/runs/{made.json()['id']}"
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(lambda _: requests.get(url, timeout=30), range(connections * 3)))


def append_requests(server: LiveServer) -> int:
    """Appends the service has made (its append-time histogram: a request, or
    a group on an ingest stream)."""
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("runstream_append_seconds_count"):
            return int(float(line.split()[-1]))
    return 0


def measure(server: LiveServer, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    made = [requests.post(f"{server.url}/runs", json={"task": f"ingest {mode}",
            "executor": "external"}, timeout=10) for _ in range(args.runs)]  # fmt: skip
    run_ids = [r.json()["id"] for r in made]
    clients = Clients(server.port, [f"/runs/{r}/events/stream" for r in run_ids])
    cpu, requests_before = tree_cpu(server.process.pid), append_requests(server)
    command = [sys.executable, "-m", "benchmarks.ingest_producers", mode, server.url,
               str(args.rate), str(args.seconds), str(args.linger),
               *map(str, run_ids)]  # fmt: skip
    sent = json.loads(subprocess.run(command, check=True, capture_output=True,
                                     text=True).stdout)  # fmt: skip
    time.sleep(1.0)  # the archive's last tick
    used = tree_cpu(server.process.pid) - cpu
    made_requests = append_requests(server) - requests_before
    clients.finish()
    for run_id in run_ids:
        requests.post(f"{server.url}/runs/{run_id}/finish",
                      json={"status": "completed"}, timeout=30)  # fmt: skip
    seen = clients.results()
    latency = seen["latency"]
    return {
        "events sent": sent["sent"],
        "events delivered (SSE)": seen["received"],
        "duplicates": seen["duplicates"],
        "events per append": sent["sent"] / max(made_requests, 1),
        "server CPU us/event": used / sent["sent"] * 1e6,
        "events/s stored": sent["sent"] / sent["seconds"],
        "emit->SSE p50 ms": (latency["0.5"] or 0) * 1000,
        "emit->SSE p99 ms": (latency["0.99"] or 0) * 1000,
    }


def report(
    found: dict[str, dict[str, Any]], args: argparse.Namespace, healthz: float
) -> None:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\narchive: {args.archive}; load average: {load}; "
          f"GET /healthz: {healthz:.0f} us CPU per request")  # fmt: skip
    print(f"{'':26}" + "".join(f"{name:>28}" for name in found))
    for row in next(iter(found.values())):
        cells = "".join(f"{values[row]:>28.1f}" for values in found.values())
        print(f"{row:26}{cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description="ingest cost per producer shape")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0, help="tokens/s per run")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="a db it may flush")
    parser.add_argument("--archive", choices=["sql", "none"], default="sql")
    parser.add_argument("--linger", type=float, default=0.005,
                        help="the client's linger, seconds (b)")  # fmt: skip
    parser.add_argument("--only", choices=sorted(MODES.values()), action="append")
    args = parser.parse_args()
    redis.Redis.from_url(args.redis).flushdb()
    with fresh_mysql_database(MYSQL_SERVER_URL) as database:
        engine = build_engine(database)
        upgrade(engine)
        engine.dispose()
        server = LiveServer({
            "RUNSTREAM_EVENT_LOG": "redis", "RUNSTREAM_REDIS_URL": args.redis,
            "RUNSTREAM_RUN_REPOSITORY": "sql", "RUNSTREAM_DATABASE_URL": database,
            "RUNSTREAM_EVENT_ARCHIVE": args.archive,
            "RUNSTREAM_HEARTBEAT_SECONDS": "15",
        })  # fmt: skip
        try:
            warm_up(server)
            healthz = healthz_cpu(server)
            found = {
                name: measure(server, mode, args)
                for name, mode in MODES.items()
                if mode in (args.only or MODES.values())
            }
        finally:
            server.stop()
    report(found, args, healthz)
    return 0


if __name__ == "__main__":
    sys.exit(main())
