"""Cursor pagination: every row once, stable links, bad cursors named, constant queries."""

from typing import Any

import pytest

from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_pages_cover_every_row_once(user_client: Any, operator: Any) -> None:
    created = {str(o.id) for o in OrganizationFactory.create_batch(7)}
    client = user_client(operator)

    seen: list[str] = []
    url: str | None = "/api/v1/organizations/?page_size=3"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 3
        seen.extend(o["id"] for o in page["results"])
        url = page["next"]

    assert len(seen) == len(set(seen))
    assert created <= set(seen)


def test_bad_cursor_is_400_naming_the_parameter(user_client: Any, operator: Any) -> None:
    response = user_client(operator).get("/api/v1/organizations/?cursor=not-a-cursor")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_page_size_is_capped(user_client: Any, operator: Any) -> None:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from remag.api.pagination import CursorPagination

    OrganizationFactory.create_batch(3)

    response = user_client(operator).get("/api/v1/organizations/?page_size=100000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 4  # the three and the operator's own
    paginator, factory = CursorPagination(), APIRequestFactory()
    for asked, size in [("100000", 200), ("9" * 5000, 200), ("201", 200), ("007", 7), ("", 50)]:
        request = Request(factory.get("/", {"page_size": asked}))
        assert paginator.get_page_size(request) == size
    assert paginator.get_page_size(Request(factory.get("/"))) == 50


@pytest.mark.parametrize("asked", ["0", "000", "-1", "abc", "1.5", "1e3", " 5", "\x00", "٣", "+5"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_400(
    user_client: Any, operator: Any, asked: str
) -> None:
    response = user_client(operator).get("/api/v1/organizations/", {"page_size": asked})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["page_size"]


def test_one_row_a_page_when_asked(user_client: Any, operator: Any) -> None:
    OrganizationFactory.create_batch(2)

    response = user_client(operator).get("/api/v1/organizations/", {"page_size": "1"})

    assert len(response.json()["results"]) == 1
    assert response.json()["next"]


@pytest.mark.parametrize("size", [2, 20])
def test_query_count_does_not_grow_with_the_page(
    user_client: Any, operator: Any, django_assert_max_num_queries: Any, size: int
) -> None:
    OrganizationFactory.create_batch(size)
    client = user_client(operator)
    client.get("/api/v1/me/")  # warm the token's last_used_at

    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/organizations/?page_size={size}")

    assert len(response.json()["results"]) == size
