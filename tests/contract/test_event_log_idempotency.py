"""Contract of idempotent appends (contract.md §4) and of sequences that are never
reused, for every EventLog adapter and composite: a state machine that retries
random earlier requests, plus examples."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from runstream.domain.errors import IdempotencyKeyReused, RunNotActive
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import Idempotency, StoredEvent
from tests.factories import completed, new_run_id, started, token
from tests.support.backends import LOG_BACKENDS, LogBackend
from tests.support.event_strategies import plain_events, terminal_events
from tests.support.tiered_backend import stop_archivers

keys = st.text(
    st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=128
)


def keyed(key: str, body: str) -> Idempotency:
    return Idempotency(key, f"sha256-{body}")


class IdempotencyContract(RuleBasedStateMachine):
    runs = Bundle("runs")

    def __init__(self, backend: LogBackend) -> None:
        super().__init__()
        self.backend = backend
        self.log = backend.make()
        self.model: dict[int, list[StoredEvent]] = {}
        # Every keyed request that was stored: (run, key, digest, batch, stored).
        self.requests: list[tuple[int, Idempotency, list, list[StoredEvent]]] = []
        self.ever: dict[tuple[int, int], StoredEvent] = {}

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

    @rule(
        run_id=runs,
        events=st.lists(plain_events, min_size=1, max_size=4),
        end=st.none() | terminal_events,
        key=st.none() | keys,
        body=st.integers(0, 3),
    )
    def append(self, run_id, events, end, key, body):
        batch = events + ([end] if end is not None else [])
        known = self.model[run_id]
        idempotency = None if key is None else keyed(key, str(body))
        used = {r[1].key for r in self.requests if r[0] == run_id}
        if key in used:
            return  # a retry is the rules below
        if known and known[-1].is_terminal:
            with pytest.raises(RunNotActive):
                self.log.append(run_id, batch, idempotency)
            return

        stored = self.log.append(run_id, batch, idempotency)

        assert not stored.replayed
        assert [e.sequence for e in stored] == list(
            range(len(known) + 1, len(known) + len(batch) + 1)
        )
        assert stored[0].idempotency == idempotency
        known.extend(stored)
        if idempotency is not None:
            self.requests.append((run_id, idempotency, batch, list(stored)))

    @precondition(lambda self: self.requests)
    @rule(data=st.data())
    def retry_stores_nothing_and_answers_as_the_first_time(self, data):
        run_id, idempotency, batch, first = data.draw(st.sampled_from(self.requests))

        again = self.log.append(run_id, batch, idempotency)

        assert again.replayed
        assert [(e.id, e.sequence) for e in again] == [
            (e.id, e.sequence) for e in first
        ]
        assert list(again) == first

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), other=st.lists(plain_events, min_size=1, max_size=3))
    def same_key_with_another_body_is_refused(self, data, other):
        run_id, idempotency, _, _ = data.draw(st.sampled_from(self.requests))
        misuse = replace(idempotency, digest=idempotency.digest + "-other")

        with pytest.raises(IdempotencyKeyReused):
            self.log.append(run_id, other, misuse)

    @rule(run_id=runs)
    def finish(self, run_id):
        self.log.finish(run_id)

    @rule(source_run=runs, target=runs)
    def store_copies_the_keys(self, source_run):
        copy_run = self._new_run()
        copies = [replace(e, run_id=copy_run) for e in self.model[source_run]]

        assert self.log.store(copy_run, copies) == len(copies)

        self.model[copy_run] = copies
        for run_id, idempotency, batch, stored in list(self.requests):
            if run_id == source_run:
                moved = [replace(e, run_id=copy_run) for e in stored]
                self.requests.append((copy_run, idempotency, batch, moved))
        return copy_run

    @invariant()
    def the_log_equals_the_model_and_no_sequence_is_reused(self):
        for run_id, known in self.model.items():
            found = self.log.read(run_id, MIN_ID, MAX_ID, 10_000)
            assert found == known
            for event in found:
                first = self.ever.setdefault((run_id, event.sequence), event)
                assert first == event, f"sequence {event.sequence} reused"

    def teardown(self):
        stop_archivers()
        self.backend.purge(list(self.model))


@pytest.mark.parametrize("backend_factory", LOG_BACKENDS)
def test_retries_replay_and_sequences_are_never_reused(backend_factory):
    backend = backend_factory()

    run_state_machine_as_test(lambda: IdempotencyContract(backend), settings=settings())


def test_a_key_is_at_most_128_printable_ascii_characters():
    for bad in ("", "x" * 129, "tab\there", "é"):
        with pytest.raises(Exception, match="Idempotency-Key"):
            Idempotency(bad, "digest")


def test_a_retry_after_the_log_closed_still_replays(event_log):
    run_id = new_run_id()
    event_log.append(run_id, [started()])
    ending = keyed("finish-1", "completed")
    first = event_log.append(run_id, [completed()], ending)

    again = event_log.append(run_id, [completed()], ending)

    assert again.replayed and list(again) == list(first)
    with pytest.raises(RunNotActive):
        event_log.append(run_id, [token()])


def test_a_keyed_batch_is_replayed_whole(event_log):
    run_id = new_run_id()
    event_log.append(run_id, [started()])
    request = keyed("batch", "b")
    first = event_log.append(run_id, [token("a"), token("b"), token("c")], request)
    event_log.append(run_id, [token("after")])

    again = event_log.append(run_id, [token("a"), token("b"), token("c")], request)

    assert [e.sequence for e in again] == [2, 3, 4]
    assert list(again) == list(first)
    assert len(event_log.read(run_id)) == 5
