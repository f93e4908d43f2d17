"""Operators see quotation requests, quotations (with revisions and files) and orders
(with deliveries and payments) in the admin, read-only."""

from typing import Any

import pytest
from django.test import Client

from matching.procurement.models import Order, Quotation, QuotationRequest
from tests.factories import UserFactory
from tests.matching.conftest import client_for, today
from tests.matching.procurement.conftest import quote

pytestmark = pytest.mark.django_db


def test_procurement_admin_pages_render(world: Any, rfq_for: Any) -> None:
    _, rfq, matches = rfq_for("full", "far")
    full = quote(world, "full", matches["full"]).json()
    quote(world, "far", matches["far"])
    buyer = client_for(world.buyer)
    buyer.get(rfq["quotations_url"])
    order = buyer.post(
        f"{rfq['url']}award/",
        {"awards": [{"quotation": full["id"], "quantity": "300"}]},
        format="json",
    ).json()["orders"][0]
    buyer.post(
        order["deliveries_url"],
        {"delivered_on": today().isoformat(), "quantity_delivered": "300",
         "quantity_accepted": "300"},
        format="json",
    )  # fmt: skip
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    for path in (
        "/admin/procurement/quotationrequest/",
        f"/admin/procurement/quotationrequest/{QuotationRequest.objects.get().id}/change/",
        "/admin/procurement/quotation/",
        f"/admin/procurement/quotation/{full['id']}/change/",
        "/admin/procurement/order/",
        f"/admin/procurement/order/{order['id']}/change/",
    ):
        response = admin.get(path)
        assert response.status_code == 200, path
    page = admin.get(f"/admin/procurement/order/{order['id']}/change/").content.decode()
    assert "2450" in page  # the agreed price, for operators
    assert admin.get("/admin/procurement/order/add/").status_code == 403
    assert Quotation.objects.count() == 2
    assert Order.objects.count() == 1
