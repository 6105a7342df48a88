"""Tiny builders for test data."""

from __future__ import annotations

import itertools
import random

from runstream.domain.model import (
    AgentType,
    Category,
    JsonObject,
    NewEvent,
    Run,
    Source,
)

# Run ids unique across sessions that share one Redis or database.
_RUN_IDS = itertools.count(random.SystemRandom().randrange(10**12, 9 * 10**12, 10**6))


def new_run_id() -> int:
    return next(_RUN_IDS)


def source(agent_id: str = "researcher") -> Source:
    return Source(agent_id, AgentType.WORKER, agent_id.title(), "research")


def token(text: str = "Analysing the", agent_id: str = "researcher") -> NewEvent:
    return NewEvent.build(Category.LLM, "stream", {"content": text}, source(agent_id))


def event(
    category: Category = Category.SYSTEM,
    action: str = "notice",
    data: JsonObject | None = None,
) -> NewEvent:
    return NewEvent.build(category, action, data or {})


def started() -> NewEvent:
    return NewEvent.build(Category.LIFECYCLE, "started", {"task": "t"})


def completed() -> NewEvent:
    return NewEvent.build(Category.LIFECYCLE, "completed", {"status": "completed"})


def run(task: str = "write a report", tenant: str | None = None) -> Run:
    return Run(task=task, tenant=tenant)
