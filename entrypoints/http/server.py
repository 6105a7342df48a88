"""`python -m entrypoints.http.server`: gunicorn with gevent workers.

`runstream serve` execs this module. It imports only gunicorn and the standard
library: each gevent worker patches threading and sockets right after the fork,
and only then loads the app (no preload), so nothing the app uses was imported
unpatched.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication

WORKER_CONNECTIONS = 4000  # open SSE streams per worker, plus JSON requests
# Between requests only (a stream holds its connection as a response): long
# enough for a page's fetches to reuse a connection, short enough that idle
# connections do not hold up a graceful shutdown.
KEEPALIVE_SECONDS = 5
# Streams end at once on shutdown; JSON requests finish, and in-process runs are
# stopped with their events stored (the run manager takes up to 10 s).
GRACEFUL_SECONDS = 15


def _watch_alive(worker: Any) -> None:
    """Once the worker is told to stop, end its streams so they finish cleanly."""
    import gevent

    while worker.alive:
        gevent.sleep(0.2)
    from runstream.entrypoints.http.app import begin_shutdown

    begin_shutdown(worker.served_app)


def post_worker_init(worker: Any) -> None:
    import gc

    import gevent

    # The app is loaded: keep its long-lived objects out of every collection,
    # and collect less often (thousands of streams allocate steadily, and a
    # full collection stalls every stream of the worker at once).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)
    gevent.spawn(_watch_alive, worker)


def worker_exit(server: Any, worker: Any) -> None:
    from runstream.entrypoints.http.app import finish_shutdown

    app = getattr(worker, "served_app", None)
    if app is not None and hasattr(app, "container"):
        finish_shutdown(app)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from runstream.entrypoints.http.app import create_app

        return create_app()


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        # gunicorn's gevent worker; live streams take their connection over
        # (entrypoints/live/takeover.py) and its own refusals are JSON
        "worker_class": "runstream.entrypoints.http.worker.ServiceWorker",
        "worker_connections": WORKER_CONNECTIONS,
        "keepalive": KEEPALIVE_SECONDS,
        "graceful_timeout": GRACEFUL_SECONDS,
        "backlog": 2048,
        "accesslog": "-" if args.access_log else None,
        "errorlog": "-",
        "proc_name": "runstream",
        "control_socket_disable": True,  # several servers may share a host
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "child_exit": child_exit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="runstream serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args()
    # The service's own warnings (failovers, barriers, archive gaps) in
    # gunicorn's line format, with milliseconds: an operator matches them to
    # Redis's and the database's logs.
    logging.basicConfig(
        level=logging.WARNING,
        format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
    )
    owned = None
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Metrics summed over the workers (prometheus-client multiprocess mode).
        owned = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
            prefix="runstream-metrics-"
        )
    try:
        Server(options(args)).run()
    finally:
        if owned:
            shutil.rmtree(owned, ignore_errors=True)


if __name__ == "__main__":
    main()
