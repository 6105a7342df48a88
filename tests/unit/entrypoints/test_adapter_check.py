import pytest

from runstream.entrypoints.adapter_check import check_adapters
from runstream.entrypoints.config import ConfigError
from runstream.entrypoints.container import build_container
from runstream.entrypoints.http.app import create_app

MEMORY = {"RUNSTREAM_EVENT_LOG": "memory", "RUNSTREAM_RUN_REPOSITORY": "memory"}


def check(**env: str) -> None:
    container = build_container({**MEMORY, **env})
    try:
        check_adapters(container)
    finally:
        container.shutdown_resources()


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"RUNSTREAM_RUN_REPOSITORY": "sql", "RUNSTREAM_DATABASE_URL": "nope://x"},
         "RUNSTREAM_DATABASE_URL"),
        ({"RUNSTREAM_EVENT_LOG": "sql", "RUNSTREAM_DATABASE_URL": "sqlite+nope://"},
         "RUNSTREAM_DATABASE_URL"),
        ({"RUNSTREAM_EVENT_LOG": "redis", "RUNSTREAM_EVENT_ARCHIVE": "none",
          "RUNSTREAM_REDIS_URL": "http://localhost:6379"}, "RUNSTREAM_REDIS_URL"),
        ({"RUNSTREAM_EVENT_LOG": "redis", "RUNSTREAM_EVENT_ARCHIVE": "none",
          "RUNSTREAM_REDIS_CLUSTER": "1",
          "RUNSTREAM_REDIS_URL": "redis://127.0.0.1:1,127.0.0.1:port"},
         "RUNSTREAM_REDIS_URL"),
    ],
)  # fmt: skip
def test_an_adapter_that_cannot_be_built_is_a_startup_error_naming_the_variable(
    env, variable
):
    with pytest.raises(ConfigError) as caught:
        check(**env)

    assert str(caught.value).startswith(variable)


def test_a_cluster_nobody_answers_yet_passes_the_check_without_a_connection():
    check(
        RUNSTREAM_EVENT_LOG="redis",
        RUNSTREAM_EVENT_ARCHIVE="none",
        RUNSTREAM_REDIS_CLUSTER="1",
        RUNSTREAM_REDIS_URL="redis://127.0.0.1:1,127.0.0.1:2",
    )


def test_usable_settings_pass_and_the_built_adapters_are_the_ones_served(tmp_path):
    container = build_container(
        {
            "RUNSTREAM_EVENT_LOG": "sql",
            "RUNSTREAM_RUN_REPOSITORY": "sql",
            "RUNSTREAM_DATABASE_URL": f"sqlite:///{tmp_path}/runstream.db",
        }
    )
    log = container.sql_event_log()

    check_adapters(container)

    assert container.event_log() is log
    container.shutdown_resources()


def test_an_app_whose_settings_no_adapter_can_use_does_not_start():
    container = build_container(
        {**MEMORY, "RUNSTREAM_RUN_REPOSITORY": "sql", "RUNSTREAM_DATABASE_URL": "x"}
    )

    with pytest.raises(ConfigError, match="^RUNSTREAM_DATABASE_URL"):
        create_app(container)
