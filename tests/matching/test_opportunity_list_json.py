"""A supplier's opportunities are listed without model instances (``OpportunityViewSet``
builds each from plain column values and its request as PostgreSQL writes it); each
must read exactly as :class:`OpportunitySerializer` writes it from the models: requests
with every public field filled or empty, codes in several orders, text that JSON must
escape, dates in the server's zone with and without microseconds, private reasons and
factors left out, two buyers' payment records, and every page of the cursor."""

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from django.db.models import JSONField, Value
from django.test import RequestFactory
from django.utils import timezone

from matching.api.serializers import OpportunitySerializer
from matching.models import Match, ProcurementRequest
from matching.procurement.selectors import payment_records
from matching.selectors import opportunity_list
from tests.matching.conftest import FILLED, TRICKY, World, client_for, publish

pytestmark = pytest.mark.django_db


def serialized(supplier: Any) -> list[dict[str, Any]]:
    """The opportunities as the serializer writes them, in the list's order."""
    matches = list(opportunity_list(supplier=supplier).order_by("-public_score", "request_id"))
    buyers = sorted({str(m.request.owner_id) for m in matches})
    context = {
        "request": RequestFactory().get("/"),
        "payment_records": payment_records(buyer_ids=buyers),
    }
    return list(OpportunitySerializer(matches, many=True, context=context).data)


@pytest.fixture
def opportunities(world: World) -> list[str]:
    plain = publish(world)
    full = publish(world, **FILLED, weights={"distance": 3, "policy": 2})
    bare = publish(
        world,
        required_certifications=[],
        preferred_certifications=[],
        quantity=None,
        quantity_unit="",
        delivery_latitude=None,
        delivery_longitude=None,
    )
    other_buyer = publish_as_other_buyer(world)
    # A publication stamped on a whole second, and one a day before (another offset
    # would come from another zone: the server's own is used, as DRF does).
    whole = timezone.now().replace(microsecond=0) - timedelta(days=1)
    ProcurementRequest.objects.filter(id=plain).update(published_at=whole)
    ProcurementRequest.objects.filter(id=bare).update(quantity=Decimal("0.001"))
    return [plain, full, bare, other_buyer]


def publish_as_other_buyer(world: World) -> str:
    other = World(**{**world.__dict__, "buyer": world.other_buyer})
    return publish(other, title="Another buyer's powder")


def test_every_opportunity_reads_as_the_serializer_writes_it(
    world: World, opportunities: list[str]
) -> None:
    supplier = world.suppliers["full"]
    expected = serialized(supplier)
    assert {o["request"]["id"] for o in expected} == set(opportunities)

    response = client_for(world.sme_users["full"]).get(
        f"/api/v1/suppliers/{supplier.id}/opportunities/"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    listed = response.json()["results"]
    assert listed == expected
    for item, reference in zip(listed, expected, strict=True):
        assert list(item) == list(reference)
        assert list(item["request"]) == list(reference["request"])
    by_id = {o["request"]["id"]: o for o in listed}
    tricky = by_id[opportunities[1]]
    assert tricky["request"]["title"] == TRICKY
    assert tricky["request"]["quantity"] == "1234.500"
    assert tricky["request"]["grades"] == sorted(tricky["request"]["grades"])
    assert tricky["request"]["preferred_certifications"] == ["iatf-16949", "iso-14001"]
    assert not any("km away" in reason for reason in tricky["reasons"])
    assert "policy" not in {f["name"] for f in tricky["factors"]}
    assert by_id[opportunities[2]]["request"]["quantity"] == "0.001"
    assert by_id[opportunities[0]]["request"]["published_at"].endswith("+05:30")


def test_opportunities_page_through_the_cursor_in_the_serializers_order(
    world: World, opportunities: list[str]
) -> None:
    supplier = world.suppliers["full"]
    expected = serialized(supplier)
    client = client_for(world.sme_users["full"])
    seen: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/suppliers/{supplier.id}/opportunities/?page_size=1"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 1
        seen += page["results"]
        url = page["next"]
    assert seen == expected


def test_a_filtered_page_lists_what_the_filter_keeps(
    world: World, opportunities: list[str]
) -> None:
    supplier = world.suppliers["full"]
    # On the public score, the one the supplier reads (not the buyer's ranking score).
    best = Match.objects.filter(supplier=supplier).order_by("-public_score").first()
    assert best is not None
    response = client_for(world.sme_users["full"]).get(
        f"/api/v1/suppliers/{supplier.id}/opportunities/", {"min_score": best.public_score}
    )
    scores = [o["score"] for o in response.json()["results"]]
    assert scores
    assert all(score >= best.public_score for score in scores)
    assert len(scores) < len(opportunities)


@pytest.mark.parametrize(
    "materials",
    [{"a": 1}, "Dy, Tb", None, ["Dy", 1, 1.5, True, None, {"a": 1}, [1, "x"]]],
    ids=["object", "string", "null", "mixed list"],
)
def test_materials_the_admin_stored_in_another_shape_read_as_the_serializer_writes_them(
    world: World, opportunities: list[str], materials: Any
) -> None:
    """The API stores a list of strings; the admin or SQL may store any JSON. Such a
    request is written by the serializer, not by PostgreSQL, and the page is still 200."""
    stored = Value(None, JSONField()) if materials is None else materials  # JSON null
    ProcurementRequest.objects.filter(id=opportunities[1]).update(materials=stored)
    supplier = world.suppliers["full"]

    response = client_for(world.sme_users["full"]).get(
        f"/api/v1/suppliers/{supplier.id}/opportunities/"
    )

    assert response.status_code == 200
    assert response.json()["results"] == serialized(supplier)


@pytest.mark.usefixtures("postgres")  # the function builds PostgreSQL's JSON
def test_a_request_closed_after_the_page_was_read_is_left_out(
    world: World, opportunities: list[str]
) -> None:
    from matching.selectors import published_requests_json

    ProcurementRequest.objects.filter(id=opportunities[0]).update(status="closed")
    texts = published_requests_json(
        [UUID(i) for i in opportunities], url_template="http://testserver/r/{id}/"
    )
    assert set(texts) == {UUID(i) for i in opportunities[1:]}
