import pytest

from tests.services import require_program
from tests.support.redis_server import RedisServer


def test_a_missing_server_program_skips_with_a_reason_on_a_developer_machine(
    monkeypatch,
):
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception) as skipped:
        RedisServer(binary="redis-server-that-is-not-installed")

    assert "redis-server-that-is-not-installed is not installed" in str(skipped.value)


def test_a_missing_server_program_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception) as failed:
        require_program("redis-server-that-is-not-installed")

    assert "CI requires every service" in str(failed.value)
