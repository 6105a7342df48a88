"""The chaos checker's verdict: every run is one log, served alike by every
process, holding every acknowledged event once, seen whole by its follower,
and ended."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import requests

from benchmarks.chaos_clients import RunRecord

SETTLE_SECONDS = 90.0


def check_runs(urls: Callable[[], list[str]], runs: list[RunRecord]) -> list[str]:
    violations: list[str] = []
    for record in runs:
        violations += [f"run {record.run_id}: {v}" for v in check_run(urls(), record)]
    return violations


def check_run(urls: list[str], record: RunRecord) -> list[str]:
    found = []
    status = settled_status(urls[0], record.run_id)
    if status in ("pending", "running"):
        found.append(f"still {status} after {SETTLE_SECONDS:.0f} s")
    logs = [history(url, record.run_id) for url in urls]
    first = logs[0]
    for index, other in enumerate(logs[1:], start=1):
        if [e["id"] for e in other] != [e["id"] for e in first]:
            found.append(f"process {index} serves another history than process 0")
    for position, event in enumerate(first, start=1):
        if event["sequence"] != position:
            found.append(f"sequence {event['sequence']} at position {position}")
            break
    stored = Counter((e["id"], e["sequence"]) for e in first)
    tags = Counter(_tag(e) for e in first)
    at = {e["sequence"]: e for e in first}
    for event_id, sequence, tag in record.acknowledged:
        if stored[(event_id, sequence)] != 1:
            times = stored[(event_id, sequence)]
            there = at.get(sequence, {})
            found.append(
                f"acknowledged {event_id} sequence {sequence} ({tag}): {times}x;"
                f" the log has {there.get('id')} ({_tag(there) if there else None})"
                f" there, {len(first)} events in all"
            )
        if tags[tag] > 1:
            found.append(f"event {tag} (sequence {sequence}) stored {tags[tag]}x")
    if record.executor == "external":
        found += _follower(record, first)
    return found


def _follower(record: RunRecord, log: list[dict[str, Any]]) -> list[str]:
    if record.followed is None:
        return ["the follower never saw the stream close"]
    found = (
        [f"follower saw {record.follower_gaps} gaps"] if record.follower_gaps else []
    )
    if record.followed != [e["id"] for e in log]:
        missing = sorted(set(e["id"] for e in log) - set(record.followed))[:3]
        found.append(
            f"follower saw {len(record.followed)} events, the log has {len(log)}"
            f" (missing e.g. {missing})"
        )
    return found


def _tag(event: dict[str, Any]) -> str | None:
    data = event.get("data") or {}
    if "tag" not in data:
        return None
    return f"{data['tag']}#{data['part']}"


def settled_status(url: str, run_id: int) -> str:
    deadline, status = time.monotonic() + SETTLE_SECONDS, "unknown"
    while time.monotonic() < deadline:
        try:
            status = requests.get(f"{url}/runs/{run_id}", timeout=10).json()["status"]
        except (requests.RequestException, ValueError, KeyError):
            status = "unknown"
        if status not in ("pending", "running", "unknown"):
            return status
        time.sleep(0.5)
    return status


def history(url: str, run_id: int) -> list[dict[str, Any]]:
    """The whole history, retried while a process answers 503."""
    for _ in range(60):
        try:
            return _pages(url, run_id)
        except (requests.RequestException, ValueError):
            time.sleep(0.5)
    raise RuntimeError(f"run {run_id}: no history from {url}")


def _pages(url: str, run_id: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    start: str | None = "-"
    while start is not None:
        page = requests.get(
            f"{url}/runs/{run_id}/events",
            params={"start_id": start, "limit": 10000},
            timeout=30,
        )
        page.raise_for_status()
        body = page.json()
        events += body["events"]
        start = body["next_id"]
    return events
