"""Part of a run's events read where they are: the range read of `event_rows`
with the reader's selection (agents, categories) in its WHERE clause, so the
events left out are never sent, decoded or built into objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    or_,
)

from runstream.adapters.mysql_legacy.event_rows import (
    from_row,
    range_params,
    range_statement,
)
from runstream.adapters.mysql_legacy.tables import execution_event as events
from runstream.domain.ids import EventId
from runstream.domain.model import TERMINAL_ACTIONS, Category, RunId, StoredEvent

_TERMINAL = and_(
    events.c.category == Category.LIFECYCLE.value,
    events.c.action.in_(sorted(TERMINAL_ACTIONS)),
)


def _selected_statement(by_agent: bool, by_category: bool) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if by_agent:
        agents: BindParameter[list[str]] = bindparam("agent_ids", expanding=True)
        conditions.append(events.c.source_agent_id.in_(agents))
    if by_category:
        names: BindParameter[list[str]] = bindparam("categories", expanding=True)
        conditions.append(events.c.category.in_(names))
    return range_statement().where(or_(_TERMINAL, and_(*conditions)))


# One statement per shape of selection, each compiled once.
_SELECTED = {
    (by_agent, by_category): _selected_statement(by_agent, by_category)
    for by_agent, by_category in ((True, False), (False, True), (True, True))
}


def read_selected_range(
    conn: Connection,
    run_id: RunId,
    span: tuple[EventId, EventId],
    limit: int,
    selection: tuple[frozenset[str], frozenset[Category]],
    now_ms: int,
) -> list[StoredEvent] | None:
    """Live events with start <= id <= end that the selection keeps (terminal
    events always), at most `limit`, in log order; None for an empty selection
    (the caller reads the plain range)."""
    agent_ids, categories = selection
    if not agent_ids and not categories:
        return None
    plain = range_params(run_id, *span, limit, now_ms)
    if plain is None:
        return []
    params: dict[str, Any] = dict(plain)
    params["agent_ids"] = sorted(agent_ids)
    params["categories"] = sorted(category.value for category in categories)
    statement = _SELECTED[(bool(agent_ids), bool(categories))]
    return [from_row(run_id, row) for row in conn.execute(statement, params)]
