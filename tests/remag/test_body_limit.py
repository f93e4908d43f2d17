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


def _post_over_socket(base: str, path: str, body: bytes, token: str) -> tuple[int, bytes]:
    """POST ``body`` as a client on a slow link does (in pieces), then read the answer."""
    import http.client
    import time
    from urllib.parse import urlparse

    parsed = urlparse(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    for start in range(0, len(body), 16 * 1024):
        connection.send(body[start : start + 16 * 1024])
        if start == 0:
            time.sleep(0.5)  # the server has the headers, and answers meanwhile if it will
    response = connection.getresponse()
    try:
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_client_sending_a_body_over_the_limit_reads_the_413(
    postgres: None, gunicorn_server: str
) -> None:
    """Under gunicorn, a client still sending a body over the limit (3 MB against 1 MiB,
    the rest sent after the server has the headers) reads the 413: the body is read
    before the answer, where gunicorn would otherwise reset the connection under it."""
    from tests.factories import UserTokenFactory

    membership = MembershipFactory(role="admin")
    token = UserTokenFactory(user=membership.user).raw_key
    path = f"/api/v1/organizations/{membership.organization.id}/api-keys/"
    body = json.dumps({"name": "k", "scopes": ["read"], "padding": "x" * 3_000_000}).encode()

    status, answer = _post_over_socket(gunicorn_server, path, body, token)

    assert status == 413
    assert json.loads(answer)["max_bytes"] == 1024 * 1024
    assert not OrganizationAPIKey.objects.exists()
