"""Prometheus metrics of one process (or of all gunicorn workers, when
PROMETHEUS_MULTIPROC_DIR is set: `runstream serve --workers N` sets it)."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from runstream.application.run_manager import RunManager
from runstream.entrypoints.event_logs import EventLogTiers
from runstream.entrypoints.http.state_metrics import StateMetrics

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip


class Metrics:
    """Each app gets its own registry, so tests never share counters. The
    event-log gauges read `tiers` when scraped."""

    def __init__(self, tiers: EventLogTiers | None = None) -> None:
        self._tiers = tiers
        shared = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self._registry = None if shared else CollectorRegistry()
        registry = self._registry
        self.appended = Counter(
            "runstream_events_appended", "Events appended through the API",
            registry=registry,
        )  # fmt: skip
        self.append_seconds = Histogram(
            "runstream_append_seconds", "Time to append one request's events",
            buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.subscribers = Gauge(
            "runstream_sse_subscribers", "Connected SSE subscribers",
            multiprocess_mode="livesum", registry=registry,
        )  # fmt: skip
        self.push_seconds = Histogram(
            "runstream_push_latency_seconds",
            "From append (the event timestamp) to its write on a live stream; one "
            "observation per write, for its oldest event",
            buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.slow_disconnects = Counter(
            "runstream_slow_subscriber_disconnects",
            "Subscribers disconnected for falling too far behind",
            registry=registry,
        )
        self.backend_errors = Counter(
            "runstream_backend_errors", "Event log or run repository failures",
            registry=registry,
        )  # fmt: skip

        self.state = StateMetrics(registry)

    def refresh(self, manager: RunManager | None) -> None:
        """Read the gauges of the event-log tiers and the run manager."""
        self.state.refresh(self._tiers, manager)

    def backend_error(self, error: Exception) -> None:
        del error
        self.backend_errors.inc()

    def render(self) -> tuple[bytes, str]:
        registry = self._registry
        if registry is None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
