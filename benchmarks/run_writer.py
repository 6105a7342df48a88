"""Emit cost and the event writer's sustained rate into Redis, one run flat out.

    .venv/bin/python -m benchmarks.run_writer [--url URL] [--teams 4]
        [--workers 5] [--tokens 10000] [--chunk 1]

A simulated run streams tokens as fast as it can (no pacing, one token per
`llm.stream` event by default) through the run manager and the event writer
into a real Redis (db 9 by default). Prints the cost of each emit as the
executor sees it, and the events per second the writer stored, from the run's
start until everything it emitted was in Redis. For scale, the same run into a
sink that discards events shows how fast the executor alone produces them.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass, replace

from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.codec import stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.adapters.simulated.executor import SimulatedExecutor
from runstream.application.event_writer import EventWriter, WriterStats
from runstream.application.run_manager import RunManager
from runstream.application.start_run import RunRequest
from runstream.domain.model import JsonObject, JsonValue, NewEvent, Run, RunStatus
from runstream.domain.ports import Cancellation, EventSink


class TimedExecutor:
    """The simulated executor with every emit timed."""

    def __init__(self) -> None:
        self.inner = SimulatedExecutor()
        self.costs: list[float] = []
        self.returned_at = 0.0

    def prepare(self, params: JsonObject) -> JsonValue:
        return self.inner.prepare(params)

    def run(self, run: Run, sink: EventSink, cancel: Cancellation) -> JsonValue:
        costs, emit, clock = self.costs, sink.emit, time.perf_counter

        class Timed:
            def emit(self, event: NewEvent) -> None:
                began = clock()
                emit(event)
                costs.append(clock() - began)

        try:
            return self.inner.run(run, Timed(), cancel)
        finally:
            self.returned_at = clock()


class OffsetRuns(InMemoryRunRepository):
    """Run ids far from any a test or another benchmark uses on the same db."""

    def __init__(self, offset: int) -> None:
        super().__init__()
        self._offset = offset
        self.used: list[int] = []

    def add(self, run: Run) -> Run:
        stored = self._shift(super().add(run), self._offset)
        self.used.append(stored.id)
        return stored

    def get(self, run_id: int) -> Run:
        return self._shift(super().get(run_id - self._offset), self._offset)

    def update(self, run: Run, expected: RunStatus) -> Run:
        stored = super().update(self._shift(run, -self._offset), expected)
        return self._shift(stored, self._offset)

    @staticmethod
    def _shift(run: Run, by: int) -> Run:
        return replace(run, id=run.id + by)


def producer_only(params: JsonObject) -> tuple[int, float]:
    """Events and seconds for the executor alone, into a sink that drops them."""
    count = 0

    class Drop:
        def emit(self, event: NewEvent) -> None:
            nonlocal count
            count += 1

    began = time.perf_counter()
    SimulatedExecutor().run(
        Run(task="t", id=1, params=params), Drop(), threading.Event()
    )
    return count, time.perf_counter() - began


def micros(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=1000)[round(fraction * 1000) - 1] * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--teams", type=int, default=4)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=1)
    args = parser.parse_args()
    params: JsonObject = {
        "teams": args.teams,
        "workers_per_team": args.workers,
        "tokens_per_worker": args.tokens,
        "chunk_size": args.chunk,
        "chunk_delay_ms": 0,
        "think_ms": 0,
        "seed": 1,
    }
    produced, alone = producer_only(params)
    print(
        f"executor alone:  {produced:,} events in {alone:.2f} s "
        f"= {produced / alone:,.0f} events/s"
    )

    # The Resource generator closes its client once the loop ends.
    for client in redis_client(args.url, timeout=2.0):
        log = RedisStreamEventLog(client, maxlen=1_000_000, ttl_seconds=600)
        runs = OffsetRuns(time.time_ns() // 1000)
        try:
            report(measure(runs, log, params))
        finally:
            for run_id in runs.used:
                client.delete(stream_key(run_id))


@dataclass(frozen=True)
class Measured:
    run: Run
    stored: int
    costs: list[float]
    produced_in: float
    took: float
    stats: WriterStats


def measure(runs: OffsetRuns, log: RedisStreamEventLog, params: JsonObject) -> Measured:
    writer = EventWriter(log)
    executor = TimedExecutor()
    manager = RunManager(runs, log, writer, {"simulated": executor})
    began = time.perf_counter()
    run = manager.start(RunRequest("benchmark", "simulated", params=params))
    manager.join(run.id)
    took = time.perf_counter() - began
    manager.shutdown(30)
    info = log.info(run.id)
    return Measured(
        runs.get(run.id),
        info.length if info else 0,
        executor.costs,
        executor.returned_at - began,
        took,
        writer.stats(),
    )


def report(found: Measured) -> None:
    costs, stats, took = found.costs, found.stats, found.took
    print(f"run {found.run.id}: {found.run.status.value}, {found.stored:,} in Redis")
    print(
        f"emit cost:       p50 {micros(costs, 0.5):.1f} us, "
        f"p99 {micros(costs, 0.99):.1f} us, p99.9 {micros(costs, 0.999):.1f} us, "
        f"max {max(costs) * 1e6:.0f} us  ({len(costs):,} emits)"
    )
    print(
        f"executor:        returned after {found.produced_in:.2f} s "
        f"= {len(costs) / found.produced_in:,.0f} events/s emitted"
    )
    print(
        f"writer:          {stats.events_written:,} events stored in {took:.2f} s "
        f"= {stats.events_written / took:,.0f} events/s sustained into Redis"
    )
    print(
        f"                 {stats.batches:,} appends, "
        f"{stats.events_written / max(stats.batches, 1):.0f} events per append, "
        f"{stats.blocked_emits} blocked emits, {stats.retries} retries"
    )


if __name__ == "__main__":
    main()
