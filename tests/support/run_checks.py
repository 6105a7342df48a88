"""Checks of a played run's log."""

from __future__ import annotations

from runstream.domain.envelope import ACTION_RE, parse_source, to_envelope
from runstream.domain.ids import MIN_ID
from runstream.domain.model import AgentType, Category


def read_all(log, run_id):
    stored, cursor = [], MIN_ID
    while page := log.read(run_id, cursor, limit=1000):
        stored.extend(page)
        cursor = page[-1].id.successor()
    return stored


def assert_well_formed(stored):
    """docs/contract.md §2: started first, one terminal event last, gapless sequences,
    increasing ids, valid sources and actions."""
    kinds = [(s.category, s.action) for s in stored]
    assert kinds[0] == (Category.LIFECYCLE, "started")
    assert [s.is_terminal for s in stored].count(True) == 1
    assert stored[-1].is_terminal
    assert [s.sequence for s in stored] == list(range(1, len(stored) + 1))
    assert all(a.id < b.id for a, b in zip(stored, stored[1:], strict=False))
    for item in stored:
        envelope = to_envelope(item)
        source = parse_source(envelope["source"])
        assert ACTION_RE.fullmatch(item.action)
        assert source is None or source.agent_type in AgentType
        assert source is not None or item.category is Category.LIFECYCLE
