"""The producer side of benchmarks.ingest, in its own process so its CPU is
not the service's: `python -m benchmarks.ingest_producers MODE URL RATE SECONDS
LINGER RUN_ID...` sends RATE tokens/s to every run for SECONDS and prints a JSON line
({"sent", "seconds"}). Every token's data carries `sent`, the Unix time it was
produced, for the subscribers' emit-to-delivery latency.

Modes: `post` (one POST per token, a keep-alive connection per run), `client`
(the producer client, one per run, emitting single tokens, on its stream),
`client-post` (the same, with `stream=False`: keyed POSTs), `batch` (a POST
of 100 tokens per run, each as soon as its 100th token is produced).
"""

from __future__ import annotations

import json
import sys
import threading
import time

from runstream.entrypoints.producer.transport import Transport
from runstream.producer import Agent, Producer

WRITER = Agent("writer", "worker", "Writer", "research").as_json()
PAD = "Analysing the quarterly figures, the team finds that "


def token(n: int, sent: float) -> dict[str, object]:
    return {"event": {"category": "llm", "action": "stream"}, "source": WRITER,
            "data": {"content": PAD, "n": n, "sent": round(sent, 6)}}  # fmt: skip


def paced(rate: float, seconds: float, start: float):  # type: ignore[no-untyped-def]
    """(n, due time) of each token, sleeping until it is due."""
    for n in range(int(rate * seconds)):
        due = start + n / rate
        if (delay := due - time.time()) > 0:
            time.sleep(delay)
        yield n, due


def post_tokens(url: str, run_id: int, rate: float, seconds: float, start: float,
                batch: int) -> None:  # fmt: skip
    """POSTs on one keep-alive connection (the client's own transport, with
    TCP_NODELAY, so no request waits on Nagle's algorithm)."""
    transport = Transport(url, timeout=30)
    waiting: list[dict[str, object]] = []
    for n, due in paced(rate, seconds, start):
        waiting.append(token(n, due))
        if len(waiting) < batch:
            continue
        body = waiting[0] if batch == 1 else {"events": waiting}
        transport.request("POST", f"/runs/{run_id}/events", json.dumps(body).encode())
        waiting = []
    transport.close()


def client_tokens(url: str, run_ids: list[int], rate: float, seconds: float,
                  start: float, linger: float, stream: bool) -> None:  # fmt: skip
    producers = [Producer(url, linger=linger, stream=stream) for _ in run_ids]
    runs = [p.attach(run_id) for p, run_id in zip(producers, run_ids, strict=True)]
    for n, due in paced(rate * len(runs), seconds, start):
        data = {"content": PAD, "n": n // len(runs), "sent": round(due, 6)}
        runs[n % len(runs)].emit("llm", "stream", data, WRITER)
    for producer in producers:
        report = producer.close(60)
        assert report.ok, report.undelivered[:3]


def main() -> None:
    mode, url, rate, seconds = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:5])
    linger = float(sys.argv[5])
    run_ids = [int(r) for r in sys.argv[6:]]
    start = time.time() + 0.5
    if mode in ("client", "client-post"):
        client_tokens(url, run_ids, rate, seconds, start, linger, mode == "client")
    else:
        size = 100 if mode == "batch" else 1
        step = 1 / rate / len(run_ids)
        threads = [
            threading.Thread(target=post_tokens,
                             args=(url, r, rate, seconds, start + i * step, size))
            for i, r in enumerate(run_ids)
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.time() - start
    print(json.dumps({"sent": int(rate * seconds) * len(run_ids), "seconds": elapsed}))


if __name__ == "__main__":
    main()
