"""Rate limits per API key and per user, kept in the real Redis cache."""

from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from tests.factories import APIKeyFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings: Any, redis_url: str) -> None:
    settings.REMAG_THROTTLE_RATES = {"anon": "2/minute", "user": "3/minute", "api_key": "3/minute"}
    assert isinstance(caches["default"], RedisCache)


def test_user_over_the_rate_gets_429_with_retry_after(
    low_rates: None, user_client: Any, redis_client: Any, cache_key_prefix: str
) -> None:
    client = user_client(MembershipFactory().user)

    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    response = client.get("/api/v1/me/")

    assert statuses == [200, 200, 200, 429]
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/problems/throttled"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json()["retry_after_seconds"] == retry_after
    # The bucket lives in Redis, under this test's cache namespace.
    assert redis_client.keys(f"{cache_key_prefix}:*throttle:user:*")


def test_each_api_key_has_its_own_bucket(low_rates: None, key_client: Any) -> None:
    organization = OrganizationFactory(kind="portal")
    first = key_client(organization, ("read",))
    second = key_client(organization, ("read",))

    assert [first.get("/api/v1/me/").status_code for _ in range(4)][-1] == 429
    assert second.get("/api/v1/me/").status_code == 200


def test_anonymous_callers_are_limited_by_address(low_rates: None, api_client: Any) -> None:
    statuses = [api_client.get("/api/v1/me/").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


def test_rates_come_from_settings(settings: Any, redis_url: str) -> None:
    api_key = APIKeyFactory()
    settings.REMAG_THROTTLE_RATES = {"api_key": "1/minute"}
    from tests.conftest import client_with

    client = client_with(f"Api-Key {api_key.raw_key}")

    assert [client.get("/api/v1/me/").status_code for _ in range(2)] == [200, 429]


def test_failed_authentication_spends_the_budget(low_rates: None, api_client: Any) -> None:
    """Guessing keys is throttled like any anonymous call."""
    api_client.credentials(HTTP_X_API_KEY="abcdefgh.guessed-secret")

    statuses = [api_client.get("/api/v1/me/").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


def test_every_api_view_throttles_before_checking_permissions() -> None:
    from django.urls import get_resolver
    from rest_framework.views import APIView

    from remag.api.viewsets import ThrottleFirstMixin

    def walk(patterns: Any) -> Any:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern.callback

    api_views = {
        getattr(cb, "cls", None)
        for cb in walk(get_resolver().url_patterns)
        if getattr(cb, "cls", None) and issubclass(cb.cls, APIView)
    }
    ours = {v for v in api_views if v.__module__.startswith(("remag", "suppliers", "matching"))}
    assert ours
    assert {v for v in ours if not issubclass(v, ThrottleFirstMixin)} == set()


def test_the_count_survives_redis_forgetting_its_scripts(
    low_rates: None, user_client: Any, redis_client: Any
) -> None:
    # The window's script is sent by its digest once registered; a restarted Redis (or
    # SCRIPT FLUSH) has forgotten it, and the count goes on rather than failing.
    client = user_client(MembershipFactory().user)

    first = [client.get("/api/v1/me/").status_code for _ in range(2)]
    redis_client.script_flush()
    rest = [client.get("/api/v1/me/").status_code for _ in range(2)]

    assert first + rest == [200, 200, 200, 429]
