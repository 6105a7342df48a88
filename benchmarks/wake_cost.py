"""What one live append costs the reader before any subscriber sees it.

    .venv/bin/python -m benchmarks.wake_cost [--seconds 5] [--runs 100] [--rate 200]

The hub's reader waits in `XREAD BLOCK` over every watched run (`StreamWait`).
A producer process appends to one run at a time, `--rate` appends per second
spread evenly over `--runs` runs (sse_load's 1,000-subscriber phase: 200/s over
100 runs), and the reader follows them as the hub does. Printed: the reader
process's CPU per event (user + system, from the kernel), with gevent's monkey
patching (as in the server's workers) and with plain blocking sockets, next to
the same reads when the events are already there (no wake-up) and a bare socket
wake-up without Redis. Each mode runs in a process of its own.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"  # never a db the tests use (9, 13)
FIRST_RUN = 900_000_000  # run ids far from sse_load's (which start at 1)
MODES = ("blocking", "ready", "bare")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--gevent", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode is not None:
        return measure(args)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for mode in MODES:
        for patched in (True, False):
            extra = ["--gevent"] if patched else []
            command = [sys.executable, "-m", "benchmarks.wake_cost", "--mode", mode]
            for name in ("seconds", "runs", "rate", "redis"):
                command += [f"--{name}", str(getattr(args, name))]
            subprocess.run([*command, *extra], check=True)
    return 0


def measure(args: argparse.Namespace) -> int:
    if args.gevent:
        from gevent import monkey

        monkey.patch_all()
    label = f"{args.mode:8} {'gevent' if args.gevent else 'plain':6}"
    bare = args.mode == "bare"
    per = bare_wakes(args.rate, args.seconds) if bare else reads(args)
    print(f"{label} CPU per event {per * 1e6:6.0f} us")
    return 0


def bare_wakes(rate: float, seconds: float) -> float:
    """CPU per wake-up of a reader blocked on a socket that a forked process
    writes a byte to `rate` times per second."""
    reader, writer = socket.socketpair()
    child = os.fork()
    if child == 0:  # pragma: no cover - the writer
        due = time.monotonic()
        while True:
            due += 1 / rate
            time.sleep(max(0.0, due - time.monotonic()))
            writer.send(b"x")
    try:
        count, began, ends = 0, cpu(), time.monotonic() + seconds
        while time.monotonic() < ends:
            count += len(reader.recv(64))
        return (cpu() - began) / count
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)


def reads(args: argparse.Namespace) -> float:
    from benchmarks.load_parts import token_event
    from runstream.adapters.redis_stream.client import redis_client
    from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
    from runstream.application.live.heads import RunHeads

    client = next(redis_client(args.redis, timeout=5.0))
    log = RedisStreamEventLog(client, maxlen=10_000, ttl_seconds=600)
    runs = list(range(FIRST_RUN, FIRST_RUN + args.runs))
    heads, ids = RunHeads(), {}
    for run_id in runs:
        client.delete(f"run:{run_id}:events")
        first, last = log.append(run_id, [token_event(0), token_event(1)])
        heads.set(run_id, last.id)
        ids[run_id] = (first.id, last.id)
    ready = args.mode == "ready"  # no producer: one run one event behind
    command = [sys.executable, "-c", PRODUCER, args.redis, str(args.rate)]
    producer = None if ready else subprocess.Popen([*command, *map(str, runs)])
    try:
        time.sleep(1.0)  # the producer is running
        count, began, ends = 0, cpu(), time.monotonic() + args.seconds
        while time.monotonic() < ends:
            if ready:
                heads.set(runs[count % len(runs)], ids[runs[count % len(runs)]][0])
            found = log.wait(heads.snapshot(), 0.05)
            for run_id, events in found.items():
                heads.set(run_id, ids[run_id][1] if ready else events[-1].id)
                count += len(events)
        return (cpu() - began) / max(count, 1)
    finally:
        if producer is not None:
            producer.kill()
            producer.wait()
        client.delete(*(f"run:{run_id}:events" for run_id in runs))


def cpu() -> float:
    times = os.times()
    return times.user + times.system


PRODUCER = """
import sys, time
from benchmarks.load_parts import token_event
from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
log = RedisStreamEventLog(next(redis_client(sys.argv[1], timeout=5.0)),
                          maxlen=10_000, ttl_seconds=600)
rate, runs = float(sys.argv[2]), [int(r) for r in sys.argv[3:]]
due, n = time.monotonic(), 0
while True:
    due += 1 / rate
    time.sleep(max(0.0, due - time.monotonic()))
    log.append(runs[n % len(runs)], [token_event(n)])
    n += 1
"""


if __name__ == "__main__":
    sys.exit(main())
