"""Errors the API returns, each with a fixed ``detail`` message that clients and tests can match."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError


class ApiError(Exception):
    """An error returned as ``{"detail": <fixed message>}`` with an HTTP status."""

    status_code = 500

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class NotAuthenticated(ApiError):
    """No API key, or a key that is malformed, unknown or revoked."""

    status_code = 401


class OutsideScope(ApiError):
    """An explicit farm filter names a farm the API key may not read."""

    status_code = 403


class NotFound(ApiError):
    """A single resource that does not exist or belongs to a farm outside the key's scope."""

    status_code = 404


class Conflict(ApiError):
    """An action that the resource's current state does not allow, such as resolving twice."""

    status_code = 409


class DependencyUnavailable(ApiError):
    """The database did not respond in time."""

    status_code = 503


MISSING_KEY = "missing API key"
INVALID_KEY = "invalid API key"
FARM_OUTSIDE_SCOPE = "farm outside the API key's scope"
FARM_NOT_FOUND = "farm not found"
HOUSE_NOT_FOUND = "house not found"
CONTROLLER_NOT_FOUND = "controller not found"
ALERT_NOT_FOUND = "alert not found"
ALERT_ALREADY_ACKNOWLEDGED = "alert already acknowledged"
ALERT_ALREADY_RESOLVED = "alert already resolved"
DATABASE_UNAVAILABLE = "database unavailable"
INTERNAL_ERROR = "internal server error"


def invalid_parameter(
    field: str, message: str, value: Any, location: str = "query"
) -> RequestValidationError:
    """Return a 422 error in FastAPI's own shape, naming the parameter that failed a cross-field check."""
    return RequestValidationError(
        [{"type": "value_error", "loc": (location, field), "msg": message, "input": value}]
    )
