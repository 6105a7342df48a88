"""What `flush()` and `close()` tell the producer: which events were not stored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class QueueFull(Exception):
    """`emit` found the bounded queue full (at once, or after waiting its
    timeout): the event was not taken, and the caller still holds it."""


class ProducerClosed(Exception):
    """The producer was closed; it takes no more events."""


@dataclass(frozen=True)
class Undelivered:
    """An event the service did not acknowledge. `reason` is the service's
    error code (e.g. `RUN_NOT_ACTIVE`), or `UNSENT` for an event still queued
    when the producer gave up, or `UNCONFIRMED` when a request's outcome is
    unknown (the service may have stored it once, never twice), or
    `CLIENT_ERROR` when the client itself failed on it (logged)."""

    run_id: int
    event: bytes
    reason: str
    message: str = ""

    def as_json(self) -> Any:
        return json.loads(self.event)


@dataclass(frozen=True)
class DeliveryReport:
    """Counts since the producer started, and every event not stored so far."""

    stored: int
    pending: int
    undelivered: list[Undelivered] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything emitted so far is stored."""
        return self.pending == 0 and not self.undelivered
