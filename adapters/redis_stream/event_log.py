"""The Redis Stream EventLog: one stream per run, `run:<run_id>:events`."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from redis.cluster import RedisCluster

from runstream.adapters.fencing import fence_deadline_ms
from runstream.adapters.redis_stream.client import REDIS_ERRORS, Client, block_slice
from runstream.adapters.redis_stream.cluster_wait import ClusterWait
from runstream.adapters.redis_stream.codec import (
    INCARNATION_KEY,
    SecondStamp,
    append_args,
    key_index,
    store_args,
    stream_key,
)
from runstream.adapters.redis_stream.lane import Lane
from runstream.adapters.redis_stream.reads import ClientReads, LaneReads, Reads
from runstream.adapters.redis_stream.replies import (
    Fresh,
    appended,
    continuation_or_start,
    replayed_id,
)
from runstream.adapters.redis_stream.runner import ScriptRunner
from runstream.adapters.redis_stream.scripts import (
    APPEND,
    APPEND_NOTIFY,
    REWIND,
    STORE,
    STORE_NOTIFY,
)
from runstream.adapters.redis_stream.selected import RawSelection, read_selected_raw
from runstream.adapters.redis_stream.stream_wait import StreamWait
from runstream.domain.append_plan import AppendPlan
from runstream.domain.errors import (
    InvalidRequest,
    LogLost,
    StorageUnavailable,
)
from runstream.domain.idempotency import marked, replay
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.log_rules import check_batch_order, new_continuation
from runstream.domain.model import (
    Appended,
    Category,
    Idempotency,
    LogInfo,
    NewEvent,
    RunId,
    StoredEvent,
)

# Runs whose highest acknowledged sequence each process remembers.
REMEMBERED_RUNS = 100_000


class RedisStreamEventLog:
    """The EventLog on Redis Streams (contract.md §3), safe across writer processes.

    Appends and copies run as Lua scripts on the run's single key, so numbering and
    writing are atomic on a lone Redis and on a cluster alike. Entries are trimmed
    to about `maxlen` (never fewer) and expire `ttl_seconds` after `finish`. With
    `min_replicas`, a write is acknowledged only once that many replicas have it
    (WAIT, up to `replica_timeout_ms`). On a Redis Cluster the scripts also
    announce each write on the run's sharded notice channel, and `wait` follows
    those notices (ClusterWait), re-reading every watched run at least every
    `resync_seconds`, instead of one XREAD over all runs. An append that reaches
    Redis later than the client's socket timeout plus `clock_skew_seconds` (a
    frozen server), or than the fleet's lease it runs under plus that skew
    (adapters/fencing.py), is refused by the script, so a write the caller saw
    fail and retried elsewhere can never appear afterwards.
    """

    def __init__(
        self,
        client: Client,
        maxlen: int = 10_000,
        ttl_seconds: float = 86400,
        min_replicas: int = 0,
        replica_timeout_ms: int = 500,
        resync_seconds: float = 2.0,
        clock_skew_seconds: float = 1.0,
    ) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, not {maxlen}")
        if not client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("the client must decode responses (see redis_client)")
        self._maxlen = str(maxlen)
        self._ttl_ms = int(ttl_seconds * 1000)
        self._stamp = SecondStamp()
        timeout = client.get_connection_kwargs().get("socket_timeout") or 2.0
        self._deadline_ms = int((timeout + clock_skew_seconds) * 1000)
        self._skew_ms = int(clock_skew_seconds * 1000)
        # On a lone Redis the hot commands (appends, range reads, the wait) go
        # on the lane; a cluster's need redis-py's routing.
        self._lane: Lane | None = None
        self._waiter: ClusterWait | StreamWait
        self._reads: Reads
        if isinstance(client, RedisCluster):
            self._append, self._store = APPEND_NOTIFY, STORE_NOTIFY
            self._waiter = ClusterWait(client, resync=resync_seconds)
            self._reads = ClientReads(client)
        else:
            self._append, self._store = APPEND, STORE
            self._lane = Lane(client)
            self._waiter = StreamWait(self._lane, block_slice(client))
            self._reads = LaneReads(self._lane)
        self._scripts = ScriptRunner(
            client, min_replicas, replica_timeout_ms, self._lane
        )
        self._acked: dict[RunId, tuple[int, EventId]] = {}
        # Redis's incarnation as this process learnt it (see `watch_restarts`).
        self._watching = False
        self._incarnation = ""

    def watch_restarts(self) -> None:
        """From now on every append checks, in its script, that Redis still
        holds the incarnation this process learnt (LogLost if not; a fleet
        flushes its archives before anyone appends again). A lone Redis only:
        on a cluster each node may restart on its own, and a script reaches
        one slot (RUNSTREAM_REDIS_MIN_REPLICAS guards a cluster instead)."""
        self._watching = self._lane is not None

    def incarnation(self) -> str:
        """The incarnation this process holds, learnt now if it holds none
        (created when Redis has none: a first start, or after `renew`); ""
        when not watching. LogLost if Redis lost the one held."""
        if not self._watching:
            return ""
        assert self._lane is not None, "watched on a lone Redis only"
        try:
            if not self._incarnation:
                fresh = secrets.token_hex(8)
                learnt = self._lane.call_all(
                    (("SET", INCARNATION_KEY, fresh, "NX"), ("GET", INCARNATION_KEY))
                )[1]
                self._incarnation = str(learnt)
                return self._incarnation
            held = self._lane.call(("GET", INCARNATION_KEY))
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        if held != self._incarnation:
            raise LogLost(
                "Redis no longer holds the incarnation this process learnt: it "
                "restarted without its data (or was flushed)"
            )
        return self._incarnation

    def renew(self) -> None:
        """Forget the incarnation held: the next append or `incarnation` learns
        Redis's current one. Only once the fleet made good what Redis lost."""
        self._incarnation = ""

    def append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None = None,
    ) -> Appended:
        """Alone, the log continues after the highest sequence this process saw
        acknowledged when the stream lost events (a gap, never a reused
        sequence); see `append_planned` for a caller that knows more."""
        floor, floor_id = self._acked.get(run_id, (0, None))
        plan = AppendPlan(floor, True, idempotency, floor_id=floor_id)
        return self._append_checked(run_id, events, plan)

    def append_planned(
        self, run_id: RunId, events: Sequence[NewEvent], plan: AppendPlan
    ) -> Appended:
        """`append` with the checks of `plan`; LogBehind when the stream ends
        below the floor and the plan does not allow a gap."""
        known, known_id = self._acked.get(run_id, (0, None))
        if known > plan.floor:
            plan = replace(plan, floor=known, floor_id=known_id)
        return self._append_checked(run_id, events, plan)

    def _append_checked(
        self, run_id: RunId, events: Sequence[NewEvent], plan: AppendPlan
    ) -> Appended:
        if not events:
            return Appended()
        check_batch_order(run_id, events)
        held = self._incarnation or self.incarnation()
        now_ms = int(time.time() * 1000)
        deadline = fence_deadline_ms(now_ms + self._deadline_ms, self._skew_ms)
        args = append_args(
            self._maxlen, self._stamp.now(), deadline, events, plan, held
        )
        keys = _keys(run_id, plan.idempotency)
        if held:
            keys += (INCARNATION_KEY,)
        try:
            reply = self._scripts.run(self._append, keys, args)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        if not reply[:1].isdigit():
            return self._refused(run_id, events, plan, reply)
        stored = appended(run_id, events, reply)
        self._ack(run_id, stored[-1])
        return marked(stored, plan.idempotency) if plan.idempotency else stored

    def _refused(
        self, run_id: RunId, events: Sequence[NewEvent], plan: AppendPlan, reply: str
    ) -> Appended:
        """The script stored nothing: a replay of a known key, else an error."""
        first_id = replayed_id(run_id, plan, reply)
        assert plan.idempotency is not None, "only a keyed append is replayed"
        try:
            kept = self._reads.range(run_id, first_id, "+", len(events))
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        return replay(run_id, plan.idempotency, kept, len(events))

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        return self._copy(run_id, events, new_continuation)

    def seed(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        """`store`, except that an empty stream may start at any sequence: the
        tail of a run's log copied from a tier that still has it."""
        return self._copy(run_id, events, continuation_or_start)

    def _copy(
        self, run_id: RunId, events: Sequence[StoredEvent], fresh_of: Fresh
    ) -> int:
        keyed = next((e.idempotency for e in events if e.idempotency), None)
        keys = _keys(run_id, keyed)
        # Another writer may move the log between the check and the script; the
        # script then refuses, and the check runs again on the new last event.
        while True:
            last = self._last(run_id)
            fresh = fresh_of(last, events)
            if not fresh:
                return 0
            if fresh[0].id == MIN_ID:
                raise InvalidRequest("event id 0-0 cannot be stored")
            args = store_args(self._maxlen, None if last is None else last.id, fresh)
            try:
                if self._scripts.run(self._store, keys, args):
                    self._ack(run_id, fresh[-1])
                    return len(fresh)
            except REDIS_ERRORS as err:
                raise _unavailable(err) from err

    def rewind(self, run_id: RunId, after: EventId) -> int:
        """Remove the run's entries after `after` (failback only, appends held:
        entries a write stored whose reply was lost, so the fallback answered
        it); how many went."""
        try:
            return int(self._scripts.run(REWIND, (stream_key(run_id),), [str(after)]))
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err

    def _ack(self, run_id: RunId, last: StoredEvent) -> None:
        """Remember the run's highest acknowledged sequence and its id (the most
        recent runs only): the floor below which its stream must never end."""
        acked = self._acked
        known = acked.pop(run_id, None)
        if known is not None and known[0] > last.sequence:
            acked[run_id] = known
            return
        acked[run_id] = (last.sequence, last.id)
        if len(acked) > REMEMBERED_RUNS:
            del acked[next(iter(acked))]

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        if limit <= 0:
            return []
        try:
            return self._reads.range(run_id, str(start), str(end), limit)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err

    def read_selected(
        self,
        run_id: RunId,
        start: EventId,
        end: EventId,
        limit: int,
        agent_ids: frozenset[str],
        categories: frozenset[Category],
    ) -> list[StoredEvent]:
        """`read`, decoding only the entries the selection keeps (selected.py).
        Like `read`, it holds what the stream keeps: a replay that must see a
        trimmed beginning checks `info` (follow_part.py)."""
        if limit <= 0 or (not agent_ids and not categories):
            return self.read(run_id, start, end, limit)
        reads = self._reads
        raw = reads.raw_range if isinstance(reads, LaneReads) else None
        selection = RawSelection(agent_ids, categories)
        try:
            return read_selected_raw(
                raw, reads.range, run_id, (start, end), limit, selection
            )
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        return self._waiter.wait(cursors, timeout, limit)

    def close(self) -> None:
        """Close the lane's connections and stop the cluster notice listeners
        (both also go when collected)."""
        if self._lane is not None:
            self._lane.close()
        if isinstance(self._waiter, ClusterWait):
            self._waiter.close()

    def finish(self, run_id: RunId) -> None:
        try:
            self._reads.expire(run_id, self._ttl_ms)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err

    def info(self, run_id: RunId) -> LogInfo | None:
        try:
            oldest, newest, length = self._reads.ends(run_id)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        if not oldest or not newest:
            return None
        first, last = oldest[0], newest[0]
        return LogInfo(
            first.id, first.sequence, last.id, last.sequence, length, last.is_terminal
        )

    def _last(self, run_id: RunId) -> StoredEvent | None:
        try:
            events = self._reads.newest(run_id)
        except REDIS_ERRORS as err:
            raise _unavailable(err) from err
        return events[0] if events else None


def _keys(run_id: RunId, idempotency: Idempotency | None) -> tuple[str, ...]:
    """The keys a write script is given: the run's key index only for a keyed
    write (on a cluster, a slot in migration refuses a call naming a key the
    node lacks, and most runs never have an index)."""
    if idempotency is None:
        return (stream_key(run_id),)
    return (stream_key(run_id), key_index(run_id))


def _unavailable(err: Exception) -> StorageUnavailable:
    return StorageUnavailable(f"the Redis event log is unavailable: {err}")
