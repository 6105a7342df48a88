"""The Redis Stream adapter against bare redis-py, measured in one run.

    .venv/bin/python -m benchmarks.redis_append [--url URL] [--n 5000]

With --url at one master of a Redis Cluster, every stream is one that master
serves: the figures are that master's.

Prints single-append latency, batch throughput and the wake-up latency of a
blocked waiter (another process), each beside the same figure for bare redis-py
XADD / XREAD BLOCK on the same server, and the ratio adapter / bare. Targets:
single-append p50 <= 1.3x bare, batch-100 >= 20,000 events/s, wake-up p50 <= 1 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from redis.exceptions import MovedError
from redis.utils import HIREDIS_AVAILABLE

from runstream.adapters.redis_stream.client import Client, redis_client
from runstream.adapters.redis_stream.codec import event_fields, stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.adapters.redis_stream.lane import Lane
from runstream.domain.envelope import format_timestamp
from runstream.domain.ids import EventId
from runstream.domain.model import AgentType, Category, NewEvent, Source, StoredEvent

EVENT = NewEvent.build(
    Category.LLM,
    "stream",
    {"content": "Analysing the quarterly figures " * 5 + "and more before a summary"},
    Source("researcher", AgentType.WORKER, "Researcher", "research"),
)
# What a bare XADD writes: the same entry, stamped and numbered on the client.
_STAMP = format_timestamp(int(time.time() * 1000))
FIELDS = dict(
    zip(
        *[iter(("timestamp", _STAMP, "sequence", "1", *event_fields(EVENT)))] * 2,
        strict=True,
    )
)
WAITER = "runstream-bench-waiter"


def _timed(action: Callable[[], object], times: int) -> list[float]:
    """Microseconds per call."""
    samples = []
    for _ in range(times):
        began = time.perf_counter_ns()
        action()
        samples.append((time.perf_counter_ns() - began) / 1000)
    return samples


def _p(samples: list[float], pct: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def single_latency(
    client: Client, log: RedisStreamEventLog, n: int
) -> tuple[list[float], list[float], list[float]]:
    """Microseconds per single append: ours, bare redis-py XADD, and XADD sent the
    way the adapter sends its script (its Lane), alternating call by call so that
    load from anything else on the machine hits all alike. The third isolates
    what the script costs beyond a plain XADD from what the lane saves."""
    run, _ = _fresh_run(client)
    _, key = _fresh_run(client)
    _, lane_key = _fresh_run(client)
    lane = Lane(client)  # type: ignore[arg-type]  # not given a cluster here
    lane_xadd = ("XADD", lane_key, "MAXLEN", "~", "10000", "*", *_flat(FIELDS))

    def ours() -> object:
        return log.append(run, [EVENT])

    def bare() -> object:
        return client.xadd(key, FIELDS, maxlen=10_000, approximate=True)

    def on_lane() -> object:
        return lane.call(lane_xadd)

    samples: tuple[list[float], list[float], list[float]] = ([], [], [])
    for action in (ours, bare, on_lane):
        _timed(action, 200)
    for _ in range(n):
        for action, kept in zip((ours, bare, on_lane), samples, strict=True):
            kept.extend(_timed(action, 1))
    lane.close()
    for done in (stream_key(run), key, lane_key):  # one key per DEL: a cluster node
        client.delete(done)
    return samples


def _flat(fields: dict[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


def throughput(
    client: Client, log: RedisStreamEventLog, size: int, events: int
) -> tuple[float, float]:
    run, _ = _fresh_run(client)
    _, key = _fresh_run(client)
    batch = [EVENT] * size

    def bare_batch() -> None:
        with client.pipeline(transaction=False) as pipe:
            for _ in range(size):
                pipe.xadd(key, FIELDS, maxlen=10_000, approximate=True)
            pipe.execute()

    rounds = max(events // size, 1)
    spent = [0.0, 0.0]
    for _ in range(rounds):
        spent[0] += _timed(lambda: log.append(run, batch), 1)[0]
        spent[1] += _timed(bare_batch, 1)[0]
    for done in (stream_key(run), key):  # one key per DEL: a cluster node
        client.delete(done)
    return rounds * size / spent[0] * 1e6, rounds * size / spent[1] * 1e6


def _waiter(
    url: str, run: int, key: str, bare: bool, rounds: int, out: Connection
) -> None:
    resource = redis_client(url, cluster=False, timeout=2.0)
    client = next(resource)
    # Every connection the waiter opens, the adapter's own included, carries the
    # name that _waiter_blocked looks for.
    client.connection_pool.connection_kwargs["client_name"] = WAITER
    log = RedisStreamEventLog(client)
    cursor = EventId(0, 0)
    for _ in range(rounds):
        if bare:
            cursor = _bare_wait(client, key, cursor)
        else:
            cursor = _adapter_wait(log, run, cursor)
        out.send(time.perf_counter_ns())
    resource.close()


def _bare_wait(client: Client, key: str, cursor: EventId) -> EventId:
    found: Any = None
    while not found:
        found = client.xread({key: str(cursor)}, block=1000)
    return EventId.parse(found[0][1][-1][0])


def _adapter_wait(log: RedisStreamEventLog, run: int, cursor: EventId) -> EventId:
    news: dict[int, list[StoredEvent]] = {}
    while not news:
        news = log.wait({run: cursor}, timeout=5)
    return news[run][-1].id


def wake_up(
    url: str, client: Client, log: RedisStreamEventLog, bare: bool, rounds: int
) -> list[float]:
    """Milliseconds from the start of an append to the blocked waiter having it."""
    run, key = _fresh_run(client)
    context = multiprocessing.get_context("spawn")
    woken_at, sender = context.Pipe(duplex=False)
    waiter = context.Process(target=_waiter, args=(url, run, key, bare, rounds, sender))
    waiter.start()
    samples = []
    for _ in range(rounds):
        while not _waiter_blocked(client):
            pass
        began = time.perf_counter_ns()
        if bare:
            client.xadd(key, FIELDS, maxlen=10_000, approximate=True)
        else:
            log.append(run, [EVENT])
        samples.append((woken_at.recv() - began) / 1e6)
    waiter.join()
    client.delete(key)
    return samples


def _waiter_blocked(client: Client) -> bool:
    """True once the waiter's connection sits in XREAD BLOCK on the server."""
    clients = client.client_list()
    return any(c["name"] == WAITER and "b" in c["flags"] for c in clients)


