"""The whole deal on PostgreSQL and Redis with a real Celery worker: publish, the worker
matches, shortlist, invite, interested, quotations asked, quoted, the deadline passes,
compare, award, order, delivery, payment; a new request, matched by the worker, explains
the supplier's track record and shows the buyer's payment record."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from matching.models import Match, MatchRun
from matching.procurement.models import QuotationRequest
from tests.conftest import wait_for
from tests.matching.conftest import client_for, request_body, today
from tests.matching.procurement.conftest import terms

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def publish_and_wait(buyer: Any, **overrides: Any) -> str:
    created = buyer.post("/api/v1/requests/", request_body(**overrides), format="json").json()
    response = buyer.post(f"/api/v1/requests/{created['id']}/publish/")
    assert response.status_code == 200
    run_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    run = wait_for(
        lambda: MatchRun.objects.filter(id=run_id, status__in=("succeeded", "failed")).first()
    )
    assert run.status == "succeeded", run.error
    return created["id"]


def test_a_request_goes_from_publish_to_payment(
    postgres: None, celery_worker_process: Any, world: Any
) -> None:
    celery_worker_process()
    buyer = client_for(world.buyer)
    request_id = publish_and_wait(buyer)
    matches = buyer.get(f"/api/v1/requests/{request_id}/matches/").json()["results"]
    by_supplier = {m["supplier"]["id"]: m for m in matches}
    full, far = world.suppliers["full"], world.suppliers["far"]
    assert str(full.id) in by_supplier
    assert str(far.id) in by_supplier

    for supplier, key in ((full, "full"), (far, "far")):
        url = f"/api/v1/matches/{by_supplier[str(supplier.id)]['id']}/transitions/"
        for move in ("shortlisted", "invited"):
            assert buyer.post(url, {"status": move}, format="json").status_code == 201
        sme = client_for(world.sme_users[key])
        assert sme.post(url, {"status": "interested"}, format="json").status_code == 201

    rfq = buyer.post(
        "/api/v1/quotation-requests/",
        {"request": request_id, "deadline": (timezone.now() + timedelta(days=2)).isoformat()},
        format="json",
        HTTP_IDEMPOTENCY_KEY="rfq-1",
    ).json()
    full_sme = client_for(world.sme_users["full"])
    quotation = full_sme.post(
        "/api/v1/quotations/",
        {"match": by_supplier[str(full.id)]["id"], **terms(quantity="500")},
        format="json",
        HTTP_IDEMPOTENCY_KEY="quote-1",
    ).json()
    revised = full_sme.post(
        f"{quotation['url']}revisions/", terms(quantity="500", unit_price="2400.00"), format="json"
    )
    assert revised.json()["revision"] == 2
    # "far" lets the deadline pass; it passes (time travel: the deadline is moved back).
    assert buyer.get(rfq["comparison_url"]).json()["results"] == []
    QuotationRequest.objects.filter(id=rfq["id"]).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )
    comparison = buyer.get(rfq["comparison_url"]).json()["results"]
    assert [(r["quotation"], r["unit_price"], r["is_lowest"]) for r in comparison] == [
        (quotation["id"], "2400.00", True)
    ]

    award = buyer.post(
        f"{rfq['url']}award/",
        {"awards": [{"quotation": quotation["id"], "quantity": "500"}], "reason": "Not quoted."},
        format="json",
    )
    assert award.status_code == 201, award.json()
    (order,) = award.json()["orders"]
    assert (order["unit_price"], order["quantity"], order["status"]) == (
        "2400.00",
        "500.000",
        "open",
    )
    assert Match.objects.get(request_id=request_id, supplier=far).status == "not_selected"

    delivered = buyer.post(
        order["deliveries_url"],
        {"delivered_on": today().isoformat(), "quantity_delivered": "500",
         "quantity_accepted": "500"},
        format="json",
    )  # fmt: skip
    assert delivered.status_code == 201
    assert delivered.json()["on_time"] is True
    paid = full_sme.post(
        order["payments_url"],
        {"received_on": today().isoformat(), "amount": "1200000.00"},
        format="json",
    )
    assert paid.status_code == 201
    assert buyer.get(order["url"]).json()["status"] == "closed"

    # A new request: the worker scores "full" with its delivery record.
    second = publish_and_wait(buyer, title="More jet-milled NdFeB powder")
    match = Match.objects.get(request_id=second, supplier=full)
    assert (
        "1 of 1 deliveries on time in the last 12 months, 100% of the delivered quantity accepted"
        in match.reasons
    )
    track = next(f for f in match.explained_factors() if f["name"] == "track_record")
    assert track["value"] > 0.5
    opportunities = full_sme.get(f"/api/v1/suppliers/{full.id}/opportunities/").json()["results"]
    (opportunity,) = [o for o in opportunities if o["request"]["id"] == second]
    record = opportunity["buyer_payment_record"]
    assert (record["orders_paid"], record["median_days_to_pay"]) == (1, 0.0)
    assert record["paid_within_45_days_share"] == 1.0
