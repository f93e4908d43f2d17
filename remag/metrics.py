"""Prometheus metrics at ``/metrics`` (prometheus-client; docs/operations.md says what to
alert on).

- ``remag_http_requests_total{method,route,status}`` and
  ``remag_http_request_duration_seconds{method,route,status}``: every request, by URL
  pattern and status;
- ``remag_jobs{kind,state}``: match runs, imports and webhook deliveries by state;
- ``remag_job_oldest_queued_seconds{kind}``: how long the oldest due job has waited;
- ``remag_job_sweep_resent_total{kind}``: jobs the sweeps had to resend (lost messages,
  dead workers);
- ``remag_celery_queue_length{queue}``: messages waiting in each Celery queue (Redis).

The job and queue figures are read from the database and Redis when scraped, so every
web process answers the same. Request figures are per process; with several gunicorn
processes set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder shared by them (the
gunicorn config then merges them and cleans up after dead workers).

The endpoint is closed: it answers only ``Authorization: Bearer <METRICS_TOKEN>``, and
``404`` while ``METRICS_TOKEN`` is unset.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from remag.api.problems import problem_http_response

REQUESTS = Counter("remag_http_requests", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "remag_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    # Routers write regular expressions ("^suppliers/$"); the label is the plain path.
    return (match.route or match.view_name or "unmatched").replace("^", "").replace("$", "")


class MetricsMiddleware:
    """Counts and times every request by method, URL pattern and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


class JobsCollector(Collector):
    """Job states, waiting times, sweep resends and queue lengths, read when scraped."""

    def collect(self) -> Iterator[Any]:
        from remag import jobs, queues
        from remag.celery import app

        app.loader.import_default_modules()  # every kind's module, through its tasks
        states = GaugeMetricFamily(
            "remag_jobs", "Jobs by kind and state.", labels=["kind", "state"]
        )
        oldest = GaugeMetricFamily(
            "remag_job_oldest_queued_seconds",
            "Seconds the oldest due, queued job of each kind has waited (0 when none).",
            labels=["kind"],
        )
        resent = CounterMetricFamily(
            "remag_job_sweep_resent",
            "Jobs the sweeps resent (lost messages, dead workers).",
            labels=["kind"],
        )
        now = timezone.now()
        from django.core.cache import cache

        for kind in {kind.label: kind for kind in jobs.KINDS}.values():
            model = kind.model
            counts = dict(model.objects.values_list("status").annotate(n=Count("id")).order_by())
            for state, _label in model._meta.get_field("status").choices:
                states.add_metric([kind.label, state], counts.get(state, 0))
            waiting = (
                model.objects.filter(status=model.QUEUED, enqueued_at__lte=now)
                .filter(heartbeat_at__isnull=True)
                .aggregate(first=Min("enqueued_at"))["first"]
            )
            oldest.add_metric([kind.label], (now - waiting).total_seconds() if waiting else 0)
            try:
                swept = cache.get(jobs.sweep_counter_key(kind)) or 0
            except Exception:
                swept = 0
            resent.add_metric([kind.label], float(swept))
        yield states
        yield oldest
        yield resent
        yield from _queue_lengths(
            queues.all_queues(settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_QUEUE_PREFIX)
        )


def _queue_lengths(names: list[str]) -> Iterator[Any]:
    if not settings.REDIS_URL:
        return
    import redis

    family = GaugeMetricFamily(
        "remag_celery_queue_length", "Messages waiting in each Celery queue.", labels=["queue"]
    )
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        for name in names:
            family.add_metric([name], client.llen(name))
        client.close()
    except redis.RedisError:
        return
    yield family


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return registry


_JOBS = JobsCollector()


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.REMAG_METRICS_TOKEN
    if not token:
        return problem_http_response(
            request, status_code=404, slug="not-found", detail="Metrics are not enabled."
        )
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return problem_http_response(
            request,
            status_code=401,
            slug="not-authenticated",
            detail="Send Authorization: Bearer <METRICS_TOKEN>.",
        )
    registry = CollectorRegistry()
    registry.register(_JOBS)
    body = generate_latest(_registry()) + generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