def _fresh_run(client: Client) -> tuple[int, str]:
    """A new run; on a Redis Cluster node, one whose key that node serves (so
    pointing --url at a master measures that master)."""
    while True:
        run = random.randrange(10**15, 10**16)
        try:
            client.delete(stream_key(run))
        except MovedError:
            continue
        return run, stream_key(run)


def _row(label: str, ours: float, bare: float, unit: str) -> None:
    digits = 3 if unit == "ms" else 1
    figures = f"{ours:>12,.{digits}f}{bare:>14,.{digits}f}"
    print(f"{label:<34}{figures}  {unit:<9}{ours / bare:>6.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--n", type=int, default=5000, help="single appends to time")
    args = parser.parse_args(argv)
    resource = redis_client(args.url, cluster=False, timeout=2.0)
    client = next(resource)
    try:
        _report(args.url, args.n, client)
    finally:
        resource.close()


def _report(url: str, n: int, client: Client) -> None:
    log = RedisStreamEventLog(client)
    version = client.info("server")["redis_version"]
    print(f"Redis {version} at {url}; hiredis {'on' if HIREDIS_AVAILABLE else 'off'}")
    print(f"event: V2 envelope with {len(EVENT.data_json)} bytes of data; n={n}")
    print(f"{'':<34}{'adapter':>12}{'bare redis-py':>14}  {'unit':<9}{'ratio':>7}")
    single = single_latency(client, log, n)
    _row("single append p50", _p(single[0], 50), _p(single[1], 50), "µs")
    _row("single append p99", _p(single[0], 99), _p(single[1], 99), "µs")
    print(
        f"  (XADD sent on the adapter's lane: p50 {_p(single[2], 50):.1f} µs; "
        f"the adapter's append is {_p(single[0], 50) / _p(single[2], 50):.2f}x that)"
    )
    rates = {}
    for size in (1, 10, 100):
        rates[size] = throughput(client, log, size, max(n, 10 * size) * 2)
        _row(f"throughput, batches of {size}", *rates[size], "events/s")
    rounds = max(n // 20, 50)
    wakes = [wake_up(url, client, log, bare, rounds) for bare in (False, True)]
    _row("wake-up append -> waiter p50", _p(wakes[0], 50), _p(wakes[1], 50), "ms")
    _row("wake-up append -> waiter p99", _p(wakes[0], 99), _p(wakes[1], 99), "ms")
    ratio = _p(single[0], 50) / _p(single[1], 50)
    _verdict("single-append p50 <= 1.3x bare XADD", ratio <= 1.3, f"{ratio:.2f}x")
    rate = rates[100][0]
    _verdict("batch-100 >= 20,000 events/s", rate >= 20_000, f"{rate:,.0f}/s")
    wake = _p(wakes[0], 50)
    _verdict("wake-up p50 <= 1 ms", wake <= 1, f"{wake:.3f} ms")


def _verdict(target: str, met: bool, figure: str) -> None:
    print(f"target {target:<38} {figure:>14}  {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
