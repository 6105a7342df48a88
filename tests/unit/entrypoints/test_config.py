import pytest

from runstream.entrypoints.config import SETTINGS, ConfigError, load_config
from runstream.entrypoints.container import build_container


def test_every_variable_has_a_working_default():
    config = load_config({})

    assert config["event_log"] == {
        "backend": "sql",
        "fallback": "none",
        "archive": "sql",
        "retention_seconds": None,
        "maxlen": 10000,
        "ttl_seconds": 86400,
    }
    assert config["database"]["url"] == "sqlite:///runstream.db"
    assert config["redis"]["url"] == "redis://localhost:6379/0"
    assert config["events"]["max_bytes"] == 1048576
    assert config["sse"]["heartbeat"] == 15


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("RUNSTREAM_EVENT_LOG", "kafka", "redis, sql, memory"),
        ("RUNSTREAM_EVENT_LOG_FALLBACK", "redis", "sql, none"),
        ("RUNSTREAM_RUN_REPOSITORY", "redis", "sql, memory"),
        ("RUNSTREAM_STREAM_MAXLEN", "lots", "int"),
        ("RUNSTREAM_STREAM_MAXLEN", "0", "at least"),
        ("RUNSTREAM_REDIS_CLUSTER", "maybe", "1/0"),
    ],
)
def test_an_unusable_value_is_an_error_naming_the_variable(name, value, words):
    with pytest.raises(ConfigError) as caught:
        load_config({name: value})

    assert name in str(caught.value)
    assert words in str(caught.value)


def test_every_setting_is_a_runstream_variable():
    assert all(name.startswith("RUNSTREAM_") for name, *_ in SETTINGS)


def test_the_container_builds_the_selected_in_memory_adapters():
    container = build_container(
        {"RUNSTREAM_EVENT_LOG": "memory", "RUNSTREAM_RUN_REPOSITORY": "memory"}
    )

    assert type(container.event_log()).__name__ == "InMemoryEventLog"
    assert type(container.run_repository()).__name__ == "InMemoryRunRepository"
    assert container.event_log() is container.event_log()
