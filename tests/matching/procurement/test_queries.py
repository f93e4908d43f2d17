"""The lists of the deal cost a constant number of queries, whatever the page holds."""

import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.matching.conftest import client_for, today
from tests.matching.procurement.conftest import PDF, ask_quotes, make_interested, quote

pytestmark = pytest.mark.django_db


def deal(world: Any, published: Any, keys: tuple[str, ...]) -> None:
    """A request whose SMEs ``keys`` quoted (each with a file), awarded to all, delivered."""
    request_id = published()
    matches = make_interested(world, request_id, *keys)
    rfq = ask_quotes(world, request_id)
    awards = []
    for key in keys:
        created = quote(world, key, matches[key], quantity="100").json()
        client_for(world.sme_users[key]).post(
            f"/api/v1/quotations/{created['id']}/attachments/",
            {"file": io.BytesIO(PDF)},
            format="multipart",
        )
        awards.append({"quotation": created["id"], "quantity": "100"})
    buyer = client_for(world.buyer)
    buyer.get(rfq["quotations_url"])
    orders = buyer.post(f"{rfq['url']}award/", {"awards": awards}, format="json").json()["orders"]
    for order in orders:
        buyer.post(
            order["deliveries_url"],
            {"delivered_on": today().isoformat(), "quantity_delivered": "100",
             "quantity_accepted": "100"},
            format="json",
        )  # fmt: skip


def count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_lists_do_not_grow_with_the_page(
    world: Any, published: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    buyer = client_for(world.buyer)
    deal(world, published, ("full",))
    few = {url: count(buyer, url) for url in ("/api/v1/quotations/", "/api/v1/orders/",
                                              "/api/v1/quotation-requests/")}  # fmt: skip
    deal(world, published, ("full", "far"))
    deal(world, published, ("full", "far", "half"))
    for url, queries in few.items():
        assert len(buyer.get(url).json()["results"]) > 1, url
        assert count(buyer, url) == queries, url
    sme = client_for(world.sme_users["full"])
    opportunities = f"/api/v1/suppliers/{world.suppliers['full'].id}/opportunities/"
    published()
    one = count(sme, opportunities)
    published()
    published()
    assert count(sme, opportunities) == one
