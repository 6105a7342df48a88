"""The background sender: takes batches off the queue and stores them, one
request per run in a batch, in emit order, retrying each until it is
answered. Everything it could not store is kept for the delivery report."""

from __future__ import annotations

import itertools
import logging
import threading
import uuid

from runstream.entrypoints.producer.queue import BoundedQueue, Call, Event, Item
from runstream.entrypoints.producer.report import DeliveryReport, Undelivered
from runstream.entrypoints.producer.retry import GaveUp, RetryPolicy
from runstream.entrypoints.producer.retry import send_with_retries as send
from runstream.entrypoints.producer.transport import ServiceError, Transport

logger = logging.getLogger("runstream.producer")

# A batch the service refuses as a whole is retried one event at a time, so
# one bad event does not take its neighbours down with it.
_SPLIT_CODES = frozenset({"INVALID_REQUEST", "EVENT_TOO_LARGE"})


class Sender:
    def __init__(
        self,
        transport: Transport,
        queue: BoundedQueue,
        policy: RetryPolicy,
        max_batch: int,
        linger: float,
    ) -> None:
        self._transport = transport
        self._queue = queue
        self._policy = policy
        self._max_batch = max_batch
        self._linger = linger
        self._keys = (f"{uuid.uuid4().hex}-{n}" for n in itertools.count(1))
        self._lock = threading.Lock()
        self._stored = 0
        self._undelivered: list[Undelivered] = []
        self.abandon = threading.Event()
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
            while (
                batch := self._queue.take(self._max_batch, self._linger)
            ) is not None:
                self._send(batch)
                self._queue.settle()
        finally:
            self._transport.close()

    def _send(self, batch: list[Item]) -> None:
        if isinstance(batch[0], Call):
            self._call(batch[0])
            return
        runs: dict[int, list[bytes]] = {}
        for item in batch:
            assert isinstance(item, Event)
            runs.setdefault(item.run_id, []).append(item.payload)
        for run_id, payloads in runs.items():
            self._deliver(run_id, payloads)

    def _deliver(self, run_id: int, payloads: list[bytes]) -> None:
        body = b'{"events":[' + b",".join(payloads) + b"]}"
        try:
            self._request(f"/runs/{run_id}/events", body)
        except ServiceError as err:
            if err.code in _SPLIT_CODES and len(payloads) > 1:
                for payload in payloads:
                    self._deliver(run_id, [payload])
            else:
                self._lost(run_id, payloads, err.code, err.message)
        except GaveUp as err:
            self._lost(run_id, payloads, err.reason, err.message)
        else:
            with self._lock:
                self._stored += len(payloads)

    def _call(self, call: Call) -> None:
        try:
            call.answer = self._request(call.path, call.body)
        except (ServiceError, GaveUp) as err:
            call.error = err
        call.done.set()

    def _request(self, path: str, body: bytes) -> object:
        answer = send(
            self._transport, self._policy, self.abandon, "POST", path, body,
            next(self._keys),
        )  # fmt: skip
        return answer.body

    def _lost(
        self, run_id: int, payloads: list[bytes], reason: str, message: str
    ) -> None:
        with self._lock:
            self._undelivered += [
                Undelivered(run_id, payload, reason, message) for payload in payloads
            ]

    def _fail_batch(self, batch: list[Item], err: Exception) -> None:
        for item in batch:
            if isinstance(item, Event):
                self._lost(item.run_id, [item.payload], "CLIENT_ERROR", repr(err))
            elif not item.done.is_set():
                item.error = err
                item.done.set()

    def give_up_on_queued(self) -> None:
        """Report what is still queued as not sent (the producer is closing)."""
        for item in self._queue.drain():
            if isinstance(item, Event):
                self._lost(item.run_id, [item.payload], "UNSENT", "still queued")
            else:
                item.error = GaveUp("UNSENT", "the producer closed first")
                item.done.set()
