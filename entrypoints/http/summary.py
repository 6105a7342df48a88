"""`GET /runs/{run_id}/summary`: per-agent and per-run figures of a run."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, jsonify

from runstream.application.summarize_run import SummarizeRun
from runstream.entrypoints.container import Container
from runstream.entrypoints.http.auth import authenticate, tenant
from runstream.entrypoints.http.validation import run_id_of

bp = Blueprint("summary", __name__)
bp.before_request(authenticate)


@bp.get("/runs/<run_id>/summary")
@inject
def run_summary(
    run_id: str, summarize: SummarizeRun = Provide[Container.summarize_run]
) -> Response:
    return jsonify(summarize.execute(run_id_of(run_id), tenant()))
