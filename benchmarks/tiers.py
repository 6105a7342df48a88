"""Durable tiers, measured: failover to SQL and back, appends on the fallback,
the archive's write-behind lag under a run streaming 2,000 events/s, and the
archive's CPU per event at 200 events/s spread over 10 runs.

    .venv/bin/python -m benchmarks.tiers [--database URL] [--rate 2000] [--seconds 10]
        [--archive-rate 200] [--archive-runs 10] [--max-linger 0.05]
        [--only lag|cpu|outage ...]

Redis is a throwaway `redis-server` this command starts and stops; the SQL log
is a fresh SQLite file unless --database names another (e.g. a MariaDB database).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.adapters.mysql_legacy.schema import upgrade
from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.adapters.tiered.archived_log import ArchivedEventLog
from runstream.adapters.tiered.archiver import Archiver
from runstream.adapters.tiered.failover import FailoverEventLog
from runstream.adapters.tiered.linger import MAX_LINGER
from runstream.domain.model import AgentType, Category, NewEvent, Source
from tests.support.redis_server import RedisServer

SOURCE = Source("w1", AgentType.WORKER, "Worker 1", "research")
TOKEN = NewEvent.build(Category.LLM, "stream", {"content": "x" * 200}, SOURCE)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def build(
    redis_url: str, database: str, max_linger: float
) -> tuple[FailoverEventLog, Archiver]:
    """The service's failover tiers, with the archiver keeping its lag samples."""
    engine = build_engine(database)
    upgrade(engine)
    client = next(redis_client(redis_url, timeout=0.5))
    hot, cold = RedisStreamEventLog(client, maxlen=10_000), SqlEventLog(engine)
    archiver = Archiver(
        hot, cold, on_finished=hot.finish, lag_samples=100_000, max_linger=max_linger
    )
    log = FailoverEventLog(
        ArchivedEventLog(hot, cold, archiver), cold,
        before_failover=archiver.flush, primary_head=hot.info,
    )  # fmt: skip
    return log, archiver


def archive_lag(
    log: FailoverEventLog, archiver: Archiver, rate: int, seconds: float
) -> None:
    archiver.lag_samples.clear()
    batch = max(1, rate // 100)
    began = time.monotonic()
    sent = 0
    while time.monotonic() - began < seconds:
        log.append(1, [TOKEN] * batch)
        sent += batch
        time.sleep(max(0.0, began + sent / rate - time.monotonic()))
    archiver.flush(timeout=30)
    lags = [lag * 1000 for lag in archiver.lag_samples]
    elapsed = time.monotonic() - began
    print(f"archive lag at {sent / elapsed:,.0f} events/s for {elapsed:.0f} s: "
          f"p50 {pct(lags, 0.5):.1f} ms, p99 {pct(lags, 0.99):.1f} ms, "
          f"max {max(lags, default=0):.1f} ms ({len(lags)} batches)")  # fmt: skip


def thread_cpu(name: str) -> float:
    """CPU seconds the thread `name` of this process used (its own clock)."""
    thread = next(t for t in threading.enumerate() if t.name == name)
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def archive_cpu(
    log: FailoverEventLog, archiver: Archiver, rate: int, runs: int, seconds: float
) -> None:
    """The archiver thread's CPU per event while `runs` runs share `rate`
    single-event appends a second (the shape of token-by-token producers)."""
    archiver.start()
    archiver.lag_samples.clear()
    first = 1000
    for run_id in range(first, first + runs):
        log.append(run_id, [TOKEN])
    archiver.flush(timeout=30)
    cpu = thread_cpu("archiver")
    began = time.monotonic()
    sent = 0
    while time.monotonic() - began < seconds:
        log.append(first + sent % runs, [TOKEN])
        sent += 1
        time.sleep(max(0.0, began + sent / rate - time.monotonic()))
    archiver.flush(timeout=30)
    used = thread_cpu("archiver") - cpu
    lags = [lag * 1000 for lag in archiver.lag_samples]
    elapsed = time.monotonic() - began
    worst = max(lags, default=0)
    print(f"archive CPU at {sent / elapsed:,.0f} events/s over {runs} runs: "
          f"{used / sent * 1e6:.1f} us per event; lag p50 {pct(lags, 0.5):.1f} "
          f"ms, p99 {pct(lags, 0.99):.1f} ms, max {worst:.1f} ms")  # fmt: skip


def outage(log: FailoverEventLog, redis: RedisServer, seconds: float) -> None:
    latencies: list[float] = []
    stop = threading.Event()

    def producer() -> None:
        while not stop.is_set():
            began = time.monotonic()
            log.append(2, [TOKEN])
            latencies.append(time.monotonic() - began)

    log.append(2, [TOKEN] * 100)
    thread = threading.Thread(target=producer)
    thread.start()
    time.sleep(0.5)
    stopped = time.monotonic()
    redis.stop(kill=True)
    while log.serving != "sql":
        time.sleep(0.001)
    failover = time.monotonic() - stopped
    on_fallback = len(latencies)
    time.sleep(seconds)
    fallback_rate = (len(latencies) - on_fallback) / seconds
    restarted = time.monotonic()
    redis.start()
    while log.serving != "redis":
        time.sleep(0.001)
    failback = time.monotonic() - restarted
    stop.set()
    thread.join()
    print(f"failover: {failover * 1000:.0f} ms from Redis killed to serving from SQL")
    print(f"on the fallback: {fallback_rate:,.0f} single appends/s "
          f"(append p50 {statistics.median(latencies) * 1e3:.2f} ms, "
          f"max {max(latencies) * 1e3:.0f} ms)")  # fmt: skip
    print(f"failback: {failback * 1000:.0f} ms from Redis restarted (empty) to "
          f"serving from Redis, outage events copied back")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="SQLAlchemy URL (default: temp SQLite)")
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--archive-rate", type=int, default=200)
    parser.add_argument("--archive-runs", type=int, default=10)
    parser.add_argument("--max-linger", type=float, default=MAX_LINGER)
    parser.add_argument("--only", choices=["lag", "cpu", "outage"], action="append")
    args = parser.parse_args()
    only = args.only or ["lag", "cpu", "outage"]
    with tempfile.TemporaryDirectory() as tmp, RedisServer() as redis:
        database = args.database or f"sqlite:///{Path(tmp) / 'tiers.db'}"
        print(f"Redis {redis.url} (throwaway), SQL {database.split('@')[-1]}")
        log, archiver = build(redis.url, database, args.max_linger)
        if "lag" in only:
            archive_lag(log, archiver, args.rate, args.seconds)
        if "cpu" in only:
            archive_cpu(
                log, archiver, args.archive_rate, args.archive_runs, args.seconds
            )
        if "outage" in only:
            outage(log, redis, min(args.seconds, 5.0))


if __name__ == "__main__":
    main()
