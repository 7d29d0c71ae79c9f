"""Prometheus metrics of the REST API, all built against one registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# Latency buckets in seconds, finer below 100 ms where the API's targets sit.
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

UNMATCHED_ROUTE = "<unmatched>"
"""Route label of requests that matched no route, so unknown paths cannot grow the label set."""


class ApiMetrics:
    """Request counts and latency by route template, authentication, key cache and readiness counters."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "farmstream_api_requests_total",
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_duration = Histogram(
            "farmstream_api_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its response.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.auth_failures = Counter(
            "farmstream_api_auth_failures_total",
            "Requests rejected with 401, by reason (missing or invalid key).",
            ["reason"],
            registry=registry,
        )
        self.key_cache_hits = Counter(
            "farmstream_api_key_cache_hits_total",
            "Requests authenticated from the cache of recently verified API keys, without a database lookup.",
            registry=registry,
        )
        self.readiness_failures = Counter(
            "farmstream_api_readiness_failures_total",
            "Failed dependency checks of /readyz, by dependency (kafka or database).",
            ["dependency"],
            registry=registry,
        )
