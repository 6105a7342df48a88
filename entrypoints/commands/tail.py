"""`runstream tail RUN_ID`: follow a run's live stream like `tail -f`."""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlencode

from runstream.entrypoints.tailing.client import Service
from runstream.entrypoints.tailing.follower import Follower
from runstream.entrypoints.tailing.render import JsonRenderer, Renderer, TextRenderer
from runstream.entrypoints.tailing.session import watch

DEFAULT_URL = "http://127.0.0.1:8080"
CATEGORIES = ("lifecycle", "llm", "dispatch", "system")
EPILOG = """exit status: 0 the run completed, 1 it failed, 3 it was cancelled,
4 no such run (or its events expired), 5 the service refused the request
(e.g. 401), 6 the service could not be reached within --give-up seconds"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("run_id", type=int, metavar="RUN_ID")
    parser.add_argument(
        "--from",
        dest="from_id",
        metavar="EVENT_ID",
        help="start after this event id (default: the run's first event)",
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("RUNSTREAM_URL", DEFAULT_URL),
        help=f"the service (default: $RUNSTREAM_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("RUNSTREAM_API_KEY"),
        help="API key sent as a Bearer token (default: $RUNSTREAM_API_KEY)",
    )
    parser.add_argument("--json", action="store_true", help="raw envelopes, one a line")
    parser.add_argument(
        "--agent",
        action="append",
        default=[],
        metavar="AGENT_ID",
        help="only this agent's events (repeatable; the run's end is always shown)",
    )
    parser.add_argument(
        "--category",
        action="append",
        default=[],
        choices=CATEGORIES,
        help="only events of this category (repeatable)",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="replay every token chunk as stored (default: an agent's adjacent "
        "chunks replayed as one event)",
    )
    parser.add_argument(
        "--give-up",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="stop reconnecting after this long without an answer (default: 60)",
    )


def renderer_for(json_lines: bool) -> Renderer:
    if json_lines:
        return JsonRenderer(sys.stdout, sys.stderr)
    return TextRenderer(sys.stdout, sys.stderr, colour=colour_wanted())


def colour_wanted() -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def stream_query(args: argparse.Namespace) -> str:
    """The stream's query for the part of the run asked for."""
    query = [("agent_id", agent) for agent in args.agent]
    query += [("category", category) for category in args.category]
    if not args.raw:
        query.append(("coalesce", "llm.stream"))
    return urlencode(query)


def run(args: argparse.Namespace) -> int:
    renderer = renderer_for(args.json)
    follower = Follower(
        Service(args.url, args.token, stream_query(args)),
        args.run_id,
        last_event_id=args.from_id,
        give_up_seconds=args.give_up,
        notice=renderer.notice,
    )
    return watch(follower, renderer)
