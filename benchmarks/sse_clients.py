"""Cheap SSE subscribers for the load benchmark: raw asyncio sockets, one process.

Protocol on stdin/stdout (JSON lines): reads `{"port", "paths"}`, opens every
stream and prints `{"connected": n}`; on `finish` waits for the streams to close
(at most `grace` seconds) and prints the results.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass, field

WAVE = 20  # connections opened at once, as browsers arriving over a second or so
SENT = re.compile(rb'"sent":([0-9.]+)')


@dataclass
class Subscriber:
    path: str
    connected: bool = False
    closed: bool = False
    received: int = 0
    duplicates: int = 0
    seen: set[bytes] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)

    def take(self, frame: bytes, now: float) -> None:
        if frame.startswith(b"event: close"):
            self.closed = True
            return
        if not frame.startswith(b"id: "):
            return
        event_id = frame[4 : frame.index(b"\n")]
        if event_id in self.seen:
            self.duplicates += 1
            return
        self.seen.add(event_id)
        found = SENT.search(frame)
        if found:
            self.received += 1
            self.latencies.append(now - float(found.group(1)))


async def subscribe(port: int, subscriber: Subscriber) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    request = (
        f"GET {subscriber.path} HTTP/1.0\r\nHost: bench\r\n"
        "Accept: text/event-stream\r\n\r\n"  # as EventSource sends it
    )
    writer.write(request.encode())
    head = await reader.readuntil(b"\r\n\r\n")
    subscriber.connected = head.startswith(b"HTTP/1.1 200") or head.startswith(
        b"HTTP/1.0 200"
    )
    rest = b""
    try:
        while not subscriber.closed and (chunk := await reader.read(1 << 18)):
            now = time.time()
            frames = (rest + chunk).split(b"\n\n")
            rest = frames.pop()
            for frame in frames:
                subscriber.take(frame, now)
    finally:
        writer.close()


async def main() -> None:
    loop = asyncio.get_running_loop()
    spec = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    subscribers = [Subscriber(path) for path in spec["paths"]]
    tasks = []
    # Opening the streams is not what is measured: allow 60 s or 30 ms each.
    deadline = time.monotonic() + max(60.0, len(subscribers) * 0.03)
    for start in range(0, len(subscribers), WAVE):
        wave = subscribers[start : start + WAVE]
        tasks += [asyncio.create_task(subscribe(spec["port"], s)) for s in wave]
        while time.monotonic() < deadline and not all(s.connected for s in wave):
            await asyncio.sleep(0.01)
    held = sum(s.connected for s in subscribers)
    print(json.dumps({"connected": held}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    held = sum(s.connected and not s.closed for s in subscribers)
    print(json.dumps({"held": held}), flush=True)
    await asyncio.wait(tasks, timeout=spec.get("grace", 15))
    latencies = sorted(x for s in subscribers for x in s.latencies)
    result = {
        "held_at_finish": held,
        "closed": sum(s.closed for s in subscribers),
        "received": sum(s.received for s in subscribers),
        "duplicates": sum(s.duplicates for s in subscribers),
        "latency": {q: _quantile(latencies, q) for q in ("0.5", "0.95", "0.99")},
    }
    print(json.dumps(result), flush=True)


def _quantile(values: list[float], q: str) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(float(q) * len(values)))]


if __name__ == "__main__":
    asyncio.run(main())
