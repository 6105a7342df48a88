"""Runs (docs/contract.md §4): create, list, get, cancel, finish."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, jsonify, request, url_for

from runstream.application.cancel_run import CancelRun
from runstream.application.ending import terminal_event
from runstream.application.finish_run import FinishRun
from runstream.application.get_run import MAX_LIST, GetRun, ListRuns
from runstream.application.launch_run import LaunchRun
from runstream.application.start_run import EXECUTORS, RunRequest
from runstream.domain.envelope import check_size
from runstream.domain.errors import InvalidRequest
from runstream.domain.model import RunStatus
from runstream.entrypoints.container import Container
from runstream.entrypoints.http.admission import start_admitted
from runstream.entrypoints.http.auth import authenticate, tenant
from runstream.entrypoints.http.body import require_json_type
from runstream.entrypoints.http.idempotency import mark_replayed, request_idempotency
from runstream.entrypoints.http.openapi import known_query_only
from runstream.entrypoints.http.validation import (
    MAX_ID,
    int_arg,
    json_body,
    only_fields,
    optional_int,
    optional_object,
    optional_text,
    run_id_of,
)
from runstream.entrypoints.http.views import run_json

bp = Blueprint("runs", __name__)
bp.before_request(authenticate)
bp.before_request(known_query_only)


@bp.post("/runs")
@inject
def create_run(
    launch_run: LaunchRun = Provide[Container.launch_run],
    default_executor: str = Provide[Container.config.runs.default_executor],
) -> tuple[Response, int]:
    body = json_body()
    only_fields(body, ("task", "hierarchy_id", "executor", "params"))
    task, executor = body.get("task"), body.get("executor", default_executor)
    if not isinstance(task, str):
        raise InvalidRequest("task is required: a string of 1 to 10000 chars")
    if executor is None:
        executor = default_executor
    if not isinstance(executor, str) or executor not in EXECUTORS:
        raise InvalidRequest(f"executor must be one of: {', '.join(EXECUTORS)}")
    wanted = RunRequest(
        task=task,
        executor=executor,
        hierarchy_id=optional_int(body, "hierarchy_id"),
        params=optional_object(body, "params"),
        tenant=tenant(),
    )
    run = start_admitted(launch_run.execute, wanted)
    response = jsonify(run_json(run))
    response.headers["Location"] = url_for("runs.get_run", run_id=run.id)
    return response, 201


@bp.get("/runs")
@inject
def list_runs(list_runs: ListRuns = Provide[Container.list_runs]) -> Response:
    status_text = request.args.get("status")
    try:
        status = None if status_text is None else RunStatus(status_text)
    except ValueError:
        allowed = ", ".join(s.value for s in RunStatus)
        raise InvalidRequest(f"status must be one of: {allowed}") from None
    limit = int_arg("limit", 50, 1, MAX_LIST) or 50
    before = int_arg("before", None, 1, MAX_ID)
    runs = list_runs.execute(status=status, limit=limit, before=before, tenant=tenant())
    next_before = runs[-1].id if len(runs) == limit else None
    return jsonify(runs=[run_json(run) for run in runs], next_before=next_before)


@bp.get("/runs/<run_id>")
@inject
def get_run(run_id: str, get_run: GetRun = Provide[Container.get_run]) -> Response:
    return jsonify(run_json(get_run.execute(run_id_of(run_id), tenant())))


@bp.post("/runs/<run_id>/cancel")
@inject
def cancel_run(
    run_id: str, cancel_run: CancelRun = Provide[Container.cancel_run]
) -> Response:
    require_json_type()
    number, idempotency = run_id_of(run_id), request_idempotency()
    ended = cancel_run.execute(number, tenant(), idempotency)
    return mark_replayed(jsonify(run_json(ended.run)), ended.replayed)


@bp.post("/runs/<run_id>/finish")
@inject
def finish_run(
    run_id: str,
    finish_run: FinishRun = Provide[Container.finish_run],
    max_bytes: int = Provide[Container.config.events.max_bytes],
) -> Response:
    number = run_id_of(run_id)
    body = json_body()
    only_fields(body, ("status", "result", "statistics", "error"))
    status = body.get("status")
    if status not in ("completed", "failed"):
        raise InvalidRequest("status must be completed or failed")
    outcome = RunStatus(status)
    result, error = body.get("result"), optional_text(body, "error")
    statistics = optional_object(body, "statistics")
    check_size(terminal_event(outcome, result, error, statistics), max_bytes)
    ended = finish_run.execute(
        number,
        outcome,
        result=result,
        error=error,
        statistics=statistics,
        tenant=tenant(),
        idempotency=request_idempotency(body),
    )
    return mark_replayed(jsonify(run_json(ended.run)), ended.replayed)
