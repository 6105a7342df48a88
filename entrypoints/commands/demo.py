"""`runstream demo`: serve, start a simulated run, and follow it in the terminal."""

from __future__ import annotations

import argparse
import http.client
import socket
import sys
from typing import Any

from runstream.entrypoints.commands.tail import renderer_for
from runstream.entrypoints.config import load_config
from runstream.entrypoints.tailing.client import Service, ServiceError
from runstream.entrypoints.tailing.follower import Follower
from runstream.entrypoints.tailing.local_service import (
    LocalService,
    ServiceFailed,
    free_port,
)
from runstream.entrypoints.tailing.session import watch

DEFAULT_PORT = 8080
TASK = "Draft a market analysis of electric cargo bikes in three regions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _where_arguments(parser.add_argument_group("where"))
    _run_arguments(parser.add_argument_group("the simulated run"))
    parser.add_argument("--json", action="store_true", help="raw envelopes, one a line")


def _where_arguments(where: argparse._ArgumentGroup) -> None:
    where.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    where.add_argument("--port", type=int, help="default: 8080 if free, else any")
    where.add_argument("--url", help="use this running service instead of starting one")
    where.add_argument(
        "--token",
        help="API key (default: the first of RUNSTREAM_API_KEYS for the service "
        "demo starts)",
    )
    where.add_argument(
        "--keep-serving",
        action="store_true",
        help="keep the service running after the run (Ctrl-C stops it)",
    )


def _run_arguments(run: argparse._ArgumentGroup) -> None:
    run.add_argument("--task", default=TASK)
    run.add_argument("--teams", type=int, default=2, help="default: 2")
    run.add_argument("--workers", type=int, default=3, help="per team (default: 3)")
    run.add_argument(
        "--tokens", type=int, default=600, help="per worker (default: 600)"
    )
    run.add_argument(
        "--delay-ms",
        type=int,
        default=120,
        help="between one worker's chunks (default: 120: about 20 s of streaming)",
    )
    run.add_argument("--seed", type=int, help="fixes every choice of the run")
    run.add_argument(
        "--fail-at",
        choices=("planning", "dispatch", "streaming", "aggregation"),
        help="make the run fail at this point",
    )


def params_of(args: argparse.Namespace) -> dict[str, object]:
    params: dict[str, object] = {
        "teams": args.teams,
        "workers_per_team": args.workers,
        "tokens_per_worker": args.tokens,
        "chunk_delay_ms": args.delay_ms,
    }
    if args.seed is not None:
        params["seed"] = args.seed
    if args.fail_at:
        params["fail_at"] = args.fail_at
    return params


def preferred_port(host: str) -> int:
    """8080 when it is free, so the viewer's address is the usual one."""
    with socket.socket() as probe:
        try:
            probe.bind((host, DEFAULT_PORT))
        except OSError:
            return free_port(host)
    return DEFAULT_PORT


def own_key(args: argparse.Namespace, config: dict[str, Any]) -> str | None:
    """--token, else the first of RUNSTREAM_API_KEYS (the service it starts
    needs one when authentication is on)."""
    keys = str(config["auth"]["api_keys"])
    return args.token or keys.split(",")[0].partition(":")[0].strip() or None


def say(text: str) -> None:
    print(f"runstream demo: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.url:
        return follow_new_run(Service(args.url.rstrip("/"), args.token), args)
    config = load_config()
    backends = f"event log {config['event_log']['backend']}, "
    backends += f"runs {config['run_repository']['backend']}"
    server = LocalService(args.host, args.port or preferred_port(args.host))
    say(f"starting runstream serve on {server.url} ({backends}) ...")
    try:
        server.start()
    except ServiceFailed as err:
        say(f"{err}; its log ({server.log_path}):\n{server.log_tail()}")
        return 1
    say(f"service ready (log: {server.log_path})")
    try:
        code = follow_new_run(Service(server.url, own_key(args, config)), args)
        if args.keep_serving:
            say(f"still serving on {server.url}/view/ - press Ctrl-C to stop")
            server.wait()
        else:
            say("add --keep-serving to keep the viewer up after the run")
        return code
    finally:
        say("stopping the service ...")
        server.stop()


def follow_new_run(service: Service, args: argparse.Namespace) -> int:
    body = {"task": args.task, "executor": "simulated", "params": params_of(args)}
    try:
        created = service.request("POST", "/runs", body)
    except (ServiceError, OSError, http.client.HTTPException) as err:
        say(f"could not start a run: {err}")
        return 1
    run_id = int(created["id"])
    say(f"run {run_id} started: {args.task}")
    say(f"watch it in a browser: {service.base_url}/view/runs/{run_id}")
    say(f"or in another terminal: runstream tail {run_id} --url {service.base_url}")
    renderer = renderer_for(args.json)
    follower = Follower(service, run_id, notice=renderer.notice)
    code = watch(follower, renderer)
    say(f"run {run_id} ended (exit status {code})")
    return code
