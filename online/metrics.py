"""Prometheus metrics of the API, on a registry of its own (one per app instance)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
    0.075, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip


class Metrics:
    """Request latency per route, stage latencies, degraded count, model version."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Histogram(
            "colisten_http_request_seconds",
            "Request latency by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stage = Histogram(
            "colisten_recommend_stage_seconds",
            "Time per recommendation stage: features, tower, index.",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.feature_fetch = Histogram(
            "colisten_feature_fetch_seconds",
            "Online feature fetch latency (two_tower_user_v1), by outcome.",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.degraded = Counter(
            "colisten_degraded_responses",
            "Responses served from the popularity fallback, by reason.",
            ["reason"],
            registry=r,
        )
        self.events = Counter(
            "colisten_events", "POST /v1/events outcomes.", ["outcome"], registry=r
        )
        self.model = Info(
            "colisten_model", "The model version being served.", registry=r
        )
        self.model_swaps = Counter(
            "colisten_model_swaps", "Model versions swapped in.", registry=r
        )
        self.index_items = Gauge(
            "colisten_index_items",
            "Items in the retrieval index.",
            ["item_type"],
            registry=r,
        )

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)
