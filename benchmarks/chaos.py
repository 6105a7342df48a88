"""The chaos checker: two service processes sharing one Redis and one MariaDB
database with the SQL fallback, producers appending with idempotency keys and
retrying on any failure, SSE followers reconnecting with Last-Event-ID, and a
seeded random schedule of faults. At the end every run must be one log.

    .venv/bin/python -m benchmarks.chaos --minutes 10 --seed 7
    .venv/bin/python -m benchmarks.chaos --seconds 60 --seed 7 \
        --faults redis_sigstop,service_kill
    .venv/bin/python -m benchmarks.chaos --minutes 3 --seed 5 --cluster
    .venv/bin/python -m benchmarks.chaos --minutes 5 --seed 11 --logs /tmp/chaos

Exit status 1 if any run breaks a guarantee of docs/contract.md §4 ("Guarantees
in any deployment"); every violation is printed with its run and sequence.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks.chaos_check import check_runs
from benchmarks.chaos_clients import Producer, RunRecord, Tally, request
from benchmarks.chaos_faults import CLUSTER_FAULTS, FAULTS, Deployment, deployment

SIMULATED = {"teams": 1, "workers_per_team": 2, "tokens_per_worker": 60,
             "chunk_delay_ms": 20}  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float)
    length.add_argument("--seconds", type=float)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--producers", type=int, default=3)
    parser.add_argument("--logs", type=Path, help="a folder to keep the service "
                        "processes' output in, one file per process start")  # fmt: skip
    parser.add_argument("--cluster", action="store_true",
                        help="a 3-master Redis Cluster, a replica each")  # fmt: skip
    parser.add_argument("--faults", help="comma-separated kinds: "
                        + ", ".join(FAULTS) + "; with --cluster: "
                        + ", ".join(CLUSTER_FAULTS) + " (default: all)")  # fmt: skip
    args = parser.parse_args(argv)
    args.duration = args.seconds or (args.minutes or 1.0) * 60
    args.faults_of = CLUSTER_FAULTS if args.cluster else FAULTS
    args.kinds = [kind for kind in (args.faults or "").split(",") if kind]
    args.kinds = args.kinds or list(args.faults_of)
    unknown = set(args.kinds) - set(args.faults_of)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    return args


def inject(dep: Deployment, args: argparse.Namespace, rng: random.Random) -> list[str]:
    """Faults one after another, each 1-5 s, 2-5 s of calm between them."""
    schedule, began = [], time.monotonic()
    while time.monotonic() - began < args.duration - 8:
        time.sleep(rng.uniform(2.0, 5.0))
        kind = rng.choice(args.kinds)
        at, length = time.monotonic() - began, rng.uniform(1.0, 5.0)
        what = args.faults_of[kind](dep, rng, length)
        schedule.append(f"{at:7.1f}s  {length:4.1f}s  {kind:20} {what}")
        print(schedule[-1], flush=True)
    return schedule


def start_simulated(dep: Deployment, rng: random.Random, stop: threading.Event,
                    tally: Tally) -> None:  # fmt: skip
    while not stop.wait(rng.uniform(2.0, 4.0)):
        body = {"task": "chaos", "executor": "simulated",
                "params": {**SIMULATED, "seed": rng.randrange(1000)}}  # fmt: skip
        reply = request(dep.urls, rng, stop, tally, "POST", "/runs", (201,), json=body)
        if reply is not None:
            tally.add(RunRecord(reply.json()["id"], "simulated"))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    rng, tally, stop = random.Random(args.seed), Tally(), threading.Event()
    shape = "a 3-master cluster" if args.cluster else "one Redis"
    print(f"chaos: {args.duration:.0f} s on {shape}, seed {args.seed}, "
          f"faults {args.kinds}")  # fmt: skip
    if args.logs is not None:
        args.logs.mkdir(parents=True, exist_ok=True)
    with deployment(args.cluster, args.logs) as dep:
        producers = [
            Producer(f"p{n}", dep.urls, args.seed * 100 + n, tally)
            for n in range(args.producers)
        ]
        threads = [threading.Thread(target=p.run, daemon=True) for p in producers]
        threads.append(threading.Thread(
            target=start_simulated, args=(dep, random.Random(args.seed + 1), stop,
                                          tally), daemon=True))  # fmt: skip
        for thread in threads:
            thread.start()
        schedule = inject(dep, args, rng)
        stop.set()
        for producer in producers:
            producer.stop.set()
        for thread in threads:
            thread.join(60)
        for producer in producers:
            producer.abandon.set()
        followers = [f for p in producers for f in p.followers]
        for follower in followers:
            follower.join(30)
        violations = check_runs(dep.urls, tally.runs)
    report(schedule, tally, violations)
    return 1 if violations else 0


def report(schedule: list[str], tally: Tally, violations: list[str]) -> None:
    kinds = Counter(line.split()[2] for line in schedule)
    acknowledged = sum(len(r.acknowledged) for r in tally.runs)
    print(f"faults: {len(schedule)} {dict(kinds)}")
    print(f"runs: {len(tally.runs)} "
          f"({sum(r.executor == 'external' for r in tally.runs)} external), "
          f"events acknowledged: {acknowledged}, retried requests: {tally.retries}, "
          f"follower reconnects: {tally.reconnects}")  # fmt: skip
    print(f"violations: {len(violations)}")
    by_run = Counter(line.partition(":")[0] for line in violations)
    shown: Counter[str] = Counter()
    for line in violations:
        run = line.partition(":")[0]
        shown[run] += 1
        if shown[run] <= 3:
            print(f"  {line}")
        elif shown[run] == 4:
            print(f"  {run}: ... {by_run[run] - 3} more")


if __name__ == "__main__":
    sys.exit(main())
