"""The MySQL-legacy RunRepository on table `execution_run`."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    insert,
    or_,
    select,
    update,
)

from runstream.adapters.mysql_legacy.engine import reading, transact
from runstream.adapters.mysql_legacy.tables import execution_run as runs
from runstream.domain.errors import InvalidTransition, RunNotFound
from runstream.domain.model import Run, RunId, RunStatus

_TIMES = ("created_at", "started_at", "completed_at")
_INSERT = insert(runs)
_GET = select(runs).where(runs.c.id == bindparam("run_id"))
_STATUS = select(runs.c.status).where(runs.c.id == bindparam("run_id"))
# Compare-and-set; the SET columns come from the parameters.
_SWAP = update(runs).where(
    runs.c.id == bindparam("run_id"), runs.c.status == bindparam("expected")
)
_RENEW = (
    update(runs)
    .where(runs.c.id.in_(bindparam("run_ids", expanding=True)))
    .where(runs.c.status == RunStatus.RUNNING.value)
    .values(owner_id=bindparam("owner"), lease_expires_at=bindparam("until"))
)
_LAPSED = (
    select(runs)
    .where(runs.c.status == RunStatus.RUNNING.value)
    .where(runs.c.executor != "external")
    .where(
        or_(
            runs.c.lease_expires_at < bindparam("now"),
            and_(
                runs.c.lease_expires_at.is_(None),
                runs.c.started_at < bindparam("unclaimed_before"),
            ),
        )
    )
    .order_by(runs.c.id)
    .limit(bindparam("limit"))
)


class SqlRunRepository:
    """Runs as rows; ids come from the table's auto-increment."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, run: Run) -> Run:
        def work(conn: Connection) -> RunId:
            result = conn.execute(_INSERT, _to_row(run))
            return int(result.lastrowid)

        return _as_stored(run, transact(self._engine, "add run", work))

    def get(self, run_id: RunId) -> Run:
        with reading(self._engine, "get run") as conn:
            row = conn.execute(_GET, {"run_id": run_id}).first()
        if row is None:
            raise RunNotFound(f"run {run_id} not found")
        return _from_row(row._mapping)

    def update(self, run: Run, expected: RunStatus) -> Run:
        def work(conn: Connection) -> None:
            params = {"run_id": run.id, "expected": expected.value}
            changed = conn.execute(_SWAP, {**_to_row(run), **params})
            if changed.rowcount == 0:
                _refuse(conn, run.id, expected)

        transact(self._engine, "update run", work)
        return _as_stored(run, run.id)

    def list(
        self,
        *,
        status: RunStatus | None = None,
        tenant: str | None = None,
        before: RunId | None = None,
        limit: int = 50,
    ) -> Sequence[Run]:
        query = select(runs).order_by(runs.c.id.desc()).limit(max(limit, 0))
        if status is not None:
            query = query.where(runs.c.status == status.value)
        if tenant is not None:
            query = query.where(runs.c.tenant == tenant)
        if before is not None:
            query = query.where(runs.c.id < before)
        with reading(self._engine, "list runs") as conn:
            return [_from_row(row._mapping) for row in conn.execute(query)]

    def renew(self, owner: str, run_ids: Sequence[RunId], until: datetime) -> None:
        """Owner leases on running runs (one UPDATE for all of them)."""
        if not run_ids:
            return
        params = {"run_ids": list(run_ids), "owner": owner, "until": _naive_utc(until)}
        transact(self._engine, "renew run leases", lambda c: c.execute(_RENEW, params))

    def lapsed(
        self, now: datetime, unclaimed_before: datetime, limit: int = 100
    ) -> Sequence[Run]:
        """Running in-service runs whose owner's lease expired (or never began)."""
        params = {
            "now": _naive_utc(now),
            "unclaimed_before": _naive_utc(unclaimed_before),
            "limit": max(limit, 0),
        }
        with reading(self._engine, "find lapsed runs") as conn:
            return [_from_row(row._mapping) for row in conn.execute(_LAPSED, params)]


def _refuse(conn: Connection, run_id: RunId, expected: RunStatus) -> None:
    """Why a compare-and-set matched no row: no such run, or another status."""
    found = conn.execute(_STATUS, {"run_id": run_id}).first()
    if found is None:
        raise RunNotFound(f"run {run_id} not found")
    raise InvalidTransition(
        f"run {run_id} is {found.status}, not {expected.value}; it changed meanwhile"
    )


def _naive_utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _to_row(run: Run) -> dict[str, Any]:
    return {
        "hierarchy_id": run.hierarchy_id,
        "task": run.task,
        "status": run.status.value,
        "executor": run.executor,
        "params": run.params,
        "tenant": run.tenant,
        "result": run.result,
        "error": run.error,
        "statistics": run.statistics,
        "topology_snapshot": run.topology_snapshot,
        **{name: _naive_utc(getattr(run, name)) for name in _TIMES},
    }


def _from_row(row: Any) -> Run:
    return Run(
        task=row["task"],
        id=row["id"],
        hierarchy_id=row["hierarchy_id"],
        executor=row["executor"],
        params=row["params"] if row["params"] is not None else {},
        tenant=row["tenant"],
        status=RunStatus(row["status"]),
        result=row["result"],
        error=row["error"],
        statistics=row["statistics"],
        topology_snapshot=row["topology_snapshot"],
        created_at=row["created_at"].replace(tzinfo=UTC),
        started_at=_aware_utc(row["started_at"]),
        completed_at=_aware_utc(row["completed_at"]),
    )


def _as_stored(run: Run, run_id: RunId) -> Run:
    """The run as `get` will return it: a private copy, times in UTC."""
    return replace(
        copy.deepcopy(run),
        id=run_id,
        created_at=run.created_at.astimezone(UTC)
        if run.created_at.tzinfo
        else run.created_at.replace(tzinfo=UTC),
        started_at=_aware_utc(_naive_utc(run.started_at)),
        completed_at=_aware_utc(_naive_utc(run.completed_at)),
    )
