"""Request bodies over the limit are refused with 413 before anything reads them."""

import json
from typing import Any

import pytest

from remag.accounts.models import OrganizationAPIKey
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_url(user_client: Any) -> tuple[Any, str]:
    membership = MembershipFactory(role="admin")
    return (
        user_client(membership.user),
        f"/api/v1/organizations/{membership.organization.id}/api-keys/",
    )


def test_body_over_limit_is_413(settings: Any, admin_client_url: tuple[Any, str]) -> None:
    settings.REMAG_MAX_REQUEST_BODY_BYTES = 200
    client, url = admin_client_url
    body = json.dumps({"name": "k", "scopes": ["read"], "padding": "x" * 300})

    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/problems/payload-too-large"
    assert problem["max_bytes"] == 200
    assert not OrganizationAPIKey.objects.exists()


def test_body_under_limit_passes(settings: Any, admin_client_url: tuple[Any, str]) -> None:
    settings.REMAG_MAX_REQUEST_BODY_BYTES = 200
    client, url = admin_client_url

    response = client.post(url, {"name": "k", "scopes": ["read"]})

    assert response.status_code == 201


def test_default_limit_is_one_mebibyte(admin_client_url: tuple[Any, str]) -> None:
    client, url = admin_client_url
    body = json.dumps({"name": "k", "scopes": ["read"], "padding": "x" * (1024 * 1024)})

    assert client.post(url, data=body, content_type="application/json").status_code == 413


def test_garbage_content_length_is_400(admin_client_url: tuple[Any, str]) -> None:
    client, url = admin_client_url

    response = client.generic(
        "POST", url, data=b"{}", content_type="application/json", CONTENT_LENGTH="-5"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
