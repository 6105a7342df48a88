"""Property-based contract of the EventLog port: a state machine against a plain
model, and concurrent writers. Each adapter is built inside the test from its
backend, never from a function-scoped fixture."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from runstream.domain.errors import RunNotActive
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import Category, NewEvent
from runstream.domain.ports import EventLog
from tests.factories import new_run_id
from tests.support.backends import LOG_BACKENDS, LogBackend
from tests.support.event_strategies import plain_events, terminal_events
from tests.support.polling import joined, wait_until
from tests.support.tiered_backend import stop_archivers
from tests.support.timing import assert_within

# Finished logs of the second adapter expire this long after `finish`.
SHORT_TTL = 0.3
WAIT = 0.02


class EventLogContract(RuleBasedStateMachine):
    runs = Bundle("runs")

    def __init__(self, backend: LogBackend) -> None:
        super().__init__()
        self.backend = backend
        self.log = backend.make()
        self.model: dict[int, list] = {}
        self.expiring: EventLog | None = None
        self.expires_at: dict[int, float] = {}

    @initialize(target=runs)
    def first_run(self):
        return self._new_run()

    @rule(target=runs)
    def new_run(self):
        return self._new_run()

    def _new_run(self) -> int:
        run_id = new_run_id()
        self.model[run_id] = []
        return run_id

    def _closed(self, run_id: int) -> bool:
        events = self.model[run_id]
        return bool(events) and events[-1].is_terminal

    @rule(
        run_id=runs,
        events=st.lists(plain_events, min_size=1, max_size=5),
        end=st.none() | terminal_events,
    )
    def append(self, run_id, events, end):
        batch = events + ([end] if end is not None else [])
        if self._closed(run_id):
            with pytest.raises(RunNotActive):
                self.log.append(run_id, batch)
            return
        stored = self.log.append(run_id, batch)
        known = self.model[run_id]
        assert [e.event for e in stored] == batch
        first_sequence = len(known) + 1
        assert [e.sequence for e in stored] == list(
            range(first_sequence, first_sequence + len(batch))
        )
        ids = [e.id for e in known[-1:] + stored]
        assert ids == sorted(set(ids))
        known.extend(stored)

    @rule(
        run_id=runs,
        head=st.lists(plain_events, max_size=3),
        tail=plain_events,
        end=terminal_events,
    )
    def append_after_terminal_is_refused_whole(self, run_id, head, tail, end):
        with pytest.raises(RunNotActive):
            self.log.append(run_id, head + [end, tail])

    @rule(run_id=runs, data=st.data(), limit=st.integers(1, 8))
    def read_range(self, run_id, data, limit):
        known = self.model[run_id]
        ids = [MIN_ID, MAX_ID] + [e.id for e in known]
        start = data.draw(
            st.sampled_from(ids)
            | st.builds(EventId, st.integers(0, 2**45), st.integers(0, 3))
        )
        end = data.draw(st.sampled_from(ids))
        expected = [e for e in known if start <= e.id <= end][:limit]
        assert self.log.read(run_id, start, end, limit) == expected

    @rule(run_id=runs, page=st.integers(1, 4))
    def page_by_next_id(self, run_id, page):
        seen, start = [], MIN_ID
        while True:
            found = self.log.read(run_id, start, MAX_ID, page + 1)
            seen.extend(found[:page])
            if len(found) <= page:
                break
            start = found[page].id
        assert seen == self.model[run_id]

    @rule(run_id=runs, data=st.data())
    def wait_after(self, run_id, data):
        known = self.model[run_id]
        cursor = data.draw(st.sampled_from([MIN_ID] + [e.id for e in known]))
        expected = [e for e in known if e.id > cursor][:50]
        found = self.log.wait({run_id: cursor}, timeout=0, limit=50)
        assert found == ({run_id: expected} if expected else {})

    @rule(run_id=runs)
    def wait_at_the_head_times_out_empty(self, run_id):
        known = self.model[run_id]
        cursor = known[-1].id if known else MIN_ID
        began = time.monotonic()

        found = self.log.wait({run_id: cursor}, timeout=WAIT, limit=50)

        assert found == {}
        assert time.monotonic() - began >= WAIT * 0.8
        assert_within(time.monotonic() - began, WAIT + 5.0, "a 0.02 s wait")

    @rule(run_id=runs)
    def finish(self, run_id):
        """Finishing starts the expiry: with a day's TTL, nothing changes now."""
        self.log.finish(run_id)

    @rule(run_id=runs)
    def finish_on_a_short_ttl(self, run_id):
        """A copy of the run on an adapter with a short TTL reads as it is until
        finished, and as absent once the TTL has passed (checked below)."""
        known = self.model[run_id]
        if not known:
            return
        if self.expiring is None:
            self.expiring = self.backend.make(ttl_seconds=SHORT_TTL)
        copy_run = new_run_id()
        copies = [replace(e, run_id=copy_run) for e in known]
        assert self.expiring.store(copy_run, copies) == len(copies)
        self.expiring.finish(copy_run)
        self.expires_at[copy_run] = time.monotonic() + SHORT_TTL

    @rule()
    def expired_logs_read_as_absent(self):
        expiring = self.expiring
        now = time.monotonic()
        for run_id in [r for r, due in self.expires_at.items() if due <= now]:
            assert expiring is not None
            wait_until(
                lambda run_id=run_id: expiring.info(run_id) is None,
                f"run {run_id} to expire",
                timeout=15,
            )
            assert expiring.read(run_id) == []
            del self.expires_at[run_id]

    @rule(source_run=runs, target=runs)
    def store_copy(self, source_run):
        copy_run = self._new_run()
        copies = [
            type(e)(e.id, copy_run, e.sequence, e.timestamp_ms, e.event)
            for e in self.model[source_run]
        ]
        assert self.log.store(copy_run, copies) == len(copies)
        assert self.log.store(copy_run, copies) == 0
        self.model[copy_run] = copies
        return copy_run

    @invariant()
    def every_log_equals_the_model(self):
        for run_id, known in self.model.items():
            assert self.log.read(run_id, MIN_ID, MAX_ID, 10_000) == known
            info = self.log.info(run_id)
            if not known:
                assert info is None
                continue
            assert (info.first_id, info.last_id) == (known[0].id, known[-1].id)
            assert (info.last_sequence, info.length) == (len(known), len(known))
            assert info.closed == known[-1].is_terminal

    def teardown(self):
        stop_archivers()
        self.backend.purge([*self.model, *self.expires_at])


