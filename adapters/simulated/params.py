"""The params of a simulated run: defaults, bounds, and clear refusals."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from runstream.adapters.simulated.corpus import LANGUAGES
from runstream.domain.errors import InvalidRequest
from runstream.domain.model import JsonObject

FAILURE_POINTS = ("planning", "dispatch", "streaming", "aggregation")
MAX_TOTAL_TOKENS = 1_000_000
MAX_DURATION_MS = 3_600_000
# Bounds for runs requested over HTTP (checked by the HTTP edge, not here in
# parse_params: benchmarks play runs in-process flat out).
MAX_EVENTS_PER_RUN = 20_000
MAX_TOKEN_EVENTS_PER_SECOND = 1_000
_INTS = {
    "teams": (1, 10),
    "workers_per_team": (1, 10),
    "tokens_per_worker": (1, 100_000),
    "plan_tokens": (0, 2_000),
    "chunk_size": (1, 100),
    "chunk_delay_ms": (0, 10_000),
    "think_ms": (0, 60_000),
    "seed": (0, 2**63 - 1),
    "fail_after_tokens": (0, 100_000),
}


@dataclass(frozen=True)
class SimParams:
    """A team of `teams` x `workers_per_team` workers, each streaming
    `tokens_per_worker` tokens in chunks of `chunk_size`, one chunk every
    `chunk_delay_ms` (± `jitter`); supervisors think `think_ms` and stream
    `plan_tokens`. `seed` fixes every choice (default: the run id)."""

    teams: int = 2
    workers_per_team: int = 3
    tokens_per_worker: int = 200
    plan_tokens: int = 24
    chunk_size: int = 4
    chunk_delay_ms: int = 30
    think_ms: int = 150
    jitter: float = 0.5
    seed: int | None = None
    languages: tuple[str, ...] = LANGUAGES
    fail_at: str | None = None
    fail_after_tokens: int | None = None
    fail_message: str | None = None


def parse_params(raw: JsonObject) -> SimParams:
    """Checked params; InvalidRequest names the first bad one and its bounds."""
    known = {f.name for f in fields(SimParams)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidRequest(
            f"unknown params: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    values: dict[str, object] = {
        name: _int(name, raw[name]) for name in _INTS if raw.get(name) is not None
    }
    if raw.get("jitter") is not None:
        values["jitter"] = _fraction("jitter", raw["jitter"])
    if raw.get("languages") is not None:
        values["languages"] = _languages(raw["languages"])
    values.update(_failure(raw))
    params = SimParams(**values)  # type: ignore[arg-type]
    _check_size(params)
    return params


def _int(name: str, value: object) -> int:
    low, high = _INTS[name]
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        raise InvalidRequest(f"params.{name} must be an integer from {low} to {high}")
    return value


def _fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"params.{name} must be a number from 0 to 1")
    if not 0 <= value <= 1:
        raise InvalidRequest(f"params.{name} must be a number from 0 to 1")
    return float(value)


def _languages(value: object) -> tuple[str, ...]:
    choices = ", ".join(LANGUAGES)
    if not isinstance(value, list) or not value:
        raise InvalidRequest(f"params.languages must be a non-empty list of: {choices}")
    bad = [item for item in value if item not in LANGUAGES]
    if bad:
        raise InvalidRequest(f"params.languages: unknown {bad!r}; known: {choices}")
    return tuple(dict.fromkeys(value))


def _failure(raw: JsonObject) -> dict[str, object]:
    fail_at = raw.get("fail_at")
    if fail_at is None:
        if raw.get("fail_after_tokens") is not None or raw.get("fail_message"):
            raise InvalidRequest("params.fail_after_tokens/fail_message need fail_at")
        return {}
    if fail_at not in FAILURE_POINTS:
        raise InvalidRequest(
            f"params.fail_at must be one of: {', '.join(FAILURE_POINTS)}"
        )
    message = raw.get("fail_message")
    if message is not None and (
        not isinstance(message, str) or not 0 < len(message) <= 500
    ):
        raise InvalidRequest("params.fail_message must be a string of 1 to 500 chars")
    return {"fail_at": fail_at, "fail_message": message}


def _check_size(params: SimParams) -> None:
    total = params.teams * params.workers_per_team * params.tokens_per_worker
    if total > MAX_TOTAL_TOKENS:
        raise InvalidRequest(
            f"the run would stream {total:,} tokens (teams x workers_per_team x "
            f"tokens_per_worker); the limit is {MAX_TOTAL_TOKENS:,}"
        )
    chunks = math.ceil(params.tokens_per_worker / params.chunk_size)
    chunks += (params.teams + 2) * math.ceil(params.plan_tokens / params.chunk_size)
    estimate = chunks * params.chunk_delay_ms + (params.teams + 2) * params.think_ms
    if estimate > MAX_DURATION_MS:
        raise InvalidRequest(
            f"the run would last about {estimate // 60_000} minutes; the limit is "
            f"{MAX_DURATION_MS // 60_000} (lower chunk_delay_ms or token counts)"
        )


def estimated_events(params: SimParams) -> int:
    """About how many events the run appends (token chunks dominate)."""
    workers = params.teams * params.workers_per_team
    chunks = workers * math.ceil(params.tokens_per_worker / params.chunk_size)
    plans = (params.teams + 1) * math.ceil(params.plan_tokens / params.chunk_size)
    return chunks + 2 * plans + 4 * workers + 4 * params.teams + 8


def check_load(params: SimParams) -> None:
    """InvalidRequest when the run would append more than MAX_EVENTS_PER_RUN
    events or stream faster than MAX_TOKEN_EVENTS_PER_SECOND (each worker sends
    one chunk per chunk_delay_ms, so the floor grows with the worker count)."""
    events = estimated_events(params)
    if events > MAX_EVENTS_PER_RUN:
        raise InvalidRequest(
            f"the run would append about {events:,} events; the limit is "
            f"{MAX_EVENTS_PER_RUN:,} events per run (lower teams, workers_per_team "
            "or tokens_per_worker, or raise chunk_size)"
        )
    workers = params.teams * params.workers_per_team
    floor = math.ceil(workers * 1000 / MAX_TOKEN_EVENTS_PER_SECOND)
    if params.chunk_delay_ms < floor:
        raise InvalidRequest(
            f"params.chunk_delay_ms must be at least {floor} for {workers} workers: "
            f"a run streams at most {MAX_TOKEN_EVENTS_PER_SECOND:,} events/s"
        )
