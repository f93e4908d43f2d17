"""The dashboard's policy shares by value (issue 18): awards that became orders count
their value, unit price x quantity."""

from decimal import Decimal
from typing import Any

import pytest

from stats.services import stats_refresh
from suppliers.models import Supplier
from tests.matching.conftest import client_for
from tests.matching.procurement.conftest import quote

pytestmark = pytest.mark.django_db


def test_policy_shares_by_value_weigh_each_award_by_its_orders(world: Any, rfq_for: Any) -> None:
    Supplier.objects.filter(id=world.suppliers["far"].id).update(
        enterprise_size="medium", women_owned=True
    )
    request_id, rfq, matches = rfq_for("full", "far")
    full = quote(world, "full", matches["full"]).json()  # 2450.00 per kg
    far = quote(world, "far", matches["far"], unit_price="2300.00").json()
    buyer = client_for(world.buyer)
    awarded = buyer.post(
        f"{rfq['url']}award/",
        {
            "awards": [
                {"quotation": full["id"], "quantity": "300"},
                {"quotation": far["id"], "quantity": "200"},
            ]
        },
        format="json",
    )
    assert awarded.status_code == 201, awarded.json()
    stats_refresh()

    total = buyer.get("/api/v1/stats/policy-shares/").json()["total"]

    full_value, far_value = Decimal("2450.00") * 300, Decimal("2300.00") * 200
    assert total["awards"] == 2
    assert total["micro_small_share"] == 50.0
    assert Decimal(total["value_inr"]) == full_value + far_value
    share = round(float(full_value * 100 / (full_value + far_value)), 1)
    assert total["micro_small_value_share"] == share
    # Women-owned credit is for micro and small enterprises only; a medium one earns none.
    assert total["women_owned_value_share"] == 0.0
