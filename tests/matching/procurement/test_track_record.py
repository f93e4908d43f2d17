"""The track record from delivery outcomes: recency-weighted, with a prior, explained;
a late supplier ranks below an on-time one, all else equal."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from matching.models import Match, ProcurementRequest
from matching.procurement.models import Delivery, Order, Quotation, QuotationRequest
from matching.procurement.records import delivery_records
from matching.scoring import Candidate, Criteria, Offer, batch_from, score
from tests.factories import SupplierFactory
from tests.matching.conftest import PUNE, World, add_capability, add_certificate, today

pytestmark = pytest.mark.django_db


def past_order(
    world: World,
    supplier: Any,
    *,
    due: date,
    deliveries: list[tuple[date, str, str]] = (),  # (delivered_on, delivered, accepted)
) -> Order:
    """An order of an earlier request, written directly (the API path is tested in
    test_orders_api.py)."""
    request = ProcurementRequest.objects.create(
        owner=world.buyer_org, title="Earlier powder", layer="components",
        delivery_state="MH", status="awarded",
    )  # fmt: skip
    match = Match.objects.create(
        request=request, supplier=supplier, score=80, algorithm_version="remag-2026.11.4",
        scored_at=timezone.now(), status="awarded",
    )  # fmt: skip
    rfq = QuotationRequest.objects.create(
        request=request, deadline=timezone.now() - timedelta(days=400), status="awarded"
    )
    quotation = Quotation.objects.create(
        quotation_request=rfq, match=match, supplier=supplier, status="awarded",
        submitted_at=timezone.now(), unit_price=Decimal(2000), quantity=Decimal(100), unit="kg",
        lead_time_days=20, valid_until=due, payment_terms_days=30,
    )  # fmt: skip
    order = Order.objects.create(
        quotation=quotation, match=match, request=request, buyer=world.buyer_org,
        supplier=supplier, unit_price=Decimal(2000), quantity=Decimal(100), unit="kg",
        delivery_date=due, payment_terms_days=30, supplier_micro_small=True,
        status="delivered" if deliveries else "open",
    )  # fmt: skip
    for delivered_on, delivered, accepted in deliveries:
        Delivery.objects.create(
            order=order, delivered_on=delivered_on, quantity_delivered=Decimal(delivered),
            quantity_accepted=Decimal(accepted),
            quantity_rejected=Decimal(delivered) - Decimal(accepted),
            on_time=delivered_on <= due,
        )  # fmt: skip
    return order


def twin(name: str) -> Any:
    supplier = SupplierFactory(
        legal_name=f"{name} Twin Magnetics Pvt Ltd", latitude=PUNE[0] + 0.05, longitude=PUNE[1],
        enterprise_size="small",
    )  # fmt: skip
    add_capability(supplier, "jet-milling", capacity_per_month=1000, lead_time_days=20)
    add_capability(supplier, "hydrogen-decrepitation", capacity_per_month=800, lead_time_days=25)
    add_certificate(supplier)
    return supplier


def test_a_late_supplier_ranks_below_an_on_time_one(world: World, published: Any) -> None:
    on_time, late = twin("Ontime"), twin("Late")
    due = today() - timedelta(days=60)
    past_order(world, on_time, due=due, deliveries=[(due - timedelta(days=2), "100", "100")])
    past_order(world, late, due=due, deliveries=[(due + timedelta(days=20), "100", "100")])
    request_id = published()
    matches = {m.supplier_id: m for m in Match.objects.filter(request_id=request_id)}
    good, bad = matches[on_time.id], matches[late.id]
    factors = {m: {f["name"]: f["value"] for f in matches[m].explained_factors()} for m in matches}
    # All else equal: every factor but the track record is the same.
    assert {k: v for k, v in factors[on_time.id].items() if k != "track_record"} == {
        k: v for k, v in factors[late.id].items() if k != "track_record"
    }
    assert factors[on_time.id]["track_record"] > 0.5 >= factors[late.id]["track_record"]
    assert good.score > bad.score
    assert "1 of 1 deliveries on time in the last 12 months, 100% of the delivered quantity " \
        "accepted" in good.reasons  # fmt: skip
    assert "0 of 1 deliveries on time in the last 12 months, 100% of the delivered quantity " \
        "accepted" in bad.reasons  # fmt: skip
    ranked = list(Match.objects.filter(request_id=request_id).values_list("supplier_id", flat=True))
    assert ranked.index(on_time.id) < ranked.index(late.id)


def test_recent_deliveries_weigh_more_and_few_are_shrunk_to_the_prior(world: World) -> None:
    recent, old, many = twin("Recent"), twin("Old"), twin("Many")
    run = today()
    past_order(world, recent, due=run - timedelta(days=10),
               deliveries=[(run - timedelta(days=10), "100", "100")])  # fmt: skip
    past_order(world, old, due=run - timedelta(days=700),
               deliveries=[(run - timedelta(days=700), "100", "100")])  # fmt: skip
    for n in range(8):
        due = run - timedelta(days=30 + n)
        past_order(world, many, due=due, deliveries=[(due, "100", "100")])
    records = delivery_records(supplier_ids=[str(s.id) for s in (recent, old, many)], run_date=run)

    def value(supplier: Any) -> float:
        r = records[str(supplier.id)]
        return (r.quality + 0.5 * 3) / (r.weight + 3)

    assert 0.5 < value(old) < value(recent) < value(many) < 1
    assert records[str(old.id)].recent == 0
    assert records[str(many.id)].recent == 8


def test_an_overdue_order_counts_as_a_late_delivery(world: World) -> None:
    supplier = twin("Overdue")
    past_order(world, supplier, due=today() - timedelta(days=5))
    record = delivery_records(supplier_ids=[str(supplier.id)], run_date=today())[str(supplier.id)]
    assert (record.recent, record.recent_on_time) == (1, 0)
    assert record.quality == 0
    assert record.recent_accepted_share is None


def test_never_delivering_scores_no_better_than_delivering_late(world: World) -> None:
    """An order overdue for two years weighs as much as one overdue today: a debt in
    goods does not fade while it stays undelivered."""
    run = today()
    late, never = twin("Late"), twin("Never")
    for supplier in (late, never):
        for n in range(5):
            due = run - timedelta(days=20 + n)
            past_order(world, supplier, due=due, deliveries=[(due, "100", "100")])
    old_due = run - timedelta(days=730)
    past_order(world, late, due=old_due, deliveries=[(run - timedelta(days=1), "100", "100")])
    past_order(world, never, due=old_due)
    records = delivery_records(supplier_ids=[str(late.id), str(never.id)], run_date=run)

    def value(supplier: Any) -> float:
        r = records[str(supplier.id)]
        return (r.quality + 0.5 * 3) / (r.weight + 3)

    assert value(never) < value(late)


def test_scoring_explains_the_delivery_record() -> None:
    criteria = Criteria(required_capabilities=("jet-milling",), run_date=date(2026, 11, 25))
    offer = {"jet-milling": Offer(1000, "mass", 10)}
    candidates = [
        Candidate("a", offers=offer, past_awards=9.4, past_successes=8.9, recent_deliveries=10,
                  recent_on_time=9, recent_accepted_share=0.98),
        Candidate("b", offers=offer, past_awards=0.3, past_successes=0.3, recent_deliveries=0),
        Candidate("c", offers=offer),
    ]  # fmt: skip
    reasons = {
        m.supplier_id: m.reasons
        for m in score(criteria, batch_from(criteria, candidates)).matches()
    }
    assert "9 of 10 deliveries on time in the last 12 months, 98% of the delivered quantity " \
        "accepted" in reasons["a"]  # fmt: skip
    assert "no deliveries in the last 12 months; older ones weigh less" in reasons["b"]
    assert not any("deliver" in r for r in reasons["c"])


def test_a_supplier_refresh_rescores_its_opportunities_with_the_new_record(
    world: World, published: Any
) -> None:
    from matching import runs

    request_id = published()
    full = world.suppliers["full"]
    before = Match.objects.get(request_id=request_id, supplier=full)
    assert not any("deliveries" in r for r in before.reasons)
    due = today() - timedelta(days=3)
    past_order(world, full, due=due, deliveries=[(due, "100", "100")])
    assert runs.supplier_opportunities_refresh(supplier_id=full.id) >= 1
    after = Match.objects.get(request_id=request_id, supplier=full)
    assert "1 of 1 deliveries on time in the last 12 months, 100% of the delivered quantity " \
        "accepted" in after.reasons  # fmt: skip
    assert after.score > before.score
