"""JSON shapes of runs and event pages (docs/contract.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from runstream.application.read_events import EventPage
from runstream.domain.envelope import envelope_json, format_timestamp
from runstream.domain.model import Run, dump_json


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_timestamp(int(moment.timestamp() * 1000))


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "hierarchy_id": run.hierarchy_id,
        "task": run.task,
        "status": run.status.value,
        "result": run.result,
        "error": run.error,
        "statistics": run.statistics,
        "topology_snapshot": run.topology_snapshot,
        "created_at": timestamp(run.created_at),
        "started_at": timestamp(run.started_at),
        "completed_at": timestamp(run.completed_at),
    }


def page_json(page: EventPage) -> str:
    """The history page as JSON text, splicing each stored envelope as is."""
    events = ",".join(envelope_json(event) for event in page.events)
    next_id = None if page.next_id is None else str(page.next_id)
    return (
        f'{{"run_id":{page.run_id},"events":[{events}],"count":{len(page.events)},'
        f'"has_more":{dump_json(page.has_more)},"next_id":{dump_json(next_id)}}}'
    )
