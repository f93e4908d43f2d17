"""/healthz says the process answers; /readyz checks the database, cache and broker."""

import copy
from typing import Any

import pytest
from django.db import connection
from django.test import Client


def test_healthz_needs_nothing() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ready_when_everything_answers() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_checks_redis_when_configured(redis_url: str) -> None:
    checks = Client().get("/readyz").json()["checks"]

    assert checks["cache"]["ok"] is True
    assert checks["broker"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_readyz_names_a_broken_database(postgres: None, monkeypatch: Any) -> None:
    # (An in-memory SQLite test database cannot be disconnected, hence PostgreSQL only.)
    # The pool was made with the working address: close it so a new one uses port 1.
    connection.close()
    connection.close_pool()
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")
    options = connection.settings_dict["OPTIONS"]
    if "pool" in options:
        pool = {**options["pool"], "timeout": 1.0}
        monkeypatch.setitem(connection.settings_dict, "OPTIONS", {**options, "pool": pool})
    try:
        response = Client().get("/readyz")
    finally:
        connection.close()
        connection.close_pool()

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["failing"] == ["database"]
    assert "database" in body["detail"]


@pytest.mark.django_db
def test_readyz_names_a_broken_redis(settings: Any) -> None:
    broken = "redis://127.0.0.1:1/0"
    caches = copy.deepcopy(settings.CACHES)
    caches["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": broken,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    settings.CACHES = caches
    settings.REDIS_URL = broken
    settings.CELERY_BROKER_URL = broken
    settings.CELERY_TASK_ALWAYS_EAGER = False

    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache", "broker"]
    assert body["checks"]["database"]["ok"] is True
