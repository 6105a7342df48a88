"""Gauges read from the process's components when /metrics is scraped: which
event-log tier serves, failovers, time on the fallback, the archive's lag, and
the event writer of runs played in-process."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from runstream.application.run_manager import RunManager
from runstream.entrypoints.event_logs import EventLogTiers


def _gauge(
    name: str, text: str, registry: CollectorRegistry | None, **kw: Any
) -> Gauge:
    kw.setdefault("multiprocess_mode", "livesum")
    return Gauge(name, text, registry=registry, **kw)


class StateMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        r = registry
        self.serving = _gauge(
            "runstream_event_log_serving", "1 for the tier serving the event log",
            r, labelnames=["tier"], multiprocess_mode="max",
        )  # fmt: skip
        self.failovers = _gauge(
            "runstream_event_log_failovers", "Failovers to the fallback since start", r
        )
        self.on_fallback = _gauge(
            "runstream_event_log_fallback_seconds", "Seconds served by the fallback", r
        )
        self.archive_pending = _gauge(
            "runstream_archive_pending_events", "Events not yet in the archive", r
        )
        self.archive_lag = _gauge(
            "runstream_archive_lag_seconds",
            "Age of the oldest event not yet archived (0 when caught up)",
            r, multiprocess_mode="max",
        )  # fmt: skip
        self.archive_errors = _gauge(
            "runstream_archive_errors", "Failed archive writes since start", r
        )
        self.writer_depth = _gauge(
            "runstream_writer_queue_events", "Events queued by in-process runs", r
        )
        self.writer_blocked = _gauge(
            "runstream_writer_blocked_emits", "Emits that waited for queue room", r
        )
        self.writer_retries = _gauge(
            "runstream_writer_retries", "Event writer retries of an unavailable log", r
        )
        self.active_runs = _gauge(
            "runstream_active_runs", "Runs executing in this process", r
        )

    def refresh(self, tiers: EventLogTiers | None, manager: RunManager | None) -> None:
        if tiers is not None and tiers.failover is not None:
            stats = tiers.failover.stats()
            for tier in ("redis", "sql"):
                self.serving.labels(tier).set(1 if stats.serving == tier else 0)
            self.failovers.set(stats.failovers)
            self.on_fallback.set(stats.seconds_on_fallback)
        if tiers is not None and tiers.archiver is not None:
            archive = tiers.archiver.stats()
            self.archive_pending.set(archive.pending_events)
            lag = archive.oldest_pending_seconds if archive.pending_runs else 0.0
            self.archive_lag.set(lag)
            self.archive_errors.set(archive.errors)
        if manager is not None:
            managed = manager.stats()
            self.writer_depth.set(managed.writer.queue_depth)
            self.writer_blocked.set(managed.writer.blocked_emits)
            self.writer_retries.set(managed.writer.retries)
            self.active_runs.set(managed.active_runs)
