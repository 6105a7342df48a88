"""Every failure as `{"code", "message"}` with the contract's status (contract.md §4).

One table maps each domain error family to its code; HTTP errors raised by Flask
itself (unknown path, wrong method, body too large, malformed request) and any
unexpected exception are answered in the same shape, never as an HTML page.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

from runstream.domain.errors import (
    DomainError,
    EventTooLarge,
    IdempotencyKeyReused,
    InvalidEventId,
    InvalidRequest,
    RunExpired,
    RunNotActive,
    RunNotFound,
    StorageUnavailable,
    Unauthorized,
)

logger = logging.getLogger(__name__)

# Most specific first: InvalidEvent is an InvalidRequest, InvalidTransition a
# RunNotActive.
DOMAIN_ERRORS: tuple[tuple[type[DomainError], str, int], ...] = (
    (RunNotFound, "RUN_NOT_FOUND", 404),
    (RunExpired, "RUN_EXPIRED", 410),
    (StorageUnavailable, "REDIS_UNAVAILABLE", 503),
    (InvalidEventId, "INVALID_EVENT_ID", 400),
    (EventTooLarge, "EVENT_TOO_LARGE", 413),
    (RunNotActive, "RUN_NOT_ACTIVE", 409),
    (Unauthorized, "UNAUTHORIZED", 401),
    (IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED", 422),
    (InvalidRequest, "INVALID_REQUEST", 400),
)
# Errors the HTTP layer itself raises; any other 4xx is an INVALID_REQUEST.
HTTP_ERRORS = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "EVENT_TOO_LARGE",
    500: "INTERNAL_ERROR",
}
UNEXPECTED = ("INTERNAL_ERROR", 500)


def error_response(code: str, message: str, status: int) -> Response:
    response = jsonify(code=code, message=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="runstream"'
    return response


def classify(error: DomainError) -> tuple[str, int]:
    for family, code, status in DOMAIN_ERRORS:
        if isinstance(error, family):
            return code, status
    return UNEXPECTED


def _domain_error(error: DomainError) -> Response:
    code, status = classify(error)
    if isinstance(error, StorageUnavailable):
        logger.warning("storage unavailable: %s", error)
        current_app.container.metrics().backend_errors.inc()  # type: ignore[attr-defined]
    return error_response(code, str(error) or code, status)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = HTTP_ERRORS.get(status, "INVALID_REQUEST" if status < 500 else "")
    if not code:
        code = UNEXPECTED[0]
    if status == 413:
        message = "the request body is over the size limit"
    else:
        message = error.description or error.name
    response = error_response(code, message, status)
    for name, value in error.get_headers():
        if name == "Allow":
            response.headers["Allow"] = value
    return response


def _unexpected(error: Exception) -> Response:
    logger.exception("unexpected error", exc_info=error)
    return error_response(UNEXPECTED[0], "internal error", UNEXPECTED[1])


def register_errors(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
