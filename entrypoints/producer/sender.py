"""The background sender: takes batches off the queue, forms one group per run
in each (with the Idempotency-Key it keeps for good) and hands them to the
link, which keeps them in flight on the stream until the service answers.
A finish or cancel waits until every group before it is answered, then goes
by POST. Everything not stored is kept for the delivery report."""

from __future__ import annotations

import itertools
import logging
import threading
import uuid

from runstream.entrypoints.producer.inflight import Group, Window
from runstream.entrypoints.producer.link import Link
from runstream.entrypoints.producer.queue import BoundedQueue, Call, Event, Item
from runstream.entrypoints.producer.report import DeliveryReport, Undelivered
from runstream.entrypoints.producer.retry import GaveUp, RetryPolicy
from runstream.entrypoints.producer.retry import send_with_retries as send
from runstream.entrypoints.producer.transport import ServiceError, Transport

logger = logging.getLogger("runstream.producer")

# A group the service refuses as a whole is sent again one event at a time, so
# one bad event does not take its neighbours down with it.
_SPLIT_CODES = frozenset({"INVALID_REQUEST", "EVENT_TOO_LARGE"})


class Sender:
    def __init__(
        self,
        url: str,
        api_key: str | None,
        timeout: float,
        queue: BoundedQueue,
        policy: RetryPolicy,
        max_batch: int,
        linger: float,
        stream: bool = True,
    ) -> None:
        self._calls = Transport(url, api_key, timeout)
        self._queue = queue
        self._policy = policy
        self._linger = linger
        self._max_batch = max_batch
        self._keys = (f"{uuid.uuid4().hex}-{n}" for n in itertools.count(1))
        self._lock = threading.Lock()
        self._stored = 0
        self._undelivered: list[Undelivered] = []
        self.abandon = threading.Event()
        # At most one batch in flight: with the queue, the memory bound.
        self.window = Window()
        self.link = Link(
            url, api_key, timeout, self.window, policy, self.settle, self.abandon,
            stream,
        )  # fmt: skip
        self.thread = threading.Thread(
            target=self._run, name="runstream-producer", daemon=True
        )
        self.thread.start()

    def report(self) -> DeliveryReport:
        with self._lock:
            stored, undelivered = self._stored, list(self._undelivered)
        return DeliveryReport(stored, self._queue.pending(), undelivered)

    def _run(self) -> None:
        try:
            while True:
                # One batch in flight: while it is answered the next one
                # gathers, so a slower service gets fewer, larger groups.
                self.window.wait_empty(self.abandon.is_set)
                if self.abandon.is_set():
                    break
                batch = self._queue.take(self._max_batch, self._linger)
                if batch is None:
                    break
                if isinstance(batch[0], Call):
                    self.window.wait_empty(self.abandon.is_set)
                    self._call(batch[0])
                    self._queue.settle(1)
                else:
                    self.window.add(self._groups(batch))
                    self.link.poke()
            self.window.wait_empty(self.abandon.is_set)
        finally:
            self.link.stop()
            self._calls.close()

    def _groups(self, batch: list[Item]) -> list[Group]:
        runs: dict[int, list[bytes]] = {}
        for item in batch:
            assert isinstance(item, Event)
            runs.setdefault(item.run_id, []).append(item.payload)
        return [Group(run, next(self._keys), events) for run, events in runs.items()]

    def settle(self, group: Group, outcome: ServiceError | GaveUp | None) -> None:
        """The service's answer to the window's oldest group (or a give-up)."""
        if (
            isinstance(outcome, ServiceError)
            and outcome.code in _SPLIT_CODES
            and len(group.payloads) > 1
        ):
            singles = [
                Group(group.run_id, next(self._keys), [p]) for p in group.payloads
            ]
            self.window.replace_head(singles)
            return
        self.window.pop(group.key)
        if outcome is None:
            with self._lock:
                self._stored += len(group.payloads)
        elif isinstance(outcome, ServiceError):
            self._lost(group.run_id, group.payloads, outcome.code, outcome.message)
        else:
            self._lost(group.run_id, group.payloads, outcome.reason, outcome.message)
        self._queue.settle(len(group.payloads))

    def _call(self, call: Call) -> None:
        try:
            call.answer = send(
                self._calls, self._policy, self.abandon, "POST", call.path,
                call.body, next(self._keys),
            ).body  # fmt: skip
        except (ServiceError, GaveUp) as err:
            call.error = err
        call.done.set()

    def _lost(
        self, run_id: int, payloads: list[bytes], reason: str, message: str
    ) -> None:
        with self._lock:
            self._undelivered += [
                Undelivered(run_id, payload, reason, message) for payload in payloads
            ]

    def give_up(self) -> None:
        """Report what is in flight or still queued as not stored (the
        producer is closing)."""
        for group in self.window.take_all():
            reason = "UNCONFIRMED" if group.ever_sent else "UNSENT"
            self._lost(group.run_id, group.payloads, reason, "no answer before close")
        for item in self._queue.drain():
            if isinstance(item, Event):
                self._lost(item.run_id, [item.payload], "UNSENT", "still queued")
            else:
                item.error = GaveUp("UNSENT", "the producer closed first")
                item.done.set()
        self._queue.settle()
