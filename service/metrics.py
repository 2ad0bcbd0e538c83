"""Prometheus `/metrics`: request counts and latency (multiprocess-safe under gunicorn when
PROMETHEUS_MULTIPROC_DIR is set), and the pipeline's state read from Redis at scrape time (backlog, lag,
pending, dead letters, clusters, events, webhook health) for each namespace served, so every process reports the
same truth."""
from __future__ import annotations

import os
import time
from typing import Mapping

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from spectree import Response as SpecResponse

from headline_dedup.storage.reads import Reader
from headline_dedup.storage.webhooks import WebhookStore
from headline_dedup.service.openapi import spec

# Labels come from a fixed set, never from what a client sends: each new value would be a new time series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
REQUESTS = Counter("hd_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("hd_http_request_seconds", "HTTP request latency (streams: until headers)", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


# name, help, and its value from a namespace's (stats, reader, webhooks)
PIPELINE_GAUGES = (
    ("hd_ingest_backlog", "headlines waiting in the ingest stream", lambda s, reader, hooks: s["backlog"]),
    ("hd_ingest_pending", "read by a worker, not yet acknowledged", lambda s, reader, hooks: s["pending"]),
    ("hd_dead_letters", "messages in the dead-letter stream", lambda s, reader, hooks: s["dead_letters"]),
    ("hd_clusters", "clusters within retention", lambda s, reader, hooks: s["clusters"]),
    ("hd_events", "entries kept in the events stream", lambda s, reader, hooks: s["events"]),
    ("hd_ingest_lag_seconds", "age of the oldest queued headline", lambda s, reader, hooks: reader.ingest_lag()),
    ("hd_webhooks_disabled", "disabled webhooks", lambda s, reader, hooks: sum(not h["active"] for h in hooks)),
    ("hd_webhook_failing_attempts", "consecutive failed attempts, summed over webhooks",
     lambda s, reader, hooks: sum(h["failures"] for h in hooks)),
)


class PipelineCollector:
    """Gauges read from Redis when Prometheus scrapes: one series per namespace the API serves (label
    `namespace`, from the settings, never from a request)."""

    def __init__(self, sources: Mapping[str, tuple[Reader, WebhookStore]]):
        self.sources = sources

    def collect(self):
        gauges = [(GaugeMetricFamily(name, doc, labels=["namespace"]), value) for name, doc, value in PIPELINE_GAUGES]
        for namespace, (reader, hooks) in sorted(self.sources.items()):
            stats, webhooks = reader.stats(), hooks.all()
            for gauge, value in gauges:
                gauge.add_metric([namespace], value(stats, reader, webhooks))
        yield from (gauge for gauge, _ in gauges)


def install(app: Flask, sources: Mapping[str, tuple[Reader, WebhookStore]]) -> None:
    """Count requests, and serve `/metrics` with the pipeline gauges of each namespace in `sources`."""
    pipeline = PipelineCollector(sources)

    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(resp):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in METHODS else "other"
        status = str(resp.status_code) if 100 <= resp.status_code <= 599 else "other"
        REQUESTS.labels(method, route, status).inc()
        LATENCY.labels(route).observe(time.perf_counter() - g.get("metrics_started", time.perf_counter()))
        return resp

    @app.get("/metrics")
    @spec.validate(resp=SpecResponse("HTTP_200"), tags=["operations"])
    def metrics():
        """Prometheus text exposition."""
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)
        else:
            registry.register(REQUESTS)
            registry.register(LATENCY)
        registry.register(pipeline)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
