"""Which events of a run a reader asked for (docs/contract.md §4, Reading part of
a run): `agent_id=` and `category=`, each repeatable.

The terminal event always passes, so a filtered stream still ends with `close`.
Ids are the log's own: a filtered-out event is skipped silently, never a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from runstream.domain.errors import InvalidRequest
from runstream.domain.model import Category, StoredEvent

MAX_TERMS = 100


@dataclass(frozen=True, slots=True)
class EventSelection:
    """Agents and categories to keep; an empty set keeps every value."""

    agent_ids: frozenset[str] = frozenset()
    categories: frozenset[Category] = frozenset()

    @classmethod
    def parse(
        cls, agent_ids: Iterable[str], categories: Iterable[str]
    ) -> EventSelection:
        """The selection of query parameters; InvalidRequest names a bad value."""
        agents = frozenset(agent_ids)
        names = frozenset(categories)
        if len(agents) > MAX_TERMS or len(names) > MAX_TERMS:
            raise InvalidRequest(f"at most {MAX_TERMS} agent_id and category values")
        if any(not agent for agent in agents):
            raise InvalidRequest("agent_id must not be empty")
        known = {category.value for category in Category}
        unknown = sorted(names - known)
        if unknown:
            raise InvalidRequest(
                f"category {unknown[0]!r} is not one of {', '.join(sorted(known))}"
            )
        return cls(agents, frozenset(Category(name) for name in names))

    @property
    def selects_all(self) -> bool:
        return not self.agent_ids and not self.categories

    def keeps(self, event: StoredEvent) -> bool:
        if self.selects_all or event.is_terminal:
            return True
        if self.categories and event.category not in self.categories:
            return False
        if not self.agent_ids:
            return True
        source = event.event.source
        return source is not None and source.agent_id in self.agent_ids

    def apply(self, events: Iterable[StoredEvent]) -> list[StoredEvent]:
        if self.selects_all:
            return list(events)
        return [event for event in events if self.keeps(event)]


EVERYTHING = EventSelection()
