"""Authentication (contract.md §5, §4 Browser access) through the Flask test client."""

import pytest

from runstream.entrypoints.config import ConfigError
from runstream.entrypoints.http.auth import Authenticator, parse_api_keys
from tests.support.apps import API_KEYS, close_app, make_app

A = {"Authorization": "Bearer key-a"}
B = {"Authorization": "Bearer key-b"}


@pytest.fixture
def client():
    app = make_app(RUNSTREAM_API_KEYS=API_KEYS)
    yield app.test_client()
    close_app(app)


def test_malformed_api_keys_are_a_configuration_error():
    with pytest.raises(ConfigError):
        parse_api_keys("key-without-tenant")


def test_a_token_past_its_lifetime_is_refused():
    from runstream.domain.errors import Unauthorized

    issuer = Authenticator("k:t", "secret")
    token, _ = issuer.issue(1, "t")
    expired = Authenticator("k:t", "secret", token_seconds=-1)

    with pytest.raises(Unauthorized, match="expired"):
        expired.tenant_of_token(token, 1)


def test_a_token_signed_with_another_secret_is_refused():
    from runstream.domain.errors import Unauthorized

    token, _ = Authenticator("k:t", "one").issue(1, "t")

    with pytest.raises(Unauthorized):
        Authenticator("k:t", "two").tenant_of_token(token, 1)


def test_without_keys_no_credential_is_needed(app):
    assert app.test_client().post("/runs", json={"task": "t"}).status_code == 201


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic a2V5LWE6"},
     {"Authorization": "Bearer"}, {"Authorization": "key-a"}],
)  # fmt: skip
def test_a_request_without_a_valid_key_is_unauthorized(client, headers):
    response = client.get("/runs", headers=headers)

    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_operations_endpoints_need_no_key(client):
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert client.get(path).status_code == 200


def test_a_run_is_visible_only_to_its_tenant(client):
    run_id = client.post("/runs", json={"task": "t"}, headers=A).json["id"]

    assert client.get(f"/runs/{run_id}", headers=A).status_code == 200
    for path in (f"/runs/{run_id}", f"/runs/{run_id}/events"):
        response = client.get(path, headers=B)
        assert (response.status_code, response.json["code"]) == (404, "RUN_NOT_FOUND")
    assert client.get("/runs", headers=B).json["runs"] == []
    assert client.post(f"/runs/{run_id}/cancel", headers=B).status_code == 404


def test_a_stream_token_opens_that_runs_stream_only(client):
    run_id = client.post("/runs", json={"task": "t"}, headers=A).json["id"]
    other = client.post("/runs", json={"task": "t"}, headers=A).json["id"]
    client.post(f"/runs/{run_id}/cancel", headers=A)
    issued = client.post(f"/runs/{run_id}/stream-token", headers=A).json
    token = issued["token"]

    own = client.get(f"/runs/{run_id}/events/stream?access_token={token}")
    elsewhere = client.get(f"/runs/{other}/events/stream?access_token={token}")
    not_a_stream = client.get(f"/runs/{run_id}/events?access_token={token}")

    assert issued["expires_at"].endswith("Z")
    assert own.status_code == 200
    assert b"event: close" in own.data
    assert elsewhere.status_code == 401
    assert not_a_stream.status_code == 401


def test_another_tenant_cannot_get_a_stream_token(client):
    run_id = client.post("/runs", json={"task": "t"}, headers=A).json["id"]

    assert client.post(f"/runs/{run_id}/stream-token", headers=B).status_code == 404
