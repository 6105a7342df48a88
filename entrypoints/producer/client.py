"""Producer and Run: the client an agent process uses to push a run's events."""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

from runstream.entrypoints.producer.events import Source, encode_event
from runstream.entrypoints.producer.queue import BoundedQueue, Call, Event, OnFull
from runstream.entrypoints.producer.report import DeliveryReport
from runstream.entrypoints.producer.retry import GaveUp, RetryPolicy
from runstream.entrypoints.producer.run import Run
from runstream.entrypoints.producer.sender import Sender
from runstream.entrypoints.producer.transport import (
    ConnectionFailed,
    ServiceError,
    Transport,
)

logger = logging.getLogger("runstream.producer")


class Producer:
    """Events to a runstream service, sent in the background.

    `emit` only queues (at most `max_queued` events; when full it waits up to
    `block_timeout` s with `on_full="block"`, or raises at once with
    `"raise"`: QueueFull, never a silent drop). A sender thread takes them in
    emit order, `max_batch` at most at a time, after lingering `linger` s for
    more, as one group per run with its Idempotency-Key; the groups travel on
    one WebSocket (`GET /ingest`) and are sent again, same keys, until answered
    (for `retry_for` s). Where the service refuses the upgrade, or with
    `stream=False`, each group is a keyed `POST /runs/{id}/events`.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        max_queued: int = 10_000,
        max_batch: int = 500,
        linger: float = 0.005,
        on_full: OnFull = "block",
        block_timeout: float | None = 30.0,
        request_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        max_event_bytes: int = 1 << 20,
        stream: bool = True,
    ) -> None:
        if not 1 <= max_batch <= 1000:
            raise ValueError("max_batch must be 1 to 1000 (the service's limit)")
        self._url, self._api_key = url, api_key
        self._timeout = request_timeout
        self._max_event_bytes = max_event_bytes
        self._retry = retry or RetryPolicy()
        self._queue = BoundedQueue(max_queued, on_full, block_timeout)
        self._control = Transport(url, api_key, request_timeout)
        self._control_lock = threading.Lock()
        self._sender = Sender(
            url, api_key, request_timeout, self._queue, self._retry, max_batch,
            linger, stream,
        )  # fmt: skip
        atexit.register(self._close_at_exit)

    def create_run(
        self,
        task: str,
        hierarchy_id: int | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Run:
        """A new run with executor `external`, started and ready for events."""
        body: dict[str, Any] = {"task": task, "hierarchy_id": hierarchy_id}
        body.update(executor="external", params=dict(params or {}))
        created = self._control_request("POST", "/runs", json.dumps(body).encode())
        return Run(self, int(created["id"]))

    def attach(self, run_id: int) -> Run:
        """A run that already exists (ServiceError RUN_NOT_FOUND otherwise)."""
        self.get_run(run_id)
        return Run(self, run_id)

    def get_run(self, run_id: int) -> dict[str, Any]:
        """The run's record (`status`, `result`, ...)."""
        found: dict[str, Any] = self._control_request("GET", f"/runs/{run_id}")
        return found

    def emit(
        self,
        run_id: int,
        category: str,
        action: str,
        data: Mapping[str, Any] | None = None,
        source: Source = None,
    ) -> None:
        """Queue one event of the run; returns without waiting on the network."""
        payload = encode_event(category, action, data, source, self._max_event_bytes)
        self._queue.put(Event(run_id, payload))

    def call(self, run_id: int, path: str, body: Any, timeout: float) -> Any:
        """A request sent after everything queued before it, with retries."""
        call = Call(run_id, path, json.dumps(body).encode())
        self._queue.put(call)
        if not call.done.wait(timeout):
            raise TimeoutError(f"POST {path} not answered within {timeout:g} s")
        if call.error is not None:
            raise call.error
        return call.answer

    def report(self) -> DeliveryReport:
        """What is stored, pending and given up on so far, without waiting."""
        return self._sender.report()

    def flush(self, timeout: float | None = 30.0) -> DeliveryReport:
        """Wait until every queued event is stored or given up on."""
        self._queue.wait_idle(timeout)
        return self._sender.report()

    def close(self, timeout: float = 30.0) -> DeliveryReport:
        """Send what is queued (for up to `timeout` s), then stop. The report
        lists every event that was not stored, with the reason."""
        atexit.unregister(self._close_at_exit)
        self._queue.close()
        sender = self._sender
        sender.thread.join(timeout)
        if sender.thread.is_alive():
            sender.abandon.set()
            sender.thread.join(self._timeout + 1)
        sender.link.stop()
        sender.link.thread.join(self._timeout + 1)
        sender.give_up()
        self._control.close()
        return self._sender.report()

    async def aflush(self, timeout: float | None = 30.0) -> DeliveryReport:
        return await asyncio.to_thread(self.flush, timeout)

    async def aclose(self, timeout: float = 30.0) -> DeliveryReport:
        return await asyncio.to_thread(self.close, timeout)

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        report = self.close()
        if not report.ok:
            logger.error("%d events not stored", len(report.undelivered))

    def _close_at_exit(self) -> None:
        report = self.close(timeout=5.0)
        if not report.ok:
            logger.error("at exit, %d events not stored", len(report.undelivered))

    def _control_request(
        self, method: str, path: str, body: bytes | None = None
    ) -> Any:
        """Runs are created at most once: retried only when the request
        surely never reached the service, or the service answered 503."""
        with self._control_lock:
            for delay in (0.1, 0.3, 1.0, 2.0, 4.0, None):
                self._control.close()  # never a stale keep-alive connection
                try:
                    return self._control.request(method, path, body).body
                except ServiceError as err:
                    if err.status != 503 or delay is None:
                        raise
                except ConnectionFailed as err:
                    if (err.sent and method != "GET") or delay is None:
                        raise
                threading.Event().wait(delay)
        raise AssertionError("unreachable")


__all__ = ["GaveUp", "Producer", "Run"]
