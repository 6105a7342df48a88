"""Domain errors. Each family maps to one contract error code at the edges."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error raised across a layer boundary."""


class InvalidRequest(DomainError):
    """A malformed body or parameter; the message says which."""


class InvalidEvent(InvalidRequest):
    """An event that breaks a rule of the envelope (category, action, source, data)."""


class InvalidEventId(DomainError):
    """A text that is not an event id (or a bound where bounds are allowed)."""


class EventTooLarge(DomainError):
    """A serialized event over the configured size limit."""


class RunNotFound(DomainError):
    """No such run, or not visible to the caller."""


class RunExpired(DomainError):
    """The run exists, but its events are no longer kept anywhere."""


class RunNotActive(DomainError):
    """Appending to, finishing or cancelling a run that has already finished."""


class InvalidTransition(RunNotActive):
    """A run status change that the state machine forbids."""


class StorageUnavailable(DomainError):
    """A backend (event log or run repository) cannot be reached."""


class Unauthorized(DomainError):
    """Authentication is on and the request carries no valid credential."""


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key the run already used, sent again with another body."""


class LogBehind(StorageUnavailable):
    """A copy of a run's log (a Redis stream) ends before the highest sequence
    known to have been acknowledged: it lost events. `last_sequence` is what it
    still holds (0: nothing), `last_id` its newest id ("" when empty)."""

    def __init__(self, message: str, last_sequence: int, last_id: str) -> None:
        super().__init__(message)
        self.last_sequence = last_sequence
        self.last_id = last_id


class LogLost(StorageUnavailable):
    """The store lost every log it held since this process learnt its
    incarnation (Redis restarted without its data, or was flushed): nothing
    was stored. Before anyone appends again, the events still queued for the
    archive anywhere must reach it, or a process knowing no event of a run
    would number its next event from what the store still holds."""


class KeyNotIndexed(StorageUnavailable):
    """A hot copy of a run's log cannot tell whether an idempotency key is new
    (its key index does not cover the whole run, or the key's events are no
    longer in it), and the append plan asked it not to search: nothing was
    stored; the caller asks the tier that can tell."""


class SubscriberLagged(DomainError):
    """A live subscriber fell further behind than the service keeps for it; it
    should resume from the log (its client reconnects with Last-Event-ID)."""
