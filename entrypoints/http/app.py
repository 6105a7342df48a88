"""The Flask application factory."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from runstream.entrypoints.container import Container, build_container
from runstream.entrypoints.http import errors, events, ops, runs
from runstream.entrypoints.http.viewer import viewer_bp
from runstream.entrypoints.live import endpoint as stream
from runstream.entrypoints.live.delivery import LiveDelivery

logger = logging.getLogger(__name__)

# A body may carry one event at the size limit plus its wrapper and whitespace;
# the events endpoint raises this to a whole batch.
BODY_SLACK = events.BODY_SLACK


def create_app(container: Container | None = None) -> Flask:
    """The app, with `app.container` (built from the environment when not given)."""
    container = container if container is not None else build_container()
    app = Flask(__name__, static_folder=None)
    app.container = container  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = container.config.events.max_bytes() + BODY_SLACK
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["runstream.closing"] = threading.Event()
    app.extensions["runstream.stopped"] = threading.Event()
    container.authenticator()  # a malformed RUNSTREAM_API_KEYS fails at startup
    # Build the selected adapters, hub and run manager once, before any request:
    # under gevent, racing first requests could each build a Singleton whose
    # construction yields, leaving two archivers or hubs in one process.
    container.run_manager()
    hub = container.fan_out_hub()
    app.extensions["runstream.live"] = LiveDelivery(hub, container.metrics())
    errors.register_errors(app)
    for blueprint in (runs.bp, events.bp, stream.bp, ops.bp, viewer_bp):
        app.register_blueprint(blueprint)
    container.wire(modules=[runs, events, stream, ops])
    return app


def begin_shutdown(app: Flask) -> None:
    """End every live stream without `close`, so clients reconnect elsewhere,
    then stop the runs this process executes (their events are stored)."""
    app.extensions["runstream.closing"].set()
    container: Container = app.container  # type: ignore[attr-defined]
    container.fan_out_hub().close()
    app.extensions["runstream.live"].close()
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
    container.unwire()
    container.shutdown_resources()
