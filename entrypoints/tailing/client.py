"""A tiny HTTP client for the service, on the standard library only."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from runstream.entrypoints.producer.answers import ServiceError
from runstream.entrypoints.producer.answers import decode as answer

__all__ = ["Service", "ServiceError", "answer"]


@dataclass(frozen=True)
class Service:
    """Where the service answers (`http://host:port`), the API key, if any, and
    the query that selects part of a run on its stream (`agent_id=...`)."""

    base_url: str
    token: str | None = None
    stream_query: str = ""

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        parts = urlsplit(self.base_url)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.netloc, timeout=timeout)
        return http.client.HTTPConnection(parts.netloc, timeout=timeout)

    def path(self, path: str) -> str:
        full = urlsplit(self.base_url).path.rstrip("/") + path
        if self.stream_query and path.endswith("/events/stream"):
            return f"{full}?{self.stream_query}"
        return full

    def headers(self, **extra: str) -> dict[str, str]:
        found = {"Accept": "application/json", **extra}
        if self.token:
            found["Authorization"] = f"Bearer {self.token}"
        return found

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10.0
    ) -> Any:
        """The decoded JSON answer; an error answer raises ServiceError, a
        network failure OSError or http.client.HTTPException."""
        connection = self.connect(timeout)
        try:
            headers = self.headers()
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, self.path(path), payload, headers)
            response = connection.getresponse()
            return answer(response.status, response.read())
        finally:
            connection.close()
