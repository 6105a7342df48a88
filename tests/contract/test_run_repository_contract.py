"""Contract of the RunRepository port: examples, then a state machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from runstream.domain.errors import InvalidTransition, RunNotFound
from runstream.domain.model import Run, RunStatus
from tests.factories import run
from tests.support.backends import RUN_BACKENDS


def test_add_assigns_increasing_positive_ids(runs):
    first = runs.add(run("a"))
    second = runs.add(run("b"))

    assert 0 < first.id < second.id


def test_get_returns_every_field_as_stored(runs):
    moment = datetime(2025, 1, 1, 12, 0, 0, 1000, tzinfo=UTC)
    stored = runs.add(
        Run(
            task="日本語 task",
            hierarchy_id=7,
            executor="simulated",
            params={"teams": 3, "nested": {"a": [1, 2]}},
            tenant="acme",
            created_at=moment,
            topology_snapshot={"teams": ["research"]},
        )
    )

    assert runs.get(stored.id) == stored


def test_get_unknown_run_raises_not_found(runs):
    with pytest.raises(RunNotFound):
        runs.get(987_654_321)


def test_update_replaces_the_run_when_the_status_matches(runs):
    stored = runs.add(run())
    running = stored.transition(RunStatus.RUNNING)

    runs.update(running, expected=RunStatus.PENDING)
    done = running.finished(
        RunStatus.COMPLETED, result={"answer": 42}, statistics={"events": 3}
    )
    runs.update(done, expected=RunStatus.RUNNING)

    assert runs.get(stored.id) == done


def test_update_with_a_stale_status_raises_and_changes_nothing(runs):
    stored = runs.add(run())
    runs.update(stored.transition(RunStatus.RUNNING), expected=RunStatus.PENDING)

    with pytest.raises(InvalidTransition):
        runs.update(stored.transition(RunStatus.CANCELLED), expected=RunStatus.PENDING)

    assert runs.get(stored.id).status is RunStatus.RUNNING


def test_update_unknown_run_raises_not_found(runs):
    with pytest.raises(RunNotFound):
        runs.update(replace(run(), id=987_654_321), expected=RunStatus.PENDING)


def test_list_is_newest_first_filtered_and_paged(runs):
    a, b, c = (runs.add(run(t, tenant="t1")) for t in "abc")
    runs.add(run("other", tenant="t2"))
    runs.update(b.transition(RunStatus.RUNNING), expected=RunStatus.PENDING)

    newest = runs.list(tenant="t1", limit=2)
    older = runs.list(tenant="t1", before=newest[-1].id, limit=2)
    running = runs.list(status=RunStatus.RUNNING)

    assert [r.id for r in newest] == [c.id, b.id]
    assert [r.id for r in older] == [a.id]
    assert [r.id for r in running] == [b.id]


class RunRepositoryContract(RuleBasedStateMachine):
    stored = Bundle("stored")

    def __init__(self, backend) -> None:
        super().__init__()
        self.runs = backend.make()
        self.model: dict[int, Run] = {}

    @rule(
        target=stored,
        task=st.text(min_size=1, max_size=30),
        tenant=st.none() | st.sampled_from(["a", "b"]),
    )
    def add(self, task, tenant):
        added = self.runs.add(Run(task=task, tenant=tenant))
        assert added.id not in self.model
        assert all(added.id > known for known in self.model)
        self.model[added.id] = added
        return added.id

    @rule(run_id=stored, status=st.sampled_from(RunStatus))
    def transition(self, run_id, status):
        current = self.model[run_id]
        try:
            changed = current.transition(status)
        except InvalidTransition:
            return
        self.runs.update(changed, expected=current.status)
        self.model[run_id] = changed

    @rule(run_id=stored, stale=st.sampled_from(RunStatus))
    def stale_update_is_refused(self, run_id, stale):
        current = self.model[run_id]
        if stale is current.status:
            return
        with pytest.raises(InvalidTransition):
            self.runs.update(replace(current, error="x"), expected=stale)

    @rule(
        status=st.none() | st.sampled_from(RunStatus),
        tenant=st.none() | st.just("a"),
        limit=st.integers(1, 5),
    )
    def list_matches(self, status, tenant, limit):
        expected = [
            r
            for _, r in sorted(self.model.items(), reverse=True)
            if (status is None or r.status is status)
            and (tenant is None or r.tenant == tenant)
        ][:limit]
        assert (
            list(self.runs.list(status=status, tenant=tenant, limit=limit)) == expected
        )

    @invariant()
    def every_run_equals_the_model(self):
        for run_id, expected in self.model.items():
            assert self.runs.get(run_id) == expected


@pytest.mark.parametrize("backend_factory", RUN_BACKENDS)
def test_run_repository_behaves_like_the_model(backend_factory):
    backend = backend_factory()

    run_state_machine_as_test(
        lambda: RunRepositoryContract(backend), settings=settings()
    )
