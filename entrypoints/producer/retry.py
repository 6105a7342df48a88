"""Sending one request until the service answers it: retries with backoff on
the failures that leave nothing stored twice (every request carries its
Idempotency-Key, the same on every attempt)."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass

from runstream.entrypoints.producer.transport import (
    Answer,
    ConnectionFailed,
    ServiceError,
    Transport,
)

logger = logging.getLogger("runstream.producer")


class GaveUp(Exception):
    """No answer before the retry budget ran out or the producer gave up;
    `reason` is UNCONFIRMED when an attempt may have reached the service."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff from `first_delay` doubling up to `max_delay` (with jitter);
    `retry_for` seconds per request at most (None: until the producer closes)."""

    first_delay: float = 0.05
    max_delay: float = 2.0
    retry_for: float | None = 300.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.first_delay * 2.0 ** min(attempt, 30))
        return ceiling * (0.5 + random.random() / 2)


def send_with_retries(
    transport: Transport,
    policy: RetryPolicy,
    abandon: threading.Event,
    method: str,
    path: str,
    body: bytes,
    key: str,
) -> Answer:
    """The service's 2xx answer; ServiceError for a final refusal (4xx);
    GaveUp when retries ran out or `abandon` was set."""
    started = time.monotonic()
    ambiguous = warned = False
    for attempt in range(1 << 62):
        if abandon.is_set():
            break
        try:
            return transport.request(method, path, body, key)
        except ServiceError as err:
            if not err.retryable:
                raise
            failure: Exception = err
        except ConnectionFailed as err:
            ambiguous = ambiguous or err.sent
            if err.stale and attempt == 0:  # closed while idle: ask again now
                logger.debug(
                    "%s %s: connection closed (%s); retrying", method, path, err
                )
                continue
            failure = err
        log = logger.debug if warned else logger.warning
        log("%s %s failed (%s); retrying", method, path, failure)
        warned = True
        budget = policy.retry_for
        if budget is not None and time.monotonic() - started > budget:
            break
        if abandon.wait(policy.delay(attempt)):
            break
    reason = "UNCONFIRMED" if ambiguous else "UNSENT"
    raise GaveUp(reason, f"{method} {path}: no answer from the service")
