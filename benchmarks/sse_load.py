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
from dataclasses import dataclass

import redis
import requests

from adapters.redis_stream.client import redis_client
from adapters.redis_stream.event_log import RedisStreamEventLog
from benchmarks.load_parts import (
    Clients,
    Process,
    children_of,
    finished_event,
    produce,
)
from tests.e2e.live_server import free_port

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


def run_phase(target: Target, phase: Phase, log: RedisStreamEventLog, seconds: float,
              make_runs) -> dict:  # type: ignore[no-untyped-def]  # fmt: skip
    run_ids = make_runs(phase.runs)
    paths = [f"/runs/{r}/events/stream?from=live" for r in run_ids] * phase.per_run
    clients = Clients(target.port, paths)
    cpu_before, began = target.worker.cpu_seconds(), time.monotonic()
    redis_before = redis_cpu(log)
    per_run = produce(log.append, run_ids, phase.rate, seconds)
    server_held = target.held()
    held = clients.finish()
    for run_id in run_ids:
        log.append(run_id, [finished_event()])
    results = clients.results()
    cpu = target.worker.cpu_seconds() - cpu_before
    return {
        "server_held": server_held, "redis_cpu": redis_cpu(log) - redis_before,
        **results, "connected": clients.connected, "held": held, "elapsed": time.monotonic() - began,
        "expected": per_run * len(paths), "cpu": cpu, "rss": target.worker.rss_mib(),
        "per_1000": cpu / max(results["received"], 1) * 1000,
    }  # fmt: skip


def redis_cpu(log: RedisStreamEventLog) -> float:
    info = log._client.info("cpu")  # noqa: SLF001 - a benchmark reads the driver
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def ours(redis_url: str) -> tuple[Target, object]:
    env = {"RUNSTREAM_EVENT_LOG": "redis", "RUNSTREAM_REDIS_URL": redis_url,
           "RUNSTREAM_RUN_REPOSITORY": "memory", "RUNSTREAM_EVENT_ARCHIVE": "none"}  # fmt: skip
    serve = [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "1"]
    target = Target("runstream (fan-out hub)", serve, env)

    def make_runs(count: int) -> list[int]:
        made = [requests.post(f"{target.url}/runs", json={"task": "bench"})
                for _ in range(count)]  # fmt: skip
        return [response.json()["id"] for response in made]

    return target, make_runs


def naive(redis_url: str, log: RedisStreamEventLog) -> tuple[Target, object]:
    command = [sys.executable, "-m", "benchmarks.naive_sse", "--redis", redis_url]
    target = Target("naive (XREAD per subscriber)", command, {})
    next_id = [10_000_000]

    def make_runs(count: int) -> list[int]:
        from application.start_run import started_event
        from domain.model import Run

        ids = list(range(next_id[0], next_id[0] + count))
        next_id[0] += count
        for run_id in ids:
            log.append(run_id, [started_event(Run(task="bench", id=run_id))])
        return ids

    return target, make_runs


def report(phase: Phase, found: dict[str, dict]) -> None:  # type: ignore[type-arg]
    print(f"\n== {phase.name}")
    rows = [("connections opened (clients)", "connected", "{:.0f}"),
            ("connections held at end (clients)", "held", "{:.0f}"),
            ("connections held (server gauge)", "server_held", "{}"),
            ("events expected", "expected", "{:.0f}"),
            ("events received", "received", "{:.0f}"),
            ("events duplicated", "duplicates", "{:.0f}"),
            ("streams closed", "closed", "{:.0f}"),
            ("push latency p50 ms", "p50", "{:.2f}"),
            ("push latency p95 ms", "p95", "{:.2f}"),
            ("push latency p99 ms", "p99", "{:.2f}"),
            ("server CPU s", "cpu", "{:.2f}"),
            ("server CPU s / 1000 events", "per_1000", "{:.4f}"),
            ("server CPU us / event", "per_event_us", "{:.1f}"),
            ("server RSS MiB", "rss", "{:.1f}"),
            ("redis CPU s", "redis_cpu", "{:.2f}")]  # fmt: skip
    names = list(found)
    print(f"{'':34}" + "".join(f"{n:>32}" for n in names) + f"{'naive/ours':>12}")
    for label, key, fmt in rows:
        values = [found[n].get(key) for n in names]
        cells = "".join(f"{fmt.format(v) if v is not None else '-':>32}" for v in values)
        ratio = ""
        if key in ("p50", "p95", "p99", "cpu", "per_1000", "per_event_us", "rss",
                   "redis_cpu") and len(values) == 2 and all(values):  # fmt: skip
            ratio = f"{values[1] / values[0]:.2f}x"
        print(f"{label:34}{cells}{ratio:>12}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="a db it may flush")
    parser.add_argument("--only", choices=["ours", "naive"], default=None)
    args = parser.parse_args()
    redis.Redis.from_url(args.redis).flushdb()
    resource = redis_client(args.redis, timeout=5.0)
    log = RedisStreamEventLog(next(resource), maxlen=10_000, ttl_seconds=3600)
    results: list[dict[str, dict]] = [{} for _ in PHASES]  # type: ignore[type-arg]
    builders = {"ours": lambda: ours(args.redis), "naive": lambda: naive(args.redis, log)}
    for key, build in builders.items():
        if args.only not in (None, key):
            continue
        target, make_runs = build()
        try:
            for index, phase in enumerate(PHASES):
                found = run_phase(target, phase, log, args.seconds, make_runs)
                for q, key in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")):
                    value = found["latency"][key]
                    found[q] = None if value is None else value * 1000
                found["per_event_us"] = found["per_1000"] * 1000
                results[index][target.name] = found
        finally:
            target.stop()
    for phase, found in zip(PHASES, results, strict=True):
        report(phase, found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
