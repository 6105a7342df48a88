"""Reading part of a run: full vs filtered vs coalesced replay over HTTP.

    .venv/bin/python -m benchmarks.reading [--backend memory|sqlite] [--repeat 10]

Starts `runstream serve` (one worker), stores a finished run of 10,000 events
(10 agents streaming bursts of 20 chunks in turn), then replays it through the
history API (pages of 1,000, following `next_id`) and the SSE stream, whole,
filtered to one agent (`agent_id=`, 10 % of the events) and coalesced
(`coalesce=llm.stream`). For each: bytes received, the server's CPU time (user +
system of its processes, from /proc: the mean of `--repeat` replays) and wall
time at the client (their median).
Target: the filtered replay costs at most half the unfiltered one.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tests.support.live_server import LiveServer
from tests.support.sql_backend import fresh_sqlite_url

AGENTS = [f"agent-{n}" for n in range(10)]
BURST, ROUNDS = 20, 50  # 50 rounds x 10 agents x 20 chunks = 10,000 events
CASES = {"full": "", "filtered": "agent_id=agent-3", "coalesced": "coalesce=llm.stream"}
TICKS = os.sysconf("SC_CLK_TCK")


def chunk(agent: str, number: int) -> dict[str, object]:
    source = {"agent_id": agent, "agent_type": "worker", "agent_name": agent.title(),
              "team_name": "research"}  # fmt: skip
    return {"event": {"category": "llm", "action": "stream"}, "source": source,
            "data": {"content": f"token {number} of the analysis "}}  # fmt: skip


def store_run(url: str) -> int:
    run = requests.post(f"{url}/runs", json={"task": "bench", "executor": "external"})
    run_id = int(run.json()["id"])
    for round_number in range(ROUNDS):
        events = [chunk(agent, round_number * BURST + i)
                  for agent in AGENTS for i in range(BURST)]  # fmt: skip
        answer = requests.post(f"{url}/runs/{run_id}/events", json={"events": events})
        answer.raise_for_status()
    requests.post(f"{url}/runs/{run_id}/finish", json={"status": "completed"})
    return run_id


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and its children (gunicorn's worker)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
        except OSError:
            continue
        pending += [int(child) for child in children.split()]
    return total


def history(url: str, run_id: int, query: str) -> int:
    """Bytes of every page, following next_id from the start."""
    received, start = 0, "-"
    with requests.Session() as session:
        while start:
            answer = session.get(
                f"{url}/runs/{run_id}/events?start_id={start}&limit=1000&{query}"
            )
            received += len(answer.content)
            start = answer.json()["next_id"]
    return received


def stream(url: str, run_id: int, query: str) -> int:
    """Bytes of the SSE replay of the finished run, up to `close`."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=60)
    try:
        connection.request("GET", f"/runs/{run_id}/events/stream?{query}")
        response = connection.getresponse()
        received = 0
        while block := response.read1(65536):
            received += len(block)
        return received
    finally:
        connection.close()


def measure(
    server: LiveServer,
    read: Callable[[str, int, str], int],
    run_id: int,
    query: str,
    repeat: int,
) -> tuple[int, float, float]:
    """Bytes of one replay, mean server CPU per replay (the kernel counts it in
    10 ms ticks, so over all of them) and median wall time."""
    walls, cpu = [], server_cpu(server.process.pid)
    for _ in range(repeat):
        began = time.perf_counter()
        received = read(server.url, run_id, query)
        walls.append(time.perf_counter() - began)
    cpu = (server_cpu(server.process.pid) - cpu) / repeat
    return received, cpu, statistics.median(walls)


def report(server: LiveServer, run_id: int, repeat: int) -> None:
    for name, read in (("history", history), ("SSE", stream)):
        figures = {}
        for case, query in CASES.items():
            received, cpu, wall = measure(server, read, run_id, query, repeat)
            figures[case] = (received, cpu, wall)
            print(f"{name:8} {case:10} {received / 1e6:8.2f} MB {cpu * 1000:8.0f} ms "
                  f"CPU {wall * 1000:8.0f} ms wall")  # fmt: skip
        full, part = figures["full"], figures["filtered"]
        ok = part[1] <= full[1] / 2 and part[2] <= full[2] / 2
        print(f"{name:8} filtered/full: {part[0] / full[0]:.2f} bytes, "
              f"{part[1] / full[1]:.2f} CPU, {part[2] / full[2]:.2f} wall "
              f"(target <= 0.5: {'ok' if ok else 'OVER TARGET'})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["memory", "sqlite"], default="memory")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    env = {"RUNSTREAM_EVENT_LOG": "memory", "RUNSTREAM_RUN_REPOSITORY": "memory"}
    with fresh_sqlite_url() as database:
        if args.backend == "sqlite":
            env = {"RUNSTREAM_EVENT_LOG": "sql", "RUNSTREAM_RUN_REPOSITORY": "sql",
                   "RUNSTREAM_DATABASE_URL": database}  # fmt: skip
        server = LiveServer(env)
        try:
            run_id = store_run(server.url)
            print(f"{args.backend}: run {run_id}, {ROUNDS * BURST * len(AGENTS) + 2} "
                  f"events, {args.repeat} replays each")  # fmt: skip
            report(server, run_id, args.repeat)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
