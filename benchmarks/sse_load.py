"""SSE load benchmark: the fan-out hub against one blocking XREAD per subscriber.

    .venv/bin/python -m benchmarks.sse_load [--seconds 60] [--redis URL]

Phase 1: 1,000 subscribers over 100 Redis-backed runs, 2 events/s per run.
Phase 2: 100 subscribers over 10 runs, 20 events/s per run.
Each phase runs on `runstream serve` (one gevent worker) and then on a naive
server (benchmarks.naive_sse); the producer appends straight to Redis, so both
servers do nothing but fan out. Clients are raw asyncio sockets in their own
process. Latency is append (a send timestamp in the event) to client receipt.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
import requests

from benchmarks.load_parts import (
    Clients,
    Process,
    children_of,
    finished_event,
    produce,
)
from benchmarks.load_report import derive, report
from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from tests.support.live_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"


@dataclass(frozen=True)
class Phase:
    name: str
    runs: int
    per_run: int
    rate: float


PHASES = (Phase("1000 subs / 100 runs / 2 ev/s", 100, 10, 2.0),
          Phase("100 subs / 10 runs / 20 ev/s", 10, 10, 20.0))  # fmt: skip


class Target:
    """A server under test: how to make runs, and the process doing the work."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)], cwd=ROOT,
            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        workers = children_of(self.process.pid)
        self.worker = Process(workers[0] if workers else self.process.pid)

    def held(self) -> int | None:
        """Connected subscribers as the server counts them (ours only)."""
        try:
            text = requests.get(self.url + "/metrics", timeout=5).text
        except requests.RequestException:
            return None
        for line in text.splitlines():
            if line.startswith("runstream_sse_subscribers "):
                return int(float(line.split()[1]))
        return None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def run_phase(
    target: Target,
    phase: Phase,
    log: RedisStreamEventLog,
    server: redis.Redis,
    seconds: float,
    make_runs: Callable[[int], list[int]],
) -> dict[str, Any]:
    run_ids = make_runs(phase.runs)
    paths = [f"/runs/{r}/events/stream?from=live" for r in run_ids] * phase.per_run
    clients = Clients(target.port, paths)
    cpu_before, redis_before = target.worker.cpu_seconds(), redis_cpu(server)
    per_run = produce(log.append, run_ids, phase.rate, seconds)
    server_held = target.held()
    held = clients.finish()
    for run_id in run_ids:
        log.append(run_id, [finished_event()])
    results = clients.results()
    return derive(
        {
            **results,
            "connected": clients.connected,
            "held": held,
            "server_held": server_held,
            "expected": per_run * len(paths),
            "cpu": target.worker.cpu_seconds() - cpu_before,
            "rss": target.worker.rss_mib(),
            "redis_cpu": redis_cpu(server) - redis_before,
        }
    )


def redis_cpu(server: redis.Redis) -> float:
    info = server.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


Builder = tuple[Target, Callable[[int], list[int]]]


def ours(redis_url: str) -> Builder:
    env = {
        "RUNSTREAM_EVENT_LOG": "redis",
        "RUNSTREAM_REDIS_URL": redis_url,
        "RUNSTREAM_RUN_REPOSITORY": "memory",
        "RUNSTREAM_EVENT_ARCHIVE": "none",  # the naive server archives nothing
    }
    serve = [
        sys.executable,
        "-m",
        "runstream.entrypoints.cli",
        "serve",
        "--workers",
        "1",
    ]
    target = Target("runstream (fan-out hub)", serve, env)

    def make_runs(count: int) -> list[int]:
        url = f"{target.url}/runs"
        made = [requests.post(url, json={"task": "bench"}) for _ in range(count)]
        return [response.json()["id"] for response in made]

    return target, make_runs


def naive(redis_url: str, log: RedisStreamEventLog) -> Builder:
    command = [sys.executable, "-m", "benchmarks.naive_sse", "--redis", redis_url]
    target = Target("naive (XREAD per subscriber)", command, {})
    next_id = [10_000_000]

    def make_runs(count: int) -> list[int]:
        from runstream.application.start_run import started_event
        from runstream.domain.model import Run

        ids = list(range(next_id[0], next_id[0] + count))
        next_id[0] += count
        for run_id in ids:
            log.append(run_id, [started_event(Run(task="bench", id=run_id))])
        return ids

    return target, make_runs


def main() -> int:
    parser = argparse.ArgumentParser(description="SSE load: fan-out hub vs naive")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="a db it may flush")
    parser.add_argument("--only", choices=["ours", "naive"], default=None)
    args = parser.parse_args()
    server = redis.Redis.from_url(args.redis)
    server.flushdb()
    resource = redis_client(args.redis, timeout=5.0)
    log = RedisStreamEventLog(next(resource), maxlen=10_000, ttl_seconds=3600)
    results: list[dict[str, dict[str, Any]]] = [{} for _ in PHASES]
    builders = {
        "ours": lambda: ours(args.redis),
        "naive": lambda: naive(args.redis, log),
    }
    for key, build in builders.items():
        if args.only not in (None, key):
            continue
        target, make_runs = build()
        try:
            for index, phase in enumerate(PHASES):
                found = run_phase(target, phase, log, server, args.seconds, make_runs)
                results[index][target.name] = found
        finally:
            target.stop()
    print(f"\n{args.seconds:.0f} s per phase; load average {os.getloadavg()[0]:.2f}")
    for phase, found in zip(PHASES, results, strict=True):
        report(phase.name, found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
