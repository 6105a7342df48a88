"""Operations (contract.md §4): liveness, readiness, metrics, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, jsonify

from runstream.application.run_manager import RunManager
from runstream.domain.errors import DomainError
from runstream.domain.ports import EventLog, RunRepository
from runstream.entrypoints.container import Container
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.http.openapi import known_query_only, openapi_document

bp = Blueprint("ops", __name__)
bp.before_request(known_query_only)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


def _probe(check: Any) -> str | None:
    """None when the backend answered, else why not."""
    try:
        check()
    except DomainError as err:
        return str(err) or type(err).__name__
    return None


@bp.get("/readyz")
@inject
def readyz(
    event_log: EventLog = Provide[Container.event_log],
    runs: RunRepository = Provide[Container.run_repository],
    config: dict[str, Any] = Provide[Container.config],
) -> tuple[Response, int]:
    log_problem = _probe(lambda: event_log.info(0))
    runs_problem = _probe(lambda: runs.list(limit=1))
    body: dict[str, Any] = {
        "status": "ready",
        "event_log": {
            "adapter": config["event_log"]["backend"],
            # With failover configured, the adapter serving right now.
            "serving": getattr(event_log, "serving", config["event_log"]["backend"]),
            "fallback": config["event_log"]["fallback"],
            "reachable": log_problem is None,
        },
        "run_repository": {
            "adapter": config["run_repository"]["backend"],
            "reachable": runs_problem is None,
        },
    }
    if log_problem is None and runs_problem is None:
        return jsonify(body), 200
    body["status"] = "unavailable"
    body["code"] = "REDIS_UNAVAILABLE"
    body["message"] = "; ".join(p for p in (log_problem, runs_problem) if p)
    return jsonify(body), 503


@bp.get("/metrics")
@inject
def metrics(
    metrics: Metrics = Provide[Container.metrics],
    manager: RunManager = Provide[Container.run_manager],
) -> Response:
    metrics.refresh(manager)
    text, content_type = metrics.render()
    return Response(text, content_type=content_type)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
