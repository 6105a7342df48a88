"""The rules of idempotent appends (contract.md §4), shared by every event log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from runstream.domain.errors import IdempotencyKeyReused, StorageUnavailable
from runstream.domain.model import Appended, Idempotency, RunId, StoredEvent


def marked(stored: list[StoredEvent], idempotency: Idempotency | None) -> Appended:
    """The batch as stored: its first event carries the key, if any."""
    if idempotency is not None and stored:
        stored[0] = replace(stored[0], idempotency=idempotency)
    return Appended(stored)


def replay(
    run_id: RunId,
    idempotency: Idempotency,
    kept: Sequence[StoredEvent],
    size: int,
) -> Appended:
    """The answer to a repeated key: `kept` are the log's events from the one that
    carries the key on. Same digest: the `size` events stored the first time,
    flagged as replayed; another digest: IdempotencyKeyReused."""
    first = kept[0].idempotency if kept else None
    if first is None or first.key != idempotency.key:
        raise StorageUnavailable(f"run {run_id}: the events of a known key are gone")
    if first.digest != idempotency.digest:
        raise IdempotencyKeyReused(
            f"run {run_id} already used Idempotency-Key {idempotency.key!r} "
            "for a different request"
        )
    if len(kept) < size:
        raise StorageUnavailable(
            f"run {run_id}: only {len(kept)} of the {size} events stored under "
            f"Idempotency-Key {idempotency.key!r} are kept"
        )
    return Appended(kept[:size], replayed=True)
