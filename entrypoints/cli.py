"""The `runstream` command line (docs/contract.md §5)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from runstream import __version__
from runstream.entrypoints.config import ConfigError

# subcommand -> module under entrypoints.commands with add_arguments(parser)
# and run(args) -> exit code
COMMANDS = {
    "serve": "the HTTP/SSE service on a production server",
    "demo": "start a simulated run and follow it in the terminal",
    "tail": "follow a run's live stream like tail -f",
    "db": "manage the SQL schema (db upgrade)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runstream", description="Event streaming for LLM agent runs."
    )
    parser.add_argument(
        "--version", action="version", version=f"runstream {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"runstream.entrypoints.commands.{name}")
        module.add_arguments(sub.add_parser(name, help=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = importlib.import_module(f"runstream.entrypoints.commands.{args.command}")
    try:
        return int(module.run(args))
    except ConfigError as err:
        print(f"runstream: configuration error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
