"""The API's JSON parser: UTF-8 only, a nesting limit, no NUL (docs/api.md, Limits)."""

import json
from typing import Any

import pytest

from remag.accounts.models import OrganizationAPIKey
from remag.jsonlimits import MAX_JSON_DEPTH
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

NAME = "clé Pune ₹ 東京"


@pytest.fixture
def admin_client_url(user_client: Any) -> tuple[Any, str]:
    membership = MembershipFactory(role="admin")
    return (
        user_client(membership.user),
        f"/api/v1/organizations/{membership.organization.id}/api-keys/",
    )


def problem_type(response: Any) -> str:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["type"].rsplit("/", 1)[-1]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 5_000, 50_000])
def test_deeply_nested_json_is_400_not_500(admin_client_url: tuple[Any, str], depth: int) -> None:
    client, url = admin_client_url
    body = "[" * depth + "]" * depth

    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 400
    assert problem_type(response) == "malformed-request"
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]


def test_nesting_at_the_limit_is_parsed(admin_client_url: tuple[Any, str]) -> None:
    client, url = admin_client_url
    padding = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    body = f'{{"name": "k", "scopes": ["read"], "padding": {padding}}}'

    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=UTF-8",
        "application/json;charset=Utf-8",
        'application/json; charset="utf-8"',
        "application/json; charset=utf8",
    ],
)
def test_utf8_json_is_stored_as_sent(admin_client_url: tuple[Any, str], content_type: str) -> None:
    client, url = admin_client_url
    body = json.dumps({"name": NAME, "scopes": ["read"]}, ensure_ascii=False).encode()

    response = client.post(url, data=body, content_type=content_type)

    assert response.status_code == 201, response.content
    assert OrganizationAPIKey.objects.get().name == NAME


@pytest.mark.parametrize(
    "charset", ["latin-1", "ISO-8859-1", "utf-16", "cp1252", "ascii", "utf-8-sig", "no-such"]
)
def test_other_charsets_are_415(admin_client_url: tuple[Any, str], charset: str) -> None:
    client, url = admin_client_url
    body = json.dumps({"name": NAME, "scopes": ["read"]}, ensure_ascii=False).encode()

    response = client.post(url, data=body, content_type=f"application/json; charset={charset}")

    assert response.status_code == 415
    assert problem_type(response) == "unsupported-media-type"
    assert not OrganizationAPIKey.objects.exists()


def test_invalid_utf8_is_400(admin_client_url: tuple[Any, str]) -> None:
    client, url = admin_client_url

    response = client.post(
        url, data=b'{"name": "caf\xe9", "scopes": ["read"]}', content_type="application/json"
    )

    assert response.status_code == 400
    assert problem_type(response) == "malformed-request"
    assert not OrganizationAPIKey.objects.exists()


@pytest.mark.parametrize("body", ['{"name": NaN}', '{"name": "k"', "1" * 5000])
def test_other_bad_json_is_400(admin_client_url: tuple[Any, str], body: str) -> None:
    client, url = admin_client_url

    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 400
    assert problem_type(response) == "malformed-request"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "key \\ud800", "scopes": ["read"]}', "name"),
        ('{"name": "k", "scopes": ["re\\udfffad"]}', "scopes[0]"),
        ('{"name": "nul \\u0000", "scopes": ["read"]}', "name"),
    ],
)
def test_text_postgresql_cannot_store_is_a_400_naming_the_field(
    postgres: None, admin_client_url: tuple[Any, str], body: str, field: str
) -> None:
    """An unpaired surrogate failed the write with a server error; it is the field's fault."""
    client, url = admin_client_url

    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert problem_type(response) == "validation-error"
    assert response.json()["errors"][0]["field"] == field
    assert not OrganizationAPIKey.objects.exists()


@pytest.mark.parametrize(
    "body",
    ['{"name": 1e400, "scopes": ["read"]}', '{"name": "k", "scopes": ["read"], "x": [-1E+999]}'],
)
def test_a_number_beyond_a_float_is_400_not_infinity(
    admin_client_url: tuple[Any, str], body: str
) -> None:
    """Python reads 1e400 as infinity; a text field would have stored "inf"."""
    client, url = admin_client_url

    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 400
    assert problem_type(response) == "malformed-request"
    assert "out of range" in response.json()["detail"]
    assert not OrganizationAPIKey.objects.exists()


def test_a_large_finite_number_is_read_as_it_is(admin_client_url: tuple[Any, str]) -> None:
    client, url = admin_client_url
    body = '{"name": "k", "scopes": ["read"], "ignored": [1.7e308, -2.5e-300]}'

    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 201, response.content
