"""Liveness and readiness probes for orchestrators and load balancers.

``/healthz`` says the process answers. ``/readyz`` checks each dependency the process
needs to do useful work: the database always; the cache and the broker when Redis is
configured. A failing check makes it answer 503 with a problem document naming the part.
"""

import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import get_random_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from remag.api.problems import problem_http_response

_TIMEOUT_SECONDS = 2.0


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    cache = caches["default"]
    probe_key = f"readyz:{get_random_string(12)}"
    cache.set(probe_key, "1", timeout=10)
    if cache.get(probe_key) != "1":
        raise RuntimeError("a value written to the cache could not be read back")
    cache.delete(probe_key)


def check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise RuntimeError(f"unsupported broker URL scheme in {url.split(':', 1)[0]!r}")
    client = redis.Redis.from_url(
        url, socket_connect_timeout=_TIMEOUT_SECONDS, socket_timeout=_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": check_database}
    if settings.REDIS_URL:
        checks["cache"] = check_cache
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = check_broker
    return checks


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, Any]] = {}
    for name, check in readiness_checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    failing = [name for name, result in results.items() if not result["ok"]]
    if failing:
        return problem_http_response(
            request,
            status_code=503,
            slug=None,
            detail=f"Not ready: {', '.join(failing)} unreachable.",
            extra={"failing": failing, "checks": results},
        )
    return JsonResponse({"status": "ready", "checks": results})
