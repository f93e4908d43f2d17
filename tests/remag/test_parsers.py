"""The API's JSON parser: a nesting limit, no NUL (docs/api.md, Limits)."""

from typing import Any

import pytest

from remag.jsonlimits import MAX_JSON_DEPTH
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("body", ['{"name": NaN}', '{"name": "k"', "1" * 5000])
def test_other_bad_json_is_400(admin_client_url: tuple[Any, str], body: str) -> None:
    client, url = admin_client_url

    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 400
    assert problem_type(response) == "malformed-request"
