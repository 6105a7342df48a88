"""The chaos checker's clients: producers that append with idempotency keys
and retry on any failure, and SSE followers that reconnect with Last-Event-ID."""

from __future__ import annotations

import http.client
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.support.sse_client import SseStream

Urls = Callable[[], list[str]]


@dataclass
class RunRecord:
    """What clients were told about one run."""

    run_id: int
    executor: str
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)
    followed: list[str] | None = None
    follower_gaps: int = 0


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    runs: list[RunRecord] = field(default_factory=list)
    retries: int = 0
    reconnects: int = 0

    def add(self, record: RunRecord) -> None:
        with self.lock:
            self.runs.append(record)

    def retried(self) -> None:
        with self.lock:
            self.retries += 1


def request(
    urls: Urls, rng: random.Random, stop: threading.Event, tally: Tally,
    method: str, path: str, accept: tuple[int, ...], **kwargs: Any,
) -> requests.Response | None:  # fmt: skip
    """The request sent to a random process until one answers with a status in
    `accept`; None if `stop` was set first."""
    while True:
        try:
            reply = requests.request(
                method, rng.choice(urls()) + path, timeout=10, **kwargs
            )
            if reply.status_code in accept:
                return reply
        except requests.RequestException:
            pass
        tally.retried()
        if stop.wait(0.05 + rng.random() * 0.1):
            return None


class Producer:
    """Creates external runs and appends numbered batches, each under its own
    Idempotency-Key, retried until acknowledged; then finishes the run."""

    def __init__(self, name: str, urls: Urls, seed: int, tally: Tally) -> None:
        self.name, self.urls, self.tally = name, urls, tally
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.abandon = threading.Event()
        self.followers: list[Follower] = []

    def run(self) -> None:
        while not self.stop.is_set():
            self._one_run()

    def _call(self, method: str, path: str, accept: tuple[int, ...], **kwargs: Any):
        return request(self.urls, self.rng, self.abandon, self.tally, method, path,
                       accept, **kwargs)  # fmt: skip

    def _one_run(self) -> None:
        body = {"task": f"chaos {self.name}", "executor": "external"}
        created = self._call("POST", "/runs", (201,), json=body)
        if created is None:
            return
        record = RunRecord(created.json()["id"], "external")
        self.tally.add(record)
        follower = Follower(record, self.urls, self.rng.random(), self.tally)
        follower.start()
        self.followers.append(follower)
        for number in range(self.rng.randint(20, 60)):
            if self.stop.is_set() and number > 5:
                break
            if not self._append(record, number):
                return
        key = {"Idempotency-Key": f"{self.name}-{record.run_id}-finish"}
        self._call("POST", f"/runs/{record.run_id}/finish", (200, 409),
                   json={"status": "completed"}, headers=key)  # fmt: skip

    def _append(self, record: RunRecord, number: int) -> bool:
        tag = f"{self.name}/{record.run_id}/{number}"
        events = [
            {"event": {"category": "system", "action": "tick"},
             "data": {"tag": tag, "part": part}}
            for part in range(self.rng.randint(1, 3))
        ]  # fmt: skip
        reply = self._call(
            "POST", f"/runs/{record.run_id}/events", (201,),
            json={"events": events}, headers={"Idempotency-Key": tag},
        )  # fmt: skip
        if reply is None:
            return False
        body = reply.json()
        parts = zip(body["ids"], body["sequences"], strict=True)
        record.acknowledged += [(i, s, f"{tag}#{n}") for n, (i, s) in enumerate(parts)]
        return True


class Follower:
    """Reads a run's stream to `close` like EventSource, through whichever
    process answers, resuming after the last id it saw."""

    def __init__(self, record: RunRecord, urls: Urls, seed: float, tally: Tally):
        self.record, self.urls, self.tally = record, urls, tally
        self.rng = random.Random(seed)
        self.stop = threading.Event()

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)
        self.stop.set()

    def run(self) -> None:
        seen: list[str] = []
        path = f"/runs/{self.record.run_id}/events/stream"
        while not self.stop.is_set():
            headers = {"Last-Event-ID": seen[-1]} if seen else {}
            try:
                if self._read(SseStream(self.rng.choice(self.urls()), path, headers,
                                        timeout=10), seen):  # fmt: skip
                    self.record.followed = seen
                    return
            except (OSError, http.client.HTTPException):
                pass
            with self.tally.lock:
                self.tally.reconnects += 1
            self.stop.wait(0.1)

    def _read(self, stream: SseStream, seen: list[str]) -> bool:
        try:
            if stream.status != 200:
                return False
            for frame in stream.events():
                if frame.event == "close":
                    return True
                if frame.event == "gap":
                    self.record.follower_gaps += 1
                elif frame.id is not None:
                    seen.append(frame.id)
            return False
        finally:
            stream.close()