@pytest.mark.parametrize("backend_factory", LOG_BACKENDS)
def test_event_log_behaves_like_the_model(backend_factory):
    backend = backend_factory()

    run_state_machine_as_test(lambda: EventLogContract(backend), settings=settings())


@pytest.mark.parametrize("backend_factory", LOG_BACKENDS)
@settings(max_examples=12)
@given(
    plan=st.lists(st.integers(1, 6), min_size=20, max_size=40),
)
def test_concurrent_writers_get_gapless_sequences(backend_factory, plan):
    backend = backend_factory()
    log = backend.make()
    run_id = new_run_id()
    acknowledged: list = []
    lock = threading.Lock()

    def writer(sizes: list[int]) -> None:
        for size in sizes:
            stored = log.append(
                run_id,
                [NewEvent.build(Category.LLM, "stream", {"n": i}) for i in range(size)],
            )
            with lock:
                acknowledged.extend(stored)

    threads = [threading.Thread(target=writer, args=(plan[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        joined(thread)
    found = log.read(run_id, MIN_ID, MAX_ID, 10_000)
    backend.purge([run_id])

    assert [e.sequence for e in found] == list(range(1, sum(plan) + 1))
    assert [e.id for e in found] == sorted({e.id for e in found})
    assert sorted(found, key=lambda e: e.id) == sorted(acknowledged, key=lambda e: e.id)
