"""The magnet lists cost a constant number of queries, whatever the page holds."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.matching.magnets.conftest import Market, client_for, make_offer, make_requirement

pytestmark = pytest.mark.django_db


def count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_magnet_lists_do_not_grow_with_the_page(market: Market) -> None:
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org, pool_opt_in=True)
    # One constraint short of each other's: near misses on both sides from the start.
    make_offer(market.maker_org, coatings=["zn"])
    make_requirement(market.buyer_org, coating="zn", title="zinc")
    buyer, maker = client_for(market.buyer), client_for(market.maker)
    urls = {
        buyer: [
            "/api/v1/magnets/offers/",
            "/api/v1/magnets/requirements/",
            f"/api/v1/magnets/requirements/{requirement.id}/matches/",
            f"/api/v1/magnets/requirements/{requirement.id}/near-misses/",
        ],
        maker: [
            "/api/v1/magnets/leads/",
            f"/api/v1/magnets/offers/{offer.id}/leads/",
            "/api/v1/magnets/pools/",
            f"/api/v1/magnets/offers/{offer.id}/near-misses/",
        ],
    }
    few = {(id(c), url): count(c, url) for c, listed in urls.items() for url in listed}
    for days in (20, 30):
        make_offer(market.maker_org, lead_time_days=days)
    for title in ("second", "third"):
        make_requirement(market.buyer_org, title=title)
    make_offer(market.maker_org, coatings=["aluminium"])
    make_requirement(market.buyer_org, coating="aluminium", title="aluminium")
    for client, listed in urls.items():
        for url in listed:
            if "pools" not in url and "near-misses" not in url:
                assert len(client.get(url).json()["results"]) > 1, url
            assert count(client, url) == few[(id(client), url)], url
