"""Liveness, readiness and Prometheus metrics; none of them needs an API key."""

from __future__ import annotations

import logging

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import MetricsDep, PoolDep, SettingsDep
from api.models import HealthPublic, ReadinessPublic
from api.readiness import check_database, check_kafka

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> HealthPublic:
    """Return ok while the process serves requests; checks no dependency."""
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    summary="Dependencies are reachable",
    response_model=ReadinessPublic,
    responses={503: {"model": ReadinessPublic, "description": "Kafka or the database is unreachable."}},
)
async def readyz(settings: SettingsDep, metrics: MetricsDep, pool: PoolDep) -> ReadinessPublic | JSONResponse:
    """Check Kafka (a metadata request) and the database (``SELECT 1``) concurrently.

    Returns 503 naming each failing dependency, so a load balancer stops sending traffic.
    """
    timeout = settings.api_readiness_timeout_seconds
    results: dict[str, str | None] = {}

    async def run_kafka() -> None:
        results["kafka"] = await check_kafka(settings.kafka_bootstrap, timeout)

    async def run_database() -> None:
        results["database"] = await check_database(pool, timeout)

    async with anyio.create_task_group() as group:
        group.start_soon(run_kafka)
        group.start_soon(run_database)

    failing = [name for name in ("kafka", "database") if results[name] is not None]
    # The endpoint needs no API key, so the body names the dependency and the log keeps the error.
    checks = {name: f"{name} unreachable" if name in failing else "ok" for name in ("kafka", "database")}
    if not failing:
        return ReadinessPublic(status="ready", checks=checks)
    for name in failing:
        metrics.readiness_failures.labels(name).inc()
        logger.warning("readiness check failed", extra={"dependency": name, "error": results[name]})
    body = ReadinessPublic(status="unavailable", checks=checks, detail=" and ".join(failing) + " unavailable")
    return JSONResponse(status_code=503, content=body.model_dump())


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."}},
)
async def prometheus_metrics(metrics: MetricsDep) -> Response:
    """Expose request counts and latency by route template and status in the Prometheus text format."""
    return Response(content=generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
