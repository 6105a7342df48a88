"""Configuration errors name the variable in one line; `.env` reads like a shell's."""

from __future__ import annotations

import pytest

from runstream.entrypoints.config import ConfigError, load_config
from runstream.entrypoints.startup_check import check_before_start


def error_of(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        check_before_start(load_config(environ))
    return str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("RUNSTREAM_STREAM_MAXLEN", "lots", "expected an integer"),
        ("RUNSTREAM_HEARTBEAT_SECONDS", "soon", "expected a number"),
    ],
)
def test_a_malformed_number_says_which_kind_of_number_in_plain_english(
    name, value, expected
):
    message = error_of({name: value})

    assert message == f"{name}={value!r}: {expected}"


def test_malformed_api_keys_are_one_line_that_never_repeats_a_key():
    message = error_of({"RUNSTREAM_API_KEYS": "good:tenant,s3cret-without-tenant"})

    assert message.startswith("RUNSTREAM_API_KEYS: entry 2 of 2 is not key:tenant")
    assert "s3cret" not in message
    assert "\n" not in message


def test_a_replica_timeout_not_below_the_redis_timeout_is_refused():
    message = error_of(
        {
            "RUNSTREAM_REDIS_MIN_REPLICAS": "1",
            "RUNSTREAM_REDIS_TIMEOUT_SECONDS": "0.5",
            "RUNSTREAM_REDIS_REPLICA_TIMEOUT_MS": "500",
        }
    )

    assert message.startswith("RUNSTREAM_REDIS_REPLICA_TIMEOUT_MS=500: must be below")
    assert "RUNSTREAM_REDIS_TIMEOUT_SECONDS (0.5 s)" in message


def test_the_replica_timeout_is_free_while_no_replica_is_awaited():
    config = load_config(
        {
            "RUNSTREAM_REDIS_TIMEOUT_SECONDS": "0.5",
            "RUNSTREAM_REDIS_REPLICA_TIMEOUT_MS": "500",
        }
    )

    assert config["redis"]["replica_timeout_ms"] == 500


def test_a_database_url_whose_driver_is_missing_names_the_package_to_install():
    message = error_of({"RUNSTREAM_DATABASE_URL": "postgresql://db.internal/runs"})

    assert message.startswith("RUNSTREAM_DATABASE_URL: the postgresql driver")
    assert "pip install psycopg" in message


def test_a_database_url_that_does_not_parse_is_named():
    message = error_of({"RUNSTREAM_DATABASE_URL": "runstream.db"})

    assert message.startswith("RUNSTREAM_DATABASE_URL: not a database URL")


def test_the_database_url_is_not_checked_when_nothing_is_kept_in_sql():
    config = load_config(
        {
            "RUNSTREAM_EVENT_LOG": "memory",
            "RUNSTREAM_RUN_REPOSITORY": "memory",
            "RUNSTREAM_DATABASE_URL": "postgresql://db.internal/runs",
        }
    )

    check_before_start(config)


def test_dotenv_accepts_export_quotes_and_trailing_comments(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(
        "# the local settings\n"
        "export RUNSTREAM_EVENT_LOG=memory\n"
        "RUNSTREAM_STREAM_MAXLEN=50  # a small hot window\n"
        "RUNSTREAM_API_KEYS='key:team # not a comment inside quotes'\n"
    )
    monkeypatch.chdir(tmp_path)
    for name in ("EVENT_LOG", "STREAM_MAXLEN", "API_KEYS"):
        monkeypatch.delenv(f"RUNSTREAM_{name}", raising=False)

    config = load_config()

    assert config["event_log"]["backend"] == "memory"
    assert config["event_log"]["maxlen"] == 50
    assert config["auth"]["api_keys"] == "key:team # not a comment inside quotes"


def test_the_process_environment_wins_over_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("RUNSTREAM_STREAM_MAXLEN=50\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNSTREAM_STREAM_MAXLEN", "70")

    assert load_config()["event_log"]["maxlen"] == 70
