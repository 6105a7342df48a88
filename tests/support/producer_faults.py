"""An agent that keeps emitting through the producer client while a test
breaks things, and what it emitted, to compare with the run's log."""

from __future__ import annotations

import threading
import time
from typing import Any

from runstream.producer import Agent, DeliveryReport, Producer, RetryPolicy
from tests.support.polling import wait_until

WORKER = Agent("worker-1", "worker", "Worker 1", "team")


class SteadyAgent:
    """Emits `total` numbered tokens, `per_second` at most, from a thread."""

    def __init__(self, url: str, total: int, per_second: float = 500.0) -> None:
        retry = RetryPolicy(first_delay=0.02, max_delay=0.5, retry_for=None)
        self.producer = Producer(url, linger=0.005, retry=retry, request_timeout=5)
        self.run = self.producer.create_run("keep producing")
        self.texts = [f"token-{n:05d} " for n in range(total)]
        self._pause = 1.0 / per_second
        self._thread = threading.Thread(target=self._emit, daemon=True)
        self._thread.start()

    def _emit(self) -> None:
        for text in self.texts:
            self.run.token(text, WORKER)
            time.sleep(self._pause)

    def stored(self) -> int:
        return self.producer.report().stored

    def await_stored(self, count: int, timeout: float = 60.0) -> None:
        wait_until(lambda: self.stored() >= count, f"{count} events stored", timeout)

    def finish(self, timeout: float = 120.0) -> tuple[Any, DeliveryReport]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the agent is still emitting"
        answer = self.run.finish(timeout=timeout)
        return answer, self.producer.close(timeout)


def streamed(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["content"] for e in events if e["event"]["action"] == "stream"]
