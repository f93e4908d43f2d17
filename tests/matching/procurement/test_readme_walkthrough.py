"""README's walkthrough reaches an award, a delivery and a payment: the same calls here,
with the demo accounts and the sample request."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from suppliers.models import Supplier
from tests.conftest import ROOT, client_with
from tests.matching.conftest import run_pending

pytestmark = pytest.mark.django_db


def test_the_readme_walkthrough_reaches_an_award(capsys: Any) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Try it: quotations, an award", 1)[1].split("\n## ", 1)[0]
    for step in (
        "$API/matches/$MATCH/transitions/",
        "$API/quotation-requests/",
        "$API/quotations/",
        "$API/quotation-requests/$RFQ/comparison/",
        "$API/quotation-requests/$RFQ/award/",
        "$API/orders/$ORDER/deliveries/",
        "$API/orders/$ORDER/payments/",
    ):
        assert step in section, step
    call_command("load_taxonomy")
    call_command("seed_demo", "--suppliers", "0", "--with-accounts")
    call_command("seed_demo_requests")
    capsys.readouterr()

    def token(user: str) -> Any:
        call_command("issue_token", user)
        return client_with(f"Bearer {capsys.readouterr().out.strip()}")

    buyer, sme = token("demo-buyer"), token("demo-sme")
    body = json.loads((ROOT / "docs/samples/procurement-request.json").read_text())
    body["needed_by"] = (timezone.localdate() + timedelta(days=120)).isoformat()
    request_id = buyer.post("/api/v1/requests/", body, format="json").json()["id"]
    assert buyer.post(f"/api/v1/requests/{request_id}/publish/").status_code == 200
    assert run_pending(request_id).status == "succeeded"
    supplier = Supplier.objects.get(legal_name="Demo Magnet Components Pvt Ltd")
    opportunities = sme.get(f"/api/v1/suppliers/{supplier.id}/opportunities/").json()["results"]
    (match,) = [o["match"] for o in opportunities if o["request"]["id"] == request_id]
    url = f"/api/v1/matches/{match}/transitions/"
    assert buyer.post(url, {"status": "invited"}, format="json").status_code == 201
    assert sme.post(url, {"status": "interested"}, format="json").status_code == 201
    deadline = (timezone.now() + timedelta(days=2)).isoformat()
    rfq = buyer.post(
        "/api/v1/quotation-requests/", {"request": request_id, "deadline": deadline}, format="json"
    ).json()["id"]
    quote = sme.post(
        "/api/v1/quotations/",
        {"match": match, "unit_price": "6.50", "quantity": "40000", "unit": "pieces",
         "lead_time_days": 21, "payment_terms_days": 30, "delivery_terms": "FOR Chakan",
         "valid_until": (timezone.localdate() + timedelta(days=30)).isoformat()},
        format="json",
    )  # fmt: skip
    assert quote.status_code == 201, quote.json()
    comparison = buyer.get(f"/api/v1/quotation-requests/{rfq}/comparison/").json()
    assert [r["quotation"] for r in comparison["results"]] == [quote.json()["id"]]
    award = buyer.post(
        f"/api/v1/quotation-requests/{rfq}/award/",
        {"awards": [{"quotation": quote.json()["id"], "quantity": "40000"}]},
        format="json",
    )
    assert award.status_code == 201, award.json()
    order = award.json()["orders"][0]["id"]
    today = timezone.localdate().isoformat()
    delivered = buyer.post(
        f"/api/v1/orders/{order}/deliveries/",
        {"delivered_on": today, "quantity_delivered": "40000", "quantity_accepted": "40000"},
        format="json",
    )
    assert delivered.status_code == 201
    paid = sme.post(
        f"/api/v1/orders/{order}/payments/",
        {"received_on": today, "amount": "260000.00"},
        format="json",
    )
    assert paid.status_code == 201
    assert sme.get(f"/api/v1/orders/{order}/").json()["status"] == "closed"
