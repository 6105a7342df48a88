"""Authentication (docs/contract.md §5): API keys map to tenants; stream tokens for
EventSource, which cannot send headers."""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from runstream.domain.errors import Unauthorized
from runstream.entrypoints.config import ConfigError
from runstream.entrypoints.http.validation import run_id_of

TOKEN_SECONDS = 300
STREAM_ENDPOINT = "stream.stream_events"


def parse_api_keys(text: str) -> dict[str, str]:
    """`key:tenant,key:tenant` -> {key: tenant}; empty text means auth is off."""
    keys: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        key, sep, tenant = pair.partition(":")
        if not sep or not key.strip() or not tenant.strip():
            raise ConfigError(f"RUNSTREAM_API_KEYS: {pair!r} is not key:tenant")
        keys[key.strip()] = tenant.strip()
    return keys


class Authenticator:
    """Checks Bearer keys and issues/verifies run-bound stream tokens."""

    def __init__(
        self,
        api_keys: str = "",
        token_secret: str = "",
        token_seconds: int = TOKEN_SECONDS,
    ) -> None:
        self._keys = parse_api_keys(api_keys)
        self._lifetime = token_seconds
        # Without a configured secret, every worker derives the same one from
        # the keys, so a token issued by one worker is accepted by the others.
        secret = (
            token_secret
            or hashlib.sha256(f"runstream-stream-token:{api_keys}".encode()).hexdigest()
        )
        self._tokens = URLSafeTimedSerializer(secret, salt="runstream.stream-token")

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def tenant_of_key(self, header: str) -> str:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized("expected Authorization: Bearer <key>")
        given = key.strip().encode()
        tenant = None
        for known, owner in self._keys.items():
            if hmac.compare_digest(known.encode(), given):
                tenant = owner
        if tenant is None:
            raise Unauthorized("unknown API key")
        return tenant

    def issue(self, run_id: int, tenant: str | None) -> tuple[str, float]:
        """A token for `run_id`'s stream and when it expires (epoch seconds)."""
        token = self._tokens.dumps({"run": run_id, "tenant": tenant})
        return token, time.time() + self._lifetime

    def tenant_of_token(self, token: str, run_id: int) -> str | None:
        try:
            claims = self._tokens.loads(token, max_age=self._lifetime)
        except SignatureExpired:
            raise Unauthorized("the stream token has expired") from None
        except BadSignature:
            raise Unauthorized("invalid stream token") from None
        if not isinstance(claims, dict) or claims.get("run") != run_id:
            raise Unauthorized("the stream token is for another run")
        tenant = claims.get("tenant")
        return tenant if isinstance(tenant, str) else None


def authenticate() -> None:
    """Blueprint hook: set `g.tenant`, or raise Unauthorized."""
    authenticator: Authenticator = current_app.container.authenticator()  # type: ignore[attr-defined]
    g.tenant = None
    if not authenticator.enabled:
        return
    header = request.headers.get("Authorization")
    if header:
        g.tenant = authenticator.tenant_of_key(header)
        return
    token = request.args.get("access_token")
    if token and request.endpoint == STREAM_ENDPOINT and request.view_args:
        run_id = run_id_of(str(request.view_args.get("run_id", "")))
        g.tenant = authenticator.tenant_of_token(token, run_id)
        return
    raise Unauthorized("authentication required: Authorization: Bearer <key>")


def tenant() -> str | None:
    found: str | None = g.get("tenant")
    return found
