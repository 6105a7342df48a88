"""Pieces of the SSE load benchmark: processes, the event producer, measurements."""

from __future__ import annotations

import heapq
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runstream.domain.model import AgentType, Category, NewEvent, Source, dump_json

SOURCE = Source("writer", AgentType.WORKER, "Writer", "research")
PAD = "Analysing the quarterly figures, the team finds that " * 3
TICKS = os.sysconf("SC_CLK_TCK")


def token_event(n: int) -> NewEvent:
    data = {"content": PAD, "n": n, "sent": round(time.time(), 6)}
    return NewEvent(Category.LLM, "stream", SOURCE, dump_json(data))


def finished_event() -> NewEvent:
    return NewEvent(Category.LIFECYCLE, "completed", None, '{"status":"completed"}')


def produce(
    append: Callable[[int, list[NewEvent]], object],
    run_ids: list[int],
    rate: float,
    seconds: float,
) -> int:
    """Append `rate` events per second to every run for `seconds`, the runs'
    schedules spread evenly over each interval. Returns how many per run."""
    start = time.monotonic() + 0.2
    per_run = int(rate * seconds)
    due = [(start + i / len(run_ids) / rate, i, 0) for i in range(len(run_ids))]
    heapq.heapify(due)
    while due:
        when, index, count = heapq.heappop(due)
        delay = when - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        append(run_ids[index], [token_event(count)])
        if count + 1 < per_run:
            heapq.heappush(due, (when + 1 / rate, index, count + 1))
    return per_run


@dataclass
class Process:
    """CPU seconds and resident memory of a process, read from /proc."""

    pid: int

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_mib(self) -> float:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except OSError:
                continue
            if parent == pid:
                found.append(int(entry))
    return found


class Clients:
    """The subscriber process (benchmarks.sse_clients)."""

    def __init__(self, port: int, paths: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sse_clients"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._send({"port": port, "paths": paths, "grace": 20})
        self.connected = int(self._receive()["connected"])

    def finish(self) -> int:
        """Tell the clients production is over; how many streams they hold."""
        self._send("finish")
        return int(self._receive()["held"])

    def results(self) -> dict[str, Any]:
        found = self._receive()
        self.process.wait(timeout=30)
        return found

    def _send(self, message: object) -> None:
        assert self.process.stdin is not None
        text = message if isinstance(message, str) else json.dumps(message)
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        found: dict[str, Any] = json.loads(self.process.stdout.readline())
        return found
