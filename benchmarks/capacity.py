"""The Redis inputs of the capacity model in docs/scale.md, measured.

    .venv/bin/python -m benchmarks.capacity [--seconds 5] [--writers 4] [--readers 4]
                                            [--url redis://SEED --cluster-seed]

Starts a local 3-master Redis Cluster (tests.support.redis_cluster) unless given
a seed node, and picks one master:
1. memory: MEMORY USAGE of a 10,000-event stream, per event shape, per event;
2. writes: `writers` processes append through the cluster adapter to runs that
   master serves, single events and then batches of 10; events/s and the
   master's CPU (INFO cpu) per event;
3. reads: the same single-event load while `readers` processes follow every run
   as each worker's fan-out hub does (ClusterWait); the extra master CPU per
   event and reader.
Writers, readers and Redis share this machine's cores, so events/s is a floor;
CPU per event is what scales.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import time
from collections.abc import Callable, Generator
from multiprocessing.queues import Queue  # noqa: F401 - named in Counts
from typing import Any, TypeAlias, cast

from redis import Redis
from redis.crc import key_slot

from benchmarks.redis_append import EVENT
from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.codec import stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.ids import MIN_ID
from runstream.domain.model import AgentType, Category, NewEvent, Source
from tests.support.redis_cluster import LocalCluster

SOURCE = Source("researcher", AgentType.WORKER, "Researcher", "research")
SHAPES = {
    "LLM token (13-char chunk, with source)": NewEvent.build(
        Category.LLM, "stream", {"content": "Analysing the"}, SOURCE
    ),
    "200 B of data, with source": EVENT,
    "1 KiB of data, with source": NewEvent.build(
        Category.LLM, "stream", {"content": "x" * 1000}, SOURCE
    ),
}
RUNS_PER_WRITER = 10
_FRESH_RUNS = itertools.count(8_000_000, 1_000_000)  # each load its own runs
# Each process puts ("written" | "seen", events) once.
Counts: TypeAlias = "Queue[tuple[str, int]]"


def _log(url: str) -> tuple[Generator[Any, None, None], RedisStreamEventLog]:
    resource = redis_client(url, cluster=True, timeout=2.0)
    return resource, RedisStreamEventLog(next(resource))


def _runs_on(master: Redis, count: int, first: int) -> list[int]:
    """`count` run ids from `first` on whose keys `master` serves."""
    port = master.connection_pool.connection_kwargs["port"]
    slots = cast(Any, master).execute_command("CLUSTER", "SLOTS")
    mine = [range(low, high + 1) for low, high, owner, *_ in slots if owner[1] == port]
    runs: list[int] = []
    run_id = first
    while len(runs) < count:
        slot = key_slot(stream_key(run_id).encode())
        if any(slot in served for served in mine):
            runs.append(run_id)
        run_id += 1
    return runs


def memory(url: str, master: Redis) -> dict[str, float]:
    resource, log = _log(url)
    per_event = {}
    run_ids = iter(_runs_on(master, len(SHAPES) + 1, 7_000_000))
    for name, event in SHAPES.items():
        run_id = next(run_ids)
        for _ in range(100):
            log.append(run_id, [event] * 100)
        per_event[name] = _bytes(master, run_id) / 10_000
    lone = next(run_ids)
    log.append(run_id=lone, events=[SHAPES["200 B of data, with source"]])
    per_event["a run's stream holding one event"] = _bytes(master, lone)
    resource.close()
    return per_event


def _bytes(master: Redis, run_id: int) -> float:
    return float(master.memory_usage(stream_key(run_id), samples=0) or 0)


def _write(url: str, runs: list[int], batch: int, until: float, out: Counts) -> None:
    resource, log = _log(url)
    events = [SHAPES["LLM token (13-char chunk, with source)"]] * batch
    written = 0
    while time.time() < until:
        for run_id in runs:
            log.append(run_id, events)
            written += batch
    out.put(("written", written))
    resource.close()


def _read(url: str, runs: list[int], until: float, out: Counts) -> None:
    resource, log = _log(url)
    cursors = dict.fromkeys(runs, MIN_ID)
    seen = 0
    while time.time() < until:
        for run_id, found in log.wait(cursors, 0.05).items():
            cursors[run_id] = found[-1].id
            seen += len(found)
    out.put(("seen", seen))
    resource.close()


def load(
    url: str, master: Redis, args: argparse.Namespace, batch: int, readers: int
) -> tuple[float, float, list[int]]:
    """(events/s, master CPU µs per event, events each reader saw)."""
    context = multiprocessing.get_context("spawn")
    out: Counts = context.Queue()
    runs = _runs_on(master, RUNS_PER_WRITER * args.writers, next(_FRESH_RUNS))
    began = time.time() + 2.0  # every process has imported and connected
    until = began + args.seconds
    jobs: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (_read, (url, runs, until + 1.0, out)) for _ in range(readers)
    ]
    for n in range(args.writers):
        chunk = runs[n * RUNS_PER_WRITER : (n + 1) * RUNS_PER_WRITER]
        jobs.append((_write, (url, chunk, batch, until, out)))
    processes = [context.Process(target=f, args=a) for f, a in jobs]
    for process in processes:
        process.start()
    time.sleep(max(0.0, began - time.time()))
    cpu = _cpu(master)
    time.sleep(max(0.0, until - time.time()))
    cpu = _cpu(master) - cpu
    counts = [out.get() for _ in processes]
    for process in processes:
        process.join()
    written = sum(n for kind, n in counts if kind == "written")
    seen = [n for kind, n in counts if kind == "seen"]
    return written / args.seconds, cpu / written * 1e6, seen


def _cpu(node: Redis) -> float:
    info = node.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--url", help="a Redis Cluster seed node (default: start one)")
    args = parser.parse_args(argv)
    cluster = None if args.url else LocalCluster(masters=3).start()
    url = args.url or cluster.url  # type: ignore[union-attr]
    try:
        report(url, args)
    finally:
        if cluster is not None:
            cluster.close()


def report(url: str, args: argparse.Namespace) -> None:
    master = Redis.from_url(url, decode_responses=True)  # the seed: a master
    version = master.info("server")["redis_version"]
    print(
        f"Redis {version}; master {url} serves the runs; {os.cpu_count()} cores; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for name, size in memory(url, master).items():
        print(f"memory  {name:<42} {size:>10,.0f} B")
    for batch in (1, 10):
        rate, cpu, _ = load(url, master, args, batch, readers=0)
        print(
            f"writes  {args.writers} writers, batches of {batch:<3}"
            f"{rate:>14,.0f} events/s {cpu:>8.1f} µs master CPU/event"
        )
    _, alone, _ = load(url, master, args, 1, readers=0)
    rate, with_readers, seen = load(url, master, args, 1, readers=args.readers)
    extra = (with_readers - alone) / max(args.readers, 1)
    print(
        f"reads   {args.readers} hub-like readers, single events"
        f"{rate:>10,.0f} events/s {with_readers:>8.1f} µs master CPU/event"
        f" ({extra:.1f} µs per reader and event; each read {min(seen):,}+)"
    )


if __name__ == "__main__":
    main()
