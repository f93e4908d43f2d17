"""The number of queries of a list does not grow with its page."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.collaboration.conftest import CollabWorld, client_for

pytestmark = pytest.mark.django_db


def count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def answer(cworld: CollabWorld, call: dict[str, Any], key: str) -> None:
    sme = client_for(cworld.sme_users[key])
    body = {"call": call["id"], "supplier": str(cworld.suppliers[key].id), "message": "Hi"}
    assert sme.post("/api/v1/collaboration/interests/", body, format="json").status_code == 201


def test_lists_cost_the_same_for_one_row_or_many(cworld: CollabWorld, opened: Any) -> None:
    poster = client_for(cworld.poster)
    first = opened(requires_nda=False, nda_text="")
    answer(cworld, first, "lab")
    urls = (
        "/api/v1/collaboration/calls/",
        "/api/v1/collaboration/interests/",
        f"/api/v1/collaboration/calls/{first['id']}/matches/",
        f"/api/v1/collaboration/calls/{first['id']}/near-misses/",
    )
    one = {url: count(poster, url) for url in urls}
    for _ in range(2):
        call = opened(requires_nda=False, nda_text="")
        answer(cworld, call, "lab")
        answer(cworld, call, "half")
    answer(cworld, first, "half")
    many = {url: count(poster, url) for url in urls}
    assert many == one
