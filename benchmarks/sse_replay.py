"""Full SSE replay of a finished 10,000-event run, over real HTTP.

    .venv/bin/python -m benchmarks.sse_replay [--events 10000] [--times 7]

`runstream serve` (one worker) on a Redis event log; the events are appended
straight into Redis. Prints the time from the request to the `close` frame, and
the worker's CPU time per replay (steadier on a machine shared with other work:
there the wall time also counts waits for a core).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time

import redis

from benchmarks.load_parts import Process, finished_event, token_event
from benchmarks.load_targets import Runstream
from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"  # flushed: never a db the tests use (9, 13)


def replay_seconds(port: int, run_id: int) -> float:
    began = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        request = f"GET /runs/{run_id}/events/stream HTTP/1.1\r\nHost: bench\r\n\r\n"
        sock.sendall(request.encode())
        tail = b""
        while b"event: close" not in tail:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("the stream ended before close")
            tail = tail[-64:] + chunk
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description="SSE replay of a finished run")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--times", type=int, default=7)
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="a db it may flush")
    args = parser.parse_args()
    redis.Redis.from_url(args.redis).flushdb()
    log = RedisStreamEventLog(next(redis_client(args.redis, timeout=5.0)),
                              maxlen=100_000, ttl_seconds=3600)  # fmt: skip
    target = Runstream(args.redis, log, 1)
    try:
        (run_id,) = target.make_runs(1)
        for start in range(0, args.events, 1000):
            count = min(1000, args.events - start)
            log.append(run_id, [token_event(start + i) for i in range(count)])
        log.append(run_id, [finished_event()])
        replay_seconds(target.port, run_id)  # warm: the first read, imports
        (worker,) = [Process(pid) for pid in target.workers()]
        times, cpu = [], []
        for _ in range(args.times):
            before = worker.cpu_seconds()
            times.append(replay_seconds(target.port, run_id))
            cpu.append(worker.cpu_seconds() - before)
    finally:
        target.stop()
    print(f"full SSE replay of {args.events} events: median "
          f"{statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f}"
          f" ms, worst {max(times) * 1000:.0f} ms ({args.times} runs); worker CPU "
          f"median {statistics.median(cpu) * 1000:.0f} ms; load average "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
