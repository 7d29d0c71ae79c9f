"""Dependencies shared by the routers, each declared once as an ``Annotated`` alias."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import AsyncConnectionPool

from api.config import ApiSettings
from api.db import AsyncConnection
from api.exceptions import (
    FARM_OUTSIDE_SCOPE,
    INVALID_KEY,
    MISSING_KEY,
    NotAuthenticated,
    OutsideScope,
    invalid_parameter,
)
from api.keys import KeyCache, Principal, authenticate
from api.metrics import ApiMetrics

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key printed by `farmstream apikey create`."
)
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


# Dependencies that do no I/O are still ``async def``, because FastAPI runs a plain ``def``
# dependency in a worker thread, which costs a thread hop per dependency and request.


async def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


async def get_metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


async def get_pool(request: Request) -> AsyncConnectionPool[AsyncConnection]:
    pool: AsyncConnectionPool[AsyncConnection] = request.app.state.pool
    return pool


async def get_key_cache(request: Request) -> KeyCache:
    cache: KeyCache = request.app.state.key_cache
    return cache


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]
PoolDep = Annotated[AsyncConnectionPool[AsyncConnection], Depends(get_pool)]
KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]


async def get_connection(pool: PoolDep) -> AsyncIterator[AsyncConnection]:
    """Lend one pooled connection to the request's dependencies and route function."""
    async with pool.connection() as connection:
        yield connection


# The connection goes back to the pool when the route function returns, before the response is
# sent, so a streaming response can take its own connection even from a pool of one.
ConnectionDep = Annotated[AsyncConnection, Depends(get_connection, scope="function")]


async def get_principal(
    connection: ConnectionDep,
    metrics: MetricsDep,
    cache: KeyCacheDep,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the request by ``X-API-Key`` or ``Authorization: Bearer`` and return its caller."""
    key = api_key or (bearer.credentials if bearer is not None else None)
    challenge = {"WWW-Authenticate": "Bearer"}
    if not key:
        metrics.auth_failures.labels("missing").inc()
        raise NotAuthenticated(MISSING_KEY, headers=challenge)
    principal = cache.get(key)
    if principal is not None:
        metrics.key_cache_hits.inc()
        return principal
    principal = await authenticate(connection, key)
    if principal is None:
        metrics.auth_failures.labels("invalid").inc()
        raise NotAuthenticated(INVALID_KEY, headers=challenge)
    cache.put(key, principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_page_limit(
    settings: SettingsDep,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Rows per page; at most FARMSTREAM_API_PAGE_SIZE_MAX (default 5000)."),
    ] = None,
) -> int:
    if limit is None:
        return settings.api_page_size_default
    if limit > settings.api_page_size_max:
        raise invalid_parameter(
            "limit", f"limit must be at most {settings.api_page_size_max}; follow next_cursor instead", limit
        )
    return limit


PageLimitDep = Annotated[int, Depends(get_page_limit)]


def farms_in_scope(principal: Principal, farm_id: str | None) -> list[str]:
    """Return the farms a list query may read: the requested farm, or every farm of the key.

    An explicit farm outside the key's scope raises 403, because the caller named it.
    """
    if farm_id is None:
        return sorted(principal.farm_ids)
    if not principal.allows(farm_id):
        raise OutsideScope(FARM_OUTSIDE_SCOPE)
    return [farm_id]
