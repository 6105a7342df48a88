"""`runstream serve` and `runstream db` refuse a bad configuration in one line,
before any worker starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 1
EXIT_OUT_OF_DATE = 3
# Nothing listens on port 1, so a connection is refused at once.
UNREACHABLE_MYSQL = "mysql+pymysql://runstream:pw@127.0.0.1:1/runs"


def runstream(folder: Path, *argv: str, **settings: str) -> subprocess.CompletedProcess:
    """`runstream ARGV` in `folder`, with no RUNSTREAM_* settings but `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNSTREAM_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "runstream.entrypoints.cli", *argv]
    return subprocess.run(
        command,
        cwd=folder,
        env={**env, **settings},
        capture_output=True,
        text=True,
        timeout=60,
    )


def only_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def serve(folder: Path, **settings: str) -> subprocess.CompletedProcess:
    return runstream(folder, "serve", "--port", "1", **settings)


def test_serve_refuses_malformed_api_keys_before_any_worker_starts(tmp_path):
    done = serve(tmp_path, RUNSTREAM_API_KEYS="malformed")

    assert done.returncode == EXIT_CONFIG, done.stderr
    assert only_line(done.stderr).startswith(
        "runstream: configuration error: RUNSTREAM_API_KEYS: entry 1 of 1"
    )
    assert not (tmp_path / "runstream.db").exists()


def test_serve_names_the_package_a_database_url_needs(tmp_path):
    done = serve(tmp_path, RUNSTREAM_DATABASE_URL="postgresql://db.internal/runs")

    assert done.returncode == EXIT_CONFIG, done.stderr
    assert "RUNSTREAM_DATABASE_URL" in only_line(done.stderr)
    assert "pip install psycopg" in done.stderr


def test_serve_names_the_variable_and_host_of_an_unreachable_database(tmp_path):
    done = serve(tmp_path, RUNSTREAM_DATABASE_URL=UNREACHABLE_MYSQL)

    assert done.returncode == EXIT_UNAVAILABLE, done.stderr
    line = only_line(done.stderr)
    assert "RUNSTREAM_DATABASE_URL" in line
    assert "host 127.0.0.1:1" in line
    assert ":pw@" not in line


def test_db_upgrade_checks_the_whole_configuration_too(tmp_path):
    done = runstream(tmp_path, "db", "upgrade", RUNSTREAM_API_KEYS="key-only")

    assert done.returncode == EXIT_CONFIG, done.stderr
    assert "RUNSTREAM_API_KEYS" in only_line(done.stderr)
    assert not (tmp_path / "runstream.db").exists()


def test_db_upgrade_names_the_variable_and_host_of_an_unreachable_database(
    tmp_path,
):
    done = runstream(
        tmp_path, "db", "upgrade", RUNSTREAM_DATABASE_URL=UNREACHABLE_MYSQL
    )

    assert done.returncode == EXIT_UNAVAILABLE, done.stderr
    line = only_line(done.stderr)
    assert line.startswith("runstream db: RUNSTREAM_DATABASE_URL: ")
    assert "host 127.0.0.1:1" in line


def test_db_check_leaves_no_empty_sqlite_file_behind(tmp_path):
    done = runstream(tmp_path, "db", "check")

    assert done.returncode == EXIT_OUT_OF_DATE, done.stderr
    assert "runstream db upgrade" in done.stderr
    assert not (tmp_path / "runstream.db").exists()


def test_db_upgrade_checks_the_database_driver_whatever_the_backends(tmp_path):
    done = runstream(
        tmp_path,
        "db",
        "upgrade",
        RUNSTREAM_EVENT_LOG="memory",
        RUNSTREAM_RUN_REPOSITORY="memory",
        RUNSTREAM_DATABASE_URL="postgresql://db.internal/runs",
    )

    assert done.returncode == EXIT_CONFIG, done.stderr
    assert "pip install psycopg" in only_line(done.stderr)
