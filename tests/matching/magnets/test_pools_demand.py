"""Aggregated demand (summed by grade class, application, shape and state, pieces
converted to kg, never a buyer's identity) and pooled requirements (the rules of
matching/magnets/pools.py, documented in docs/magnets.md)."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching.magnets.models import MagnetPool, MagnetRequirement
from matching.magnets.pools import pools_form
from remag.webhooks.models import Event, EventAudience
from tests.factories import OrganizationFactory
from tests.matching.magnets.conftest import (
    Market,
    client_for,
    make_offer,
    make_requirement,
    requirement_body,
)

pytestmark = pytest.mark.django_db

ARC = {"outer_radius_mm": 30, "inner_radius_mm": 25, "angle_deg": 45, "length_mm": 40}
SMALL = {"quantity_per_month": "40", "pool_opt_in": True, "budget_inr_per_kg": None}


def audience_of(event: Event) -> list[Any]:
    return list(EventAudience.objects.filter(event=event).values_list("organization_id", flat=True))


def demand(user: Any, **params: str) -> Any:
    return client_for(user).get("/api/v1/magnets/demand/", params)


def test_demand_is_summed_by_grade_class_and_shape_in_kg(market: Market) -> None:
    make_requirement(market.buyer_org)  # 400 kg of N42SH arcs
    make_requirement(
        market.other_buyer.memberships.get().organization,
        quantity_per_month="10000",
        quantity_unit="pieces",
    )  # 323.977 kg
    make_requirement(market.buyer_org, grade="N45UH", shape="block", application="servo",
                     dimensions={"length_mm": 20, "width_mm": 10, "thickness_mm": 5},
                     quantity_per_month="50", delivery_state="MH")  # fmt: skip
    MagnetRequirement.objects.create(  # a draft: not demand yet
        owner=market.buyer_org, title="draft", application="servo", material="sintered_ndfeb",
        grade="n42sh", shape="arc", dimensions=ARC, tolerance_mm=Decimal("0.05"),
        coating="nicuni", magnetisation="axial", quantity_per_month=Decimal(999),
        quantity_unit="kg", duration_months=1, quantity_kg_per_month=Decimal(999),
        needed_from="2030-01-01", delivery_state="KA",
    )  # fmt: skip

    response = demand(market.operator, group_by="temperature_class,shape")
    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    assert [(r["temperature_class"], r["shape"]) for r in rows] == [("sh", "arc"), ("uh", "block")]
    sh_arcs = rows[0]
    assert (sh_arcs["requirement_count"], sh_arcs["buyer_count"]) == (2, 2)
    assert (sh_arcs["kg_per_month"], sh_arcs["tonnes_per_month"]) == ("723.977", "0.724")
    assert sh_arcs["pieces_per_month"] == "10000.000"
    assert sh_arcs["application"] is None  # not grouped by
    assert not {"owner", "buyer", "title", "id"} & set(sh_arcs)

    by_state = demand(market.operator, temperature_class="uh").json()["results"]
    assert [(r["delivery_state"], r["application"], r["kg_per_month"]) for r in by_state] == [
        ("MH", "servo", "50.000")
    ]


def test_makers_see_groups_of_fewer_than_three_buyers_only_folded(market: Market) -> None:
    third = OrganizationFactory(kind="sme")
    other = market.other_buyer.memberships.get().organization
    for owner in (market.buyer_org, other, third):  # three buyers of SH arcs
        make_requirement(owner)
    make_requirement(market.buyer_org, grade="N45UH", quantity_per_month="70")  # UH: 1 buyer
    make_requirement(other, grade="N45UH", shape="block", quantity_per_month="30",
                     dimensions={"length_mm": 20, "width_mm": 10, "thickness_mm": 5})  # fmt: skip

    rows = demand(market.maker, group_by="temperature_class,shape").json()["results"]
    assert [(r["temperature_class"], r["shape"], r["buyer_count"], r["other"]) for r in rows] == [
        ("sh", "arc", 3, False)
    ]  # the two one-buyer groups fold into an "other" of 2 buyers: omitted too
    assert rows[0]["kg_per_month"] == "1200.000"

    make_requirement(third, grade="N38UH", shape="block", quantity_per_month="5",
                     dimensions={"length_mm": 20, "width_mm": 10, "thickness_mm": 5})  # fmt: skip
    rows = demand(market.maker, group_by="temperature_class,shape").json()["results"]
    assert [(r["temperature_class"], r["shape"], r["other"]) for r in rows] == [
        ("sh", "arc", False),
        (None, None, True),
    ]
    folded = rows[1]
    assert (folded["buyer_count"], folded["requirement_count"], folded["kg_per_month"]) == (
        3, 3, "105.000"
    )  # fmt: skip
    # Operators see every group.
    everything = demand(market.operator, group_by="temperature_class,shape").json()["results"]
    assert [(r["temperature_class"], r["shape"], r["buyer_count"]) for r in everything] == [
        ("sh", "arc", 3),
        ("uh", "arc", 1),
        ("uh", "block", 2),
    ]


def test_demand_is_for_makers_and_operators_and_checks_its_parameters(market: Market) -> None:
    assert demand(market.buyer).status_code == 403
    bad = demand(market.maker, group_by="owner")
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["group_by"]


def pooled_market(market: Market) -> tuple[Any, list[Any]]:
    """A maker with a 100 kg/month minimum and three 40 kg/month opted-in requirements of
    one spec (a pool), plus three that may not join it."""
    offer = make_offer(market.maker_org)
    third = OrganizationFactory(kind="sme")
    other = market.other_buyer.memberships.get().organization
    members = [
        make_requirement(market.buyer_org, **SMALL),
        make_requirement(other, **SMALL),
        # Within the tolerance of the first (±0.05 mm): the same part.
        make_requirement(third, **SMALL, dimensions={**ARC, "length_mm": 40.04}),
    ]
    make_requirement(third, quantity_per_month="40", title="not opted in")
    make_requirement(third, **SMALL, coating="epoxy", title="another coating")
    make_requirement(third, **SMALL, dimensions={**ARC, "length_mm": 41}, title="bigger")
    return offer, members


def test_small_compatible_requirements_are_pooled(market: Market) -> None:
    offer, members = pooled_market(market)
    pool = MagnetPool.objects.get()
    assert {r.id for r in pool.members.all()} == {r.id for r in members}
    assert pool.quantity_kg_per_month == Decimal("120.000")

    (listed,) = client_for(market.maker).get("/api/v1/magnets/pools/").json()["results"]
    assert (listed["member_count"], listed["quantity_kg_per_month"]) == (3, "120.000")
    assert (listed["grade"], listed["shape"], listed["coating"]) == ("n42sh", "arc", "nicuni")
    formed = Event.objects.get(type="magnet_pool.formed")
    audience = set(
        EventAudience.objects.filter(event=formed).values_list("organization_id", flat=True)
    )
    assert audience == {r.owner_id for r in members[:2]}  # the third joined after
    joined = Event.objects.get(type="magnet_pool.joined")
    assert joined.payload["magnet_pool"]["member_count"] == 3
    assert set(
        EventAudience.objects.filter(event=joined).values_list("organization_id", flat=True)
    ) == {members[2].owner_id}
    assert "owner" not in str(formed.payload)

    buyer_view = client_for(market.buyer).get(f"/api/v1/magnets/requirements/{members[0].id}/")
    assert buyer_view.json()["pool"]["id"] == str(pool.id)

    answered = client_for(market.maker).post(
        f"{listed['url']}answer/", {"offer": str(offer.id)}, format="json"
    )
    assert answered.status_code == 200, answered.json()
    assert (answered.json()["status"], answered.json()["answered_offer"]) == (
        "answered",
        str(offer.id),
    )
    event = Event.objects.get(type="magnet_pool.answered")
    audience = set(
        EventAudience.objects.filter(event=event).values_list("organization_id", flat=True)
    )
    assert audience == {r.owner_id for r in members} | {market.maker_org.id}
    again = client_for(market.maker).post(
        f"{listed['url']}answer/", {"offer": str(offer.id)}, format="json"
    )
    assert again.status_code == 409


def test_an_offer_that_misses_the_pool_is_refused_with_its_reason(market: Market) -> None:
    pooled_market(market)
    big = make_offer(market.maker_org, min_order_per_month="500")
    pool = MagnetPool.objects.get()
    response = client_for(market.maker).post(
        f"/api/v1/magnets/pools/{pool.id}/answer/", {"offer": str(big.id)}, format="json"
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "offer"
    assert "minimum order 500 kg/month, above the 120 kg/month asked" in error["message"]


def test_members_leaving_shrink_then_dissolve_the_pool(market: Market) -> None:
    _, members = pooled_market(market)
    pool = MagnetPool.objects.get()
    client_for(market.buyer).post(f"/api/v1/magnets/requirements/{members[0].id}/close/")
    pool.refresh_from_db()
    assert (pool.status, pool.quantity_kg_per_month) == ("open", Decimal("80.000"))
    other = client_for(market.other_buyer)
    assert other.post(f"/api/v1/magnets/requirements/{members[1].id}/cancel/").status_code == 200
    pool.refresh_from_db()
    assert pool.status == "dissolved"
    members[2].refresh_from_db()
    assert members[2].pool_id is None
    assert Event.objects.filter(type="magnet_pool.dissolved").count() == 1


def test_a_member_whose_spec_changes_leaves_the_pool(market: Market) -> None:
    _, members = pooled_market(market)
    client_for(market.buyer).patch(
        f"/api/v1/magnets/requirements/{members[0].id}/", {"coating": "epoxy"}, format="json"
    )
    members[0].refresh_from_db()
    assert members[0].pool_id is None
    assert MagnetPool.objects.get().quantity_kg_per_month == Decimal("80.000")


def test_a_put_repeating_the_same_values_keeps_the_member_in_its_pool(market: Market) -> None:
    _, members = pooled_market(market)
    client = client_for(market.buyer)
    url = f"/api/v1/magnets/requirements/{members[0].id}/"
    body = {k: v for k, v in client.get(url).json().items() if k in requirement_body()}
    body.update(pool_opt_in=True, title="renamed")
    assert client.put(url, body, format="json").status_code == 200
    members[0].refresh_from_db()
    assert members[0].pool_id == MagnetPool.objects.get().id
    assert client.patch(url, {"duration_months": 6}, format="json").status_code == 200
    members[0].refresh_from_db()
    assert members[0].pool_id is None


def test_a_pool_whose_sum_would_overflow_is_capped_and_served(market: Market) -> None:
    """Rows written before the cap (or by hand) must not break pool forming, the pool's
    listing or the demand totals."""
    from matching.magnets import pools
    from matching.magnets.choices import MAX_QUANTITY_COLUMN

    _, members = pooled_market(market)
    pool = MagnetPool.objects.get()
    MagnetRequirement.objects.filter(id__in=[m.id for m in members]).update(
        quantity_kg_per_month=Decimal("90000000000")
    )
    pools._refresh(pool)  # 2.7e11 kg would not fit numeric(14, 3)
    pool.refresh_from_db()
    assert pool.quantity_kg_per_month == Decimal(MAX_QUANTITY_COLUMN)
    listed = client_for(market.maker).get("/api/v1/magnets/pools/")
    assert listed.status_code == 200
    assert listed.json()["results"][0]["quantity_kg_per_month"] == "99999999999.000"
    totals = demand(market.operator, group_by="material")
    assert totals.status_code == 200, totals.json()
    assert Decimal(totals.json()["results"][0]["kg_per_month"]) >= Decimal("270000000000")


def test_pools_keep_their_members_required_certifications(market: Market) -> None:
    """A pool of buyers requiring IATF 16949 is answered only by a maker holding it; a
    buyer requiring nothing pools apart."""
    make_offer(market.maker_org)  # holds iatf-16949; 100 kg/month minimum
    other = market.other_buyer.memberships.get().organization
    members = [make_requirement(market.buyer_org, **SMALL), make_requirement(other, **SMALL)]
    apart = make_requirement(OrganizationFactory(kind="sme"), **SMALL, required_certifications=[])
    uncertified = make_offer(
        market.other_maker_org, certifications=["iso-9001"], min_order_per_month="50"
    )

    pool = MagnetPool.objects.get()
    assert {r.id for r in pool.members.all()} == {r.id for r in members}
    apart.refresh_from_db()
    assert apart.pool_id is None
    (listed,) = client_for(market.maker).get("/api/v1/magnets/pools/").json()["results"]
    assert listed["required_certifications"] == ["iatf-16949"]

    refused = client_for(market.other_maker).post(
        f"{listed['url']}answer/", {"offer": str(uncertified.id)}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "offer"
    assert "iatf-16949" in str(refused.json()["errors"][0])


def test_pool_forming_reads_the_open_pools_once_whatever_the_waiting_groups(
    market: Market,
) -> None:
    """Requirements waiting alone, each in a spec of its own: forming pools costs the same
    queries for one such group as for four (the open pools are read and locked in two
    queries, not one per group: a run against 50,000 requirements left some 230)."""
    pool_members = pooled_market(market)[1]
    third = OrganizationFactory(kind="sme")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert pools_form(material="sintered_ndfeb") == []
        return len(captured.captured_queries)

    make_requirement(third, **SMALL, grade="N45SH")
    few = queries()
    for grade, coating, magnetisation in [
        ("N38UH", "nicuni", "diametral"),
        ("N45SH", "nicuni", "axial"),
        ("N38UH", "epoxy", "axial"),
    ]:
        make_requirement(third, **SMALL, grade=grade, coating=coating, magnetisation=magnetisation)
    assert queries() == few
    # Nothing pooled that should not be: the pool as it was, the newcomers waiting.
    pool = MagnetPool.objects.get()
    assert {r.id for r in pool.members.all()} == {r.id for r in pool_members}
    assert MagnetRequirement.objects.filter(pool__isnull=True, pool_opt_in=True).count() == 6
