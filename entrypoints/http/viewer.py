"""The run viewer: static HTML, CSS and JavaScript served under `/view/`.

The pages are plain files (no templates, no build step, nothing from a CDN); their
scripts talk to the JSON API and the SSE stream of the same service.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, redirect, send_from_directory
from flask.typing import ResponseReturnValue

STATIC = Path(__file__).with_name("viewer_static")

viewer_bp = Blueprint(
    "viewer",
    __name__,
    static_folder=STATIC,
    static_url_path="/view/static",
)


def _page(name: str) -> Response:
    response = send_from_directory(STATIC, name, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@viewer_bp.get("/")
def home() -> ResponseReturnValue:
    return redirect("view/", code=302)


@viewer_bp.get("/view/")
def run_list() -> Response:
    return _page("index.html")


@viewer_bp.get("/view/runs/<int:run_id>")
def run_page(run_id: int) -> Response:
    del run_id  # the page's script reads it from the address
    return _page("run.html")
