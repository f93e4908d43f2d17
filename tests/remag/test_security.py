"""HTTPS redirect as production runs it (the suite turns it off for its test clients)."""

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def production_redirect(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(production_redirect: None) -> None:
    response = Client().get("/api/v1/me/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/v1/me/"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected(production_redirect: None, path: str) -> None:
    assert Client().get(path).status_code in (200, 503)


@pytest.mark.django_db
def test_https_requests_are_served(production_redirect: None) -> None:
    assert Client().get("/api/v1/me/", secure=True).status_code == 401
