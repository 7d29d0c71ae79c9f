"""The FastAPI application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from psycopg_pool import PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import ApiSettings
from api.db import create_pool
from api.exceptions import DATABASE_UNAVAILABLE, INTERNAL_ERROR, ApiError
from api.keys import KeyCache
from api.metrics import UNMATCHED_ROUTE, ApiMetrics
from api.routes import alerts, controllers, exports, farms, health, houses, predictions, readings, scrape_logs
from api.validation import validation_error

logger = logging.getLogger(__name__)

API_VERSION = "1.0.0"

_DESCRIPTION = """
Read access to farmstream: farms, houses and controllers, sensor readings (raw and aggregated),
alerts with acknowledgement and resolution, failure predictions, recommendations and scrape logs.

Every endpoint except `/healthz`, `/readyz` and `/metrics` needs an API key, sent as `X-API-Key`
or `Authorization: Bearer`. A key reads only its own farms: lists contain only those farms, an
explicit `farm_id` outside them is rejected with 403, and single resources of other farms are
reported as not found (404).
"""

_TAGS = [
    {"name": "farms", "description": "Farms, one per RotemNet portal account."},
    {"name": "houses", "description": "Broiler houses of a farm."},
    {"name": "controllers", "description": "Climate controllers and their connection state."},
    {"name": "readings", "description": "Sensor readings: raw, 5-minute, 1-hour and 1-day buckets."},
    {"name": "alerts", "description": "Alerts from the stream processors; acknowledge and resolve them."},
    {"name": "predictions", "description": "Failure predictions and environmental recommendations."},
    {"name": "scrape logs", "description": "Outcome of each scrape cycle of each farm."},
    {"name": "exports", "description": "CSV downloads of readings and alerts."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics; no API key needed."},
]


class RequestMetricsMiddleware:
    """Count requests and time them by method, route template and status code."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            # The router stores the matched route in the scope; its template keeps labels bounded.
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            labels = (scope["method"], route, str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.request_duration.labels(*labels).observe(time.perf_counter() - started)


async def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    logger.error(
        "database error while serving a request",
        extra={"path": request.url.path, "error": f"{type(error).__name__}: {error}"},
    )
    return JSONResponse({"detail": DATABASE_UNAVAILABLE}, status_code=503)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.error("unexpected error while serving a request", extra={"path": request.url.path}, exc_info=error)
    return JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)


def create_app(
    settings: ApiSettings | None = None,
    registry: CollectorRegistry | None = None,
    key_cache: KeyCache | None = None,
) -> FastAPI:
    """Build the API; the database pool opens when the application starts and closes when it stops.

    ``registry`` receives the API's metrics; tests pass a fresh one each. ``key_cache`` defaults to
    one that keeps verified keys for FARMSTREAM_API_KEY_CACHE_SECONDS; tests pass one with a fake clock.
    """
    settings = settings if settings is not None else ApiSettings()
    metrics = ApiMetrics(registry if registry is not None else CollectorRegistry())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = create_pool(settings)
        # Open without waiting, so the API starts (and /readyz reports it) while the database is down.
        await pool.open(wait=False)
        app.state.pool = pool
        logger.info("API started", extra={"pool_size": settings.api_pool_size})
        try:
            yield
        finally:
            await pool.close()
            logger.info("API stopped")

    app = FastAPI(
        title="farmstream API",
        version=API_VERSION,
        description=_DESCRIPTION,
        openapi_tags=_TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.key_cache = key_cache if key_cache is not None else KeyCache(settings.api_key_cache_seconds)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(psycopg.OperationalError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
    for module in (health, farms, houses, controllers, readings, alerts, predictions, scrape_logs, exports):
        app.include_router(module.router)
    return app
