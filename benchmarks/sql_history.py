"""The SQL event log: history page reads and batch appends, on MariaDB and SQLite.

    .venv/bin/python -m benchmarks.sql_history [--events 20000] [--repeat 50]
                                              [--mysql-url URL] [--no-mysql]

For each backend, in a fresh database (dropped afterwards) or SQLite file:
appends `--events` token events in batches of 100 to one run (events/s), then
reads 1,000-event history pages at random positions of that run and prints the
median and p95 (target: median <= 30 ms).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.adapters.mysql_legacy.schema import upgrade
from runstream.domain.ids import MAX_ID
from runstream.domain.model import AgentType, Category, NewEvent, Source
from tests.support.sql_backend import fresh_mysql_database, fresh_sqlite_url

BATCH = 100
PAGE = 1000
EVENT = NewEvent.build(
    Category.LLM,
    "stream",
    {"content": "Analysing the quarterly figures " * 3 + "before a summary"},
    Source("researcher", AgentType.WORKER, "Researcher", "research"),
)


def append_rate(log: SqlEventLog, run_id: int, events: int) -> float:
    """Events per second, appending batches of BATCH one after the other."""
    began = time.perf_counter()
    for _ in range(events // BATCH):
        log.append(run_id, [EVENT] * BATCH)
    return events // BATCH * BATCH / (time.perf_counter() - began)


def page_times(log: SqlEventLog, run_id: int, repeat: int) -> list[float]:
    """Milliseconds per 1,000-event page, each from a random event of the run."""
    ids = [e.id for e in log.read(run_id, limit=100_000)]
    starts = random.Random(7).choices(ids[: len(ids) - PAGE], k=repeat)
    samples = []
    for start in starts:
        began = time.perf_counter()
        page = log.read(run_id, start, MAX_ID, PAGE)
        samples.append((time.perf_counter() - began) * 1000)
        assert len(page) == PAGE
    return samples


def measure(name: str, url: str, events: int, repeat: int) -> None:
    engine = build_engine(url)
    try:
        upgrade(engine)
        log = SqlEventLog(engine)
        rate = append_rate(log, 1, events)
        samples = page_times(log, 1, repeat)
    finally:
        engine.dispose()
    median = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[-1]
    verdict = "ok" if median <= 30 else "OVER TARGET"
    print(
        f"{name:8} 1,000-event page: median {median:6.2f} ms, p95 {p95:6.2f} ms "
        f"(target <= 30 ms: {verdict}) | batch-{BATCH} append: {rate:9,.0f} events/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--mysql-url", default="mysql+pymysql://root@127.0.0.1:3306")
    parser.add_argument("--no-mysql", action="store_true")
    args = parser.parse_args()
    print(f"{args.events:,} events of {len(EVENT.data_json)} data bytes in one run;")
    print(f"{args.repeat} page reads per backend at random start positions\n")
    if not args.no_mysql:
        with fresh_mysql_database(args.mysql_url) as url:
            measure("MariaDB", url, args.events, args.repeat)
    with fresh_sqlite_url() as url:
        measure("SQLite", url, args.events, args.repeat)


if __name__ == "__main__":
    main()
