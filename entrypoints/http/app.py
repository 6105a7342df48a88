"""The Flask application factory."""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from flask import Flask, redirect, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound
from werkzeug.routing import RequestRedirect

from runstream.entrypoints.adapter_check import check_adapters
from runstream.entrypoints.container import Container, build_container
from runstream.entrypoints.http import errors, events, ops, runs, summary
from runstream.entrypoints.http.admission import admission_for
from runstream.entrypoints.http.binding import bind_views
from runstream.entrypoints.http.body import BODY_SLACK
from runstream.entrypoints.http.viewer import viewer_bp
from runstream.entrypoints.ingest import endpoint as ingest
from runstream.entrypoints.live import endpoint as stream
from runstream.entrypoints.live.delivery import LiveDelivery

logger = logging.getLogger(__name__)


def create_app(container: Container | None = None) -> Flask:
    """The app, with `app.container` (built from the environment when not given)."""
    container = container if container is not None else build_container()
    app = Flask(__name__, static_folder=None)
    app.container = container  # type: ignore[attr-defined]
    # Bodies are read by body.py within their own limits; this bounds the rest.
    app.config["MAX_CONTENT_LENGTH"] = container.config.events.max_bytes() + BODY_SLACK
    # `//view/` must not match `/view/` (nor redirect to it, echoing the Host):
    # the viewer's relative API calls would leave the origin.
    app.url_map.merge_slashes = False
    app.before_request(_no_empty_segment)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["runstream.closing"] = threading.Event()
    app.extensions["runstream.stopped"] = threading.Event()
    check_adapters(container)  # a setting no adapter can use fails at startup
    # Build the selected adapters, hub and run manager once, before any request:
    # under gevent, racing first requests could each build a Singleton whose
    # construction yields, leaving two archivers or hubs in one process.
    app.extensions["runstream.admission"] = admission_for(container.run_manager())
    hub = container.fan_out_hub()
    app.extensions["runstream.live"] = LiveDelivery(hub, container.metrics())
    app.extensions["runstream.ingest"] = ingest.IngestConnections()
    container.background()  # its threads stop in shutdown_resources()
    errors.register_errors(app)
    blueprints = (
        runs.bp, events.bp, stream.bp, ingest.bp, summary.bp, ops.bp, viewer_bp,
    )  # fmt: skip
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    bind_views(app, container)
    return app


def _no_empty_segment() -> ResponseReturnValue | None:
    """Routing ignores leading slashes; a path with `//` anywhere is no page.
    A missing trailing slash (`/view`) is redirected by a relative Location
    (`view/`), never one built from the Host header."""
    path = request.environ.get("PATH_INFO", "")
    if "//" in path:
        raise NotFound()
    moved = request.routing_exception
    if isinstance(moved, RequestRedirect):
        target = urlsplit(moved.new_url)
        if target.path != f"{path}/":
            raise NotFound()
        # Relative to the page itself, so it also holds under a proxy's prefix.
        query = f"?{target.query}" if target.query else ""
        return redirect(f"{path.rsplit('/', 1)[-1]}/{query}", code=moved.code)
    return None


def begin_shutdown(app: Flask) -> None:
    """End every live stream without `close` and every producer's ingest
    stream, so clients reconnect elsewhere, then stop the runs this process
    executes (their events are stored)."""
    app.extensions["runstream.closing"].set()
    container: Container = app.container  # type: ignore[attr-defined]
    container.fan_out_hub().close()
    app.extensions["runstream.live"].close()
    app.extensions["runstream.ingest"].close()
    manager = getattr(container, "run_manager", None)
    try:
        if manager is not None:
            manager().shutdown()
    except Exception:
        logger.exception("run manager shutdown failed")
    finally:
        app.extensions["runstream.stopped"].set()


def finish_shutdown(app: Flask, timeout: float = 12.0) -> None:
    """Once no request is left: wait for begin_shutdown, release the drivers."""
    app.extensions["runstream.stopped"].wait(timeout)
    container: Container = app.container  # type: ignore[attr-defined]
    container.shutdown_resources()
