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
    OrganizationFactory.create_batch(3)

    response = user_client(operator).get("/api/v1/organizations/?page_size=100000")

    assert response.status_code == 200


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
