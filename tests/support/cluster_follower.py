"""Following runs on a Redis Cluster, for the cluster tests."""

from __future__ import annotations

import threading
import time

from runstream.adapters.redis_stream.codec import stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import MIN_ID
from runstream.domain.model import StoredEvent
from tests.factories import new_run_id
from tests.support.redis_cluster import LocalCluster


class Follower(threading.Thread):
    """Calls `wait` in a loop over fixed runs, as the fan-out hub does."""

    def __init__(self, log: RedisStreamEventLog, runs: list[int]) -> None:
        super().__init__(daemon=True)
        self.log, self.cursors = log, dict.fromkeys(runs, MIN_ID)
        self.seen: dict[int, list[StoredEvent]] = {run: [] for run in runs}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                found = self.log.wait(self.cursors, 0.05)
            except StorageUnavailable:
                time.sleep(0.05)  # as the hub does: retry shortly
                continue
            for run_id, events in found.items():
                self.seen[run_id] += events
                self.cursors[run_id] = events[-1].id

    def await_count(self, run_id: int, count: int, timeout: float = 10) -> float:
        began = time.monotonic()
        while len(self.seen[run_id]) < count and time.monotonic() - began < timeout:
            time.sleep(0.005)
        return time.monotonic() - began


def runs_on_every_master(cluster: LocalCluster, per_master: int = 1) -> list[int]:
    """Fresh run ids, `per_master` of them on each master."""
    found: dict[int, list[int]] = {node.port: [] for node in cluster.masters()}
    while any(len(runs) < per_master for runs in found.values()):
        run_id = new_run_id()
        runs = found[cluster.owner_of(stream_key(run_id)).port]
        if len(runs) < per_master:
            runs.append(run_id)
    return [run_id for runs in found.values() for run_id in runs]
