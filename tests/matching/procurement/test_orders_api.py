"""Award (split) to orders, deliveries, payments, the 45-day rule and the events."""

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from matching.models import Match, ProcurementRequest
from matching.procurement.models import Order
from remag.webhooks.models import Event, EventAudience
from tests.matching.conftest import client_for, today
from tests.matching.procurement.conftest import quote

pytestmark = pytest.mark.django_db


def opened(world: Any, rfq_for: Any, **far_terms: Any) -> tuple[str, dict[str, Any], dict]:
    """Both invited SMEs quoted: the quotations are open to the buyer."""
    request_id, rfq, matches = rfq_for("full", "far")
    quotes = {
        "full": quote(world, "full", matches["full"]).json(),
        "far": quote(world, "far", matches["far"], unit_price="2300.00", **far_terms).json(),
    }
    return request_id, rfq, quotes


def award(world: Any, rfq: dict[str, Any], awards: list[dict[str, Any]], **extra: Any) -> Any:
    return client_for(world.buyer).post(
        f"{rfq['url']}award/", {"awards": awards, **extra}, format="json"
    )


def test_a_split_award_places_orders_and_tells_the_others(
    world: Any, rfq_for: Any, published: Any
) -> None:
    request_id = published()
    from tests.matching.procurement.conftest import ask_quotes, make_interested

    matches = make_interested(world, request_id, "full", "far", "half")
    rfq = ask_quotes(world, request_id)
    full = quote(world, "full", matches["full"]).json()
    far = quote(world, "far", matches["far"], unit_price="2300.00").json()
    quote(world, "half", matches["half"], unit_price="2600.00")
    delivery_date = (today() + timedelta(days=25)).isoformat()
    response = award(
        world,
        rfq,
        [
            {"quotation": far["id"], "quantity": "200", "delivery_date": delivery_date},
            {"quotation": full["id"], "quantity": "300"},
        ],
        reason="Price and lead time of other quotations were better.",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["quotation_request"]["status"] == "awarded"
    orders = {o["supplier"]["id"]: o for o in body["orders"]}
    far_order = orders[str(world.suppliers["far"].id)]
    assert far_order["unit_price"] == "2300.00"
    assert (far_order["quantity"], far_order["delivery_date"]) == ("200.000", delivery_date)
    assert far_order["payment_terms_days"] == 30
    assert far_order["status"] == "open"
    full_order = orders[str(world.suppliers["full"].id)]
    # Without a date: today plus the quoted lead time.
    assert full_order["delivery_date"] == (today() + timedelta(days=21)).isoformat()
    assert full_order["supplier_micro_small"] is True
    assert ProcurementRequest.objects.get(id=request_id).status == "awarded"
    statuses = dict(
        Match.objects.filter(request_id=request_id).values_list("supplier_id", "status")
    )
    assert statuses[world.suppliers["full"].id] == "awarded"
    assert statuses[world.suppliers["half"].id] == "not_selected"
    # The SME not selected is told, with the reason; the awarded ones are not.
    told = Event.objects.get(type="quotation.not_selected")
    assert told.payload["reason"] == "Price and lead time of other quotations were better."
    assert told.payload["match"]["supplier"] == str(world.suppliers["half"].id)
    audience = set(
        EventAudience.objects.filter(event=told).values_list("organization_id", flat=True)
    )
    assert audience == {world.buyer_org.id, world.suppliers["half"].owner_id}
    assert Event.objects.filter(type="order.created").count() == 2
    # The SME reads its order; the other SME does not.
    sme = client_for(world.sme_users["far"])
    assert sme.get(far_order["url"]).status_code == 200
    assert sme.get(full_order["url"]).status_code == 404
    # A second award is refused.
    again = award(world, rfq, [{"quotation": full["id"], "quantity": "1"}])
    assert again.status_code == 409


def test_an_award_above_the_requested_quantity_is_refused(world: Any, rfq_for: Any) -> None:
    _, rfq, quotes = opened(world, rfq_for)
    response = award(
        world,
        rfq,
        [
            {"quotation": quotes["full"]["id"], "quantity": "300"},
            {"quotation": quotes["far"]["id"], "quantity": "250"},
        ],
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "awards"
    assert "500" in response.json()["detail"]
    above_offer = award(world, rfq, [{"quotation": quotes["full"]["id"], "quantity": "301"}])
    assert above_offer.json()["errors"][0]["field"] == "awards[0].quantity"
    assert not Order.objects.exists()


def test_the_45_day_rule_refuses_or_flags(world: Any, rfq_for: Any) -> None:
    far = world.suppliers["far"]
    far.classification_year = 2022  # small, but by a classification of a past year
    far.save(update_fields=["classification_year"])
    _, rfq, quotes = opened(world, rfq_for, payment_terms_days=60)
    # "full" is micro: had its terms become 60 days, the order would be refused.
    from matching.procurement.models import Quotation

    Quotation.objects.filter(id=quotes["full"]["id"]).update(payment_terms_days=60)
    refused = award(world, rfq, [{"quotation": quotes["full"]["id"], "quantity": "100"}])
    assert refused.status_code == 409
    assert refused.json()["code"] == "msmed_payment_terms"
    placed = award(world, rfq, [{"quotation": quotes["far"]["id"], "quantity": "100"}])
    assert placed.status_code == 201
    (order,) = placed.json()["orders"]
    assert order["payment_terms_flag"] == "size_unverified"
    assert order["supplier_micro_small"] is False


def placed_order(world: Any, rfq_for: Any, quantity: str = "300") -> dict[str, Any]:
    _, rfq, quotes = opened(world, rfq_for)
    response = award(world, rfq, [{"quotation": quotes["full"]["id"], "quantity": quantity}])
    assert response.status_code == 201, response.json()
    return response.json()["orders"][0]


def test_deliveries_then_payment_close_the_order(world: Any, rfq_for: Any) -> None:
    order = placed_order(world, rfq_for)
    buyer, sme = client_for(world.buyer), client_for(world.sme_users["full"])
    deliveries, payments = order["deliveries_url"], order["payments_url"]
    day = today().isoformat()
    by_sme = sme.post(
        deliveries,
        {"delivered_on": day, "quantity_delivered": "10", "quantity_accepted": "10"},
        format="json",
    )
    assert by_sme.status_code == 403
    mismatch = buyer.post(
        deliveries,
        {"delivered_on": day, "quantity_delivered": "100", "quantity_accepted": "90",
         "quantity_rejected": "5"},
        format="json",
    )  # fmt: skip
    assert mismatch.status_code == 400
    more_accepted = buyer.post(
        deliveries,
        {"delivered_on": day, "quantity_delivered": "10", "quantity_accepted": "20"},
        format="json",
    )
    assert more_accepted.status_code == 400
    assert more_accepted.json()["errors"][0]["field"] == "quantity_accepted"
    first = buyer.post(
        deliveries,
        {"delivered_on": day, "quantity_delivered": "200", "quantity_accepted": "180",
         "quality_note": "20 kg off-size"},
        format="json",
    )  # fmt: skip
    assert first.status_code == 201, first.json()
    assert first.json()["quantity_rejected"] == "20.000"
    assert first.json()["on_time"] is True
    too_much = buyer.post(
        deliveries,
        {"delivered_on": day, "quantity_delivered": "200", "quantity_accepted": "200"},
        format="json",
    )
    assert too_much.status_code == 400
    last = buyer.post(
        deliveries,
        {"delivered_on": day, "quantity_delivered": "120", "quantity_accepted": "120"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="delivery-2",
    )
    assert last.status_code == 201
    state = buyer.get(order["url"]).json()
    assert (state["status"], state["quantity_accepted"], state["delivered_on"]) == (
        "delivered",
        "300.000",
        day,
    )
    closed = buyer.post(
        deliveries,
        {"delivered_on": day, "quantity_delivered": "1", "quantity_accepted": "1"},
        format="json",
    )
    assert closed.status_code == 409
    assert closed.json()["code"] == "order_not_open"

    assert (
        buyer.post(payments, {"received_on": day, "amount": "1.00"}, format="json").status_code
        == 403
    )
    part = sme.post(payments, {"received_on": day, "amount": "500000.00"}, format="json")
    assert part.status_code == 201
    assert buyer.get(order["url"]).json()["status"] == "delivered"
    rest = sme.post(payments, {"received_on": day, "amount": "235000.00"}, format="json")
    assert rest.status_code == 201
    state = buyer.get(order["url"]).json()
    assert (state["status"], state["amount_paid"], state["paid_on"]) == ("closed", "735000.00", day)
    assert sme.post(payments, {"received_on": day, "amount": "1"}, format="json").status_code == 409
    assert [p["amount"] for p in sme.get(payments).json()["results"]] == ["500000.00", "235000.00"]


def test_the_buyers_payment_record_shows_on_opportunities(
    world: Any, rfq_for: Any, published: Any
) -> None:
    order = placed_order(world, rfq_for)
    delivered = today() - timedelta(days=0)
    client_for(world.buyer).post(
        order["deliveries_url"],
        {"delivered_on": delivered.isoformat(), "quantity_delivered": "300",
         "quantity_accepted": "300"},
        format="json",
    )  # fmt: skip
    client_for(world.sme_users["full"]).post(
        order["payments_url"],
        {"received_on": today().isoformat(), "amount": "735000"},
        format="json",
    )
    # Pretend the order was accepted 50 days ago: paid in 50 days, past 30 and past 45.
    Order.objects.filter(id=order["id"]).update(delivered_on=today() - timedelta(days=50))
    published()  # a new open request of the same buyer
    opportunities = client_for(world.sme_users["full"]).get(
        f"/api/v1/suppliers/{world.suppliers['full'].id}/opportunities/"
    )
    assert opportunities.status_code == 200
    record = opportunities.json()["results"][0]["buyer_payment_record"]
    assert record == {
        "orders_delivered": 1,
        "orders_paid": 1,
        "median_days_to_pay": 50.0,
        "paid_within_terms_share": 0.0,
        "micro_small_orders": 1,
        "paid_within_45_days_share": 0.0,
    }


def test_no_price_or_term_is_ever_in_an_event(world: Any, rfq_for: Any) -> None:
    order = placed_order(world, rfq_for)
    client_for(world.buyer).post(
        order["deliveries_url"],
        {"delivered_on": today().isoformat(), "quantity_delivered": "300",
         "quantity_accepted": "300"},
        format="json",
    )  # fmt: skip
    client_for(world.sme_users["full"]).post(
        order["payments_url"],
        {"received_on": today().isoformat(), "amount": "735000"},
        format="json",
    )
    types = set(Event.objects.values_list("type", flat=True))
    assert {
        "quotation.requested", "quotation.submitted", "quotation.not_selected", "order.created",
        "order.delivery_recorded", "order.payment_recorded", "match.awarded",
    } <= types  # fmt: skip
    forbidden_keys = {"unit_price", "amount", "price", "payment_terms_days", "quantity"}
    for event in Event.objects.all():
        text = json.dumps(event.payload)
        assert not forbidden_keys & set(_keys(event.payload)), (event.type, text)
        for price in ("2450", "2300", "735000"):  # whole numbers, not inside a UUID
            assert not re.search(rf"(?<![0-9a-f-]){price}(?![0-9a-f])", text), (event.type, text)
    # The other SME hears of its own quotation only.
    far_org = world.suppliers["far"].owner_id
    heard = Event.objects.filter(
        id__in=EventAudience.objects.filter(organization_id=far_org).values("event_id")
    )
    for event in heard:
        supplier = (event.payload.get("quotation") or event.payload.get("match") or {}).get(
            "supplier"
        )
        assert supplier in (None, str(world.suppliers["far"].id)), event.type


def test_an_award_with_an_idempotency_key_places_one_set_of_orders(
    world: Any, rfq_for: Any
) -> None:
    _, rfq, quotes = opened(world, rfq_for)
    body = {"awards": [{"quotation": quotes["full"]["id"], "quantity": "300"}]}
    buyer = client_for(world.buyer)
    first = buyer.post(f"{rfq['url']}award/", body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    second = buyer.post(f"{rfq['url']}award/", body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert Order.objects.count() == 1
    assert Decimal(first.json()["orders"][0]["quantity"]) == Decimal(300)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from _keys(child)


def test_webhooks_go_to_each_party_for_its_own_steps(world: Any, rfq_for: Any) -> None:
    from remag.webhooks.choices import EventType
    from remag.webhooks.models import Delivery, WebhookEndpoint

    deal_types = [t for t in EventType.values if t.startswith(("quotation.", "order."))]
    endpoints = {
        key: WebhookEndpoint.objects.create(
            organization=org,
            url=f"https://{key}.example/hooks",
            event_types=deal_types,
            secret="s" * 40,
        )  # fmt: skip
        for key, org in (
            ("buyer", world.buyer_org),
            ("full", world.suppliers["full"].owner),
            ("far", world.suppliers["far"].owner),
        )
    }
    order = placed_order(world, rfq_for)  # "full" awarded, "far" not selected
    client_for(world.buyer).post(
        order["deliveries_url"],
        {"delivered_on": today().isoformat(), "quantity_delivered": "300",
         "quantity_accepted": "300"},
        format="json",
    )  # fmt: skip

    def sent(key: str) -> list[str]:
        return sorted(
            Delivery.objects.filter(endpoint=endpoints[key]).values_list("event__type", flat=True)
        )

    assert sent("buyer") == sorted(
        ["quotation.requested", "quotation.submitted", "quotation.submitted",
         "quotation.not_selected", "order.created", "order.delivery_recorded"]
    )  # fmt: skip
    assert sent("full") == sorted(
        ["quotation.requested", "quotation.submitted", "order.created", "order.delivery_recorded"]
    )
    assert sent("far") == sorted(
        ["quotation.requested", "quotation.submitted", "quotation.not_selected"]
    )


def test_lists_filter_by_status_request_and_supplier(world: Any, rfq_for: Any) -> None:
    request_id, rfq, quotes = opened(world, rfq_for)
    award(world, rfq, [{"quotation": quotes["full"]["id"], "quantity": "300"}])
    buyer = client_for(world.buyer)

    def ids(url: str) -> list[str]:
        response = buyer.get(url)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("/api/v1/quotations/?status=awarded") == [quotes["full"]["id"]]
    assert ids("/api/v1/quotations/?status=not_selected") == [quotes["far"]["id"]]
    far = world.suppliers["far"].id
    assert ids(f"/api/v1/quotations/?supplier={far}") == [quotes["far"]["id"]]
    assert len(ids(f"/api/v1/orders/?request={request_id}&status=open")) == 1
    assert ids("/api/v1/orders/?status=closed") == []
    assert ids(f"/api/v1/orders/?supplier={far}") == []
    assert ids("/api/v1/quotation-requests/?status=awarded") == [rfq["id"]]
    assert ids("/api/v1/quotation-requests/?status=open") == []
    bad = buyer.get("/api/v1/orders/?status=lost")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "status"


def test_payments_add_up_to_the_orders_value_at_most(world: Any, rfq_for: Any) -> None:
    """A payment beyond what remains unpaid of the order's value (quantity x price) is
    refused naming ``amount``, advances included; the order's lists stay readable (a sum
    past its field's digits was a 500 for everyone who reads the order)."""
    order = placed_order(world, rfq_for)
    buyer, sme = client_for(world.buyer), client_for(world.sme_users["full"])
    day = today().isoformat()
    value = Decimal(order["quantity"]) * Decimal(order["unit_price"])
    huge = sme.post(
        order["payments_url"], {"received_on": day, "amount": "99999999999999.99"}, format="json"
    )
    assert huge.status_code == 400
    assert huge.json()["errors"][0]["field"] == "amount"
    advance = (value - Decimal("1000.00")).quantize(Decimal("0.01"))
    assert (
        sme.post(
            order["payments_url"], {"received_on": day, "amount": str(advance)}, format="json"
        ).status_code
        == 201
    )
    over = sme.post(order["payments_url"], {"received_on": day, "amount": "1000.01"}, format="json")
    assert over.status_code == 400
    assert "1000.00" in over.json()["detail"]
    assert buyer.get("/api/v1/orders/").status_code == 200
    state = buyer.get(order["url"]).json()
    assert Decimal(state["amount_paid"]) == advance
