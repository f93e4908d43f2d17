"""Parallel clients never get more than their rate (the limiter is atomic)."""

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from rest_framework.test import APIClient

from tests.conftest import client_with
from tests.factories import MembershipFactory, UserTokenFactory

THREADS = 8


def hammer(make_client: Callable[[], APIClient], path: str, per_thread: int) -> Counter[int]:
    """``THREADS`` clients each send ``per_thread`` requests, all starting together."""
    barrier = threading.Barrier(THREADS)

    def run() -> list[int]:
        client = make_client()
        barrier.wait()
        try:
            return [client.get(path).status_code for _ in range(per_thread)]
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(run) for _ in range(THREADS)]
        return Counter(status for future in futures for status in future.result())


@pytest.mark.django_db(transaction=True)
def test_parallel_clients_of_one_user_get_exactly_the_rate(settings: Any, redis_url: str) -> None:
    settings.REMAG_THROTTLE_RATES = {
        "anon": "1000/minute",
        "user": "60/minute",
        "api_key": "1/minute",
    }
    assert isinstance(caches["default"], RedisCache)
    raw = UserTokenFactory(user=MembershipFactory().user).raw_key

    statuses = hammer(lambda: client_with(f"Bearer {raw}"), "/api/v1/me/", per_thread=15)

    assert statuses == Counter({200: 60, 429: THREADS * 15 - 60})


@pytest.mark.django_db(transaction=True)
def test_parallel_anonymous_clients_of_one_address_get_exactly_the_rate(
    settings: Any, redis_url: str
) -> None:
    settings.REMAG_THROTTLE_RATES = {"anon": "30/minute", "user": "1/minute", "api_key": "1/minute"}

    statuses = hammer(APIClient, "/api/v1/me/", per_thread=10)

    assert statuses == Counter({401: 30, 429: THREADS * 10 - 30})


@pytest.mark.django_db(transaction=True)
def test_parallel_clients_without_redis_get_exactly_the_rate(settings: Any) -> None:
    """``make run``'s default: the local-memory cache, still exact within the process."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle-parallel",
        }
    }
    settings.REMAG_THROTTLE_RATES = {
        "anon": "1000/minute",
        "user": "40/minute",
        "api_key": "1/minute",
    }
    raw = UserTokenFactory(user=MembershipFactory().user).raw_key

    statuses = hammer(lambda: client_with(f"Bearer {raw}"), "/api/v1/me/", per_thread=10)

    assert statuses == Counter({200: 40, 429: THREADS * 10 - 40})
