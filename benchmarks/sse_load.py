"""SSE load benchmark: runstream's live delivery next to a plain nginx+Nchan.

    .venv/bin/python -m benchmarks.sse_load [--seconds 60] [--redis URL]
        [--targets runstream,nchan[,naive]] [--phases 100,1000,10000] [--repeat 3]

Prerequisite for the yardstick: `apt-get install nginx libnginx-mod-nchan`.

Phases (the same load on each server, one after the other):
  100    100 subscribers over 10 runs, 20 events/s per run, one worker
  1000   1,000 subscribers over 100 runs, 2 events/s per run, one worker
  10000  10,000 subscribers over 1,000 runs, 0.2 events/s per run, 4 workers
For runstream, events are appended straight into Redis (ingest is excluded);
Nchan gets them from its publisher endpoint. Clients are raw asyncio sockets in
a process of their own; latency is append (a send timestamp in the event) to
client receipt. Server CPU and RSS are the worker processes' (Redis excluded:
its CPU is reported apart). Every figure is printed with its ratio to Nchan.
With `--repeat N` each phase runs N times, the servers taking turns, and the
table shows medians, followed by the ratio to Nchan of each round (a machine
shared with other work makes single figures noisy; a round's ratio compares two
servers measured seconds apart).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis

from benchmarks.load_parts import Clients, Process, finished_event, produce
from benchmarks.load_report import derive, median_of, report, round_ratios
from benchmarks.load_targets import Naive, Runstream
from benchmarks.nchan import NchanServer
from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.model import NewEvent

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"  # flushed: never a db the tests use (9, 13)


@dataclass(frozen=True)
class Phase:
    key: str
    name: str
    runs: int
    per_run: int
    rate: float
    workers: int


PHASES = (
    Phase("100", "100 subs / 10 runs / 20 ev/s, 1 worker", 10, 10, 20.0, 1),
    Phase("1000", "1,000 subs / 100 runs / 2 ev/s, 1 worker", 100, 10, 2.0, 1),
    Phase("10000", "10,000 subs / 1,000 runs / 0.2 ev/s, 4 workers", 1000, 10, 0.2, 4),
)


class Server(Protocol):
    name: str
    port: int

    def workers(self) -> list[int]: ...
    def make_runs(self, count: int) -> list[int]: ...
    def append(self, run_id: int, events: list[NewEvent]) -> None: ...
    def end_runs(self, run_ids: list[int]) -> None: ...
    def held(self) -> int | None: ...
    def stop(self) -> None: ...


def run_phase(
    target: Server, phase: Phase, redis_server: redis.Redis, seconds: float
) -> dict[str, Any]:
    run_ids = target.make_runs(phase.runs)
    paths = [f"/runs/{r}/events/stream?from=live" for r in run_ids] * phase.per_run
    opening = time.monotonic()
    clients = Clients(target.port, paths)
    opened_in = time.monotonic() - opening
    workers = [Process(pid) for pid in target.workers()]
    cpu_before = sum(w.cpu_seconds() for w in workers)
    redis_before = redis_cpu(redis_server)
    per_run = produce(target.append, run_ids, phase.rate, seconds)
    server_held = target.held()
    held = clients.finish()
    for run_id in run_ids:
        target.append(run_id, [finished_event()])
    target.end_runs(run_ids)
    results = clients.results()
    return derive(
        {
            **results,
            "connected": clients.connected,
            "opened_in": opened_in,
            "held": held,
            "server_held": server_held,
            "expected": per_run * len(paths),
            "cpu": sum(w.cpu_seconds() for w in workers) - cpu_before,
            "rss": sum(w.rss_mib() for w in workers),
            "redis_cpu": redis_cpu(redis_server) - redis_before,
        }
    )


def redis_cpu(server: redis.Redis) -> float:
    info = server.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def raise_file_limit() -> int:
    """Every subscriber is a socket at both ends: allow as many as we may."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def main() -> int:
    parser = argparse.ArgumentParser(description="SSE load: runstream vs Nchan")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="a db it may flush")
    parser.add_argument("--targets", default="runstream,nchan")
    parser.add_argument("--phases", default=",".join(p.key for p in PHASES))
    parser.add_argument("--repeat", type=int, default=1, help="rounds per phase")
    args = parser.parse_args()
    files = raise_file_limit()
    redis_server = redis.Redis.from_url(args.redis)
    redis_server.flushdb()
    log = RedisStreamEventLog(next(redis_client(args.redis, timeout=5.0)),
                              maxlen=10_000, ttl_seconds=3600)  # fmt: skip
    builders = {
        "runstream": lambda w: Runstream(args.redis, log, w),
        "nchan": lambda w: NchanServer(w, files),
        "naive": lambda w: Naive(args.redis, log, w),
    }
    chosen = [p for p in PHASES if p.key in args.phases.split(",")]
    results: list[list[dict[str, dict[str, Any]]]] = []
    for phase in chosen:
        rounds: list[dict[str, dict[str, Any]]] = []
        for _ in range(args.repeat):
            found: dict[str, dict[str, Any]] = {}
            for key in args.targets.split(","):
                redis_server.flushdb()  # each server starts with run ids from 1
                target: Server = builders[key](phase.workers)
                try:
                    found[target.name] = run_phase(
                        target, phase, redis_server, args.seconds
                    )
                finally:
                    target.stop()
            rounds.append(found)
        results.append(rounds)
    load = os.getloadavg()
    print(f"\n{args.seconds:.0f} s per phase; load average {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f} (at the end); file limit {files}")  # fmt: skip
    for phase, rounds in zip(chosen, results, strict=True):
        title = phase.name + (f", median of {len(rounds)}" if len(rounds) > 1 else "")
        report(title, median_of(rounds), baseline="nginx+Nchan")
        if len(rounds) > 1:
            round_ratios(rounds, baseline="nginx+Nchan")
    return 0


if __name__ == "__main__":
    sys.exit(main())
