"""The request list is written without model instances on PostgreSQL (each request as
JSON text PostgreSQL builds, ``ProcurementRequestViewSet._list_json``); each page must
read exactly as :class:`ProcurementRequestSerializer` writes it from the models, for
every caller: the owner's members (private fields), another buyer, an SME and an
operator; drafts, open, closed and cancelled requests; every field filled or empty;
text that JSON must escape; dates with and without microseconds; filters, orderings
and every page of the cursor."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from django.db.models import JSONField, Value
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from matching.api.serializers import ProcurementRequestSerializer
from matching.models import ProcurementRequest
from matching.selectors import request_list
from remag.accounts.caller import caller_for
from tests.matching.conftest import FILLED, TRICKY, World, client_for, post_request_as, publish

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]

ORDERINGS = (
    "-created_at",
    "created_at",
    "needed_by",
    "-needed_by",
    "published_at",
    "-published_at",
    "updated_at",
    "-updated_at",
)


def as_sent(data: Any) -> str:
    """``data`` as JSON text after a trip through JSON: numbers keep their type (``3`` and
    ``3.0`` differ, as do ``1`` and ``true``), which ``==`` on parsed values would not
    tell apart."""
    return json.dumps(json.loads(JSONRenderer().render(data)))


def serialized(user: Any, ordering: str = "-created_at", **filters: Any) -> list[dict[str, Any]]:
    """The requests ``user`` may list, as the serializer writes them, in the list's order:
    by ``ordering``'s field, then by id the same way, nulls above every value (first
    when descending, last when ascending), as the cursor pagination orders them."""
    http = RequestFactory().get("/")
    http.user = user
    caller = caller_for(http)
    field = ordering.lstrip("-")
    descending = ordering.startswith("-")
    instances = list(request_list(caller=caller, codes_only=True).filter(**filters))
    present = [r for r in instances if getattr(r, field) is not None]
    absent = [r for r in instances if getattr(r, field) is None]
    present.sort(key=lambda r: (getattr(r, field), r.id), reverse=descending)
    absent.sort(key=lambda r: r.id, reverse=descending)
    ordered = absent + present if descending else present + absent
    context = {"request": http, "caller": caller}
    return list(ProcurementRequestSerializer(ordered, many=True, context=context).data)


@pytest.fixture
def requests(world: World) -> list[str]:
    """Requests in every status, of two buyers, every field filled or empty."""
    plain = publish(world)
    full = publish(
        world,
        **FILLED,
        prefer_sc_st_owned=True,
        weights={"distance": 3, "policy": 2.5},
        delivery_latitude=18,
        delivery_longitude=73.5,
    )
    bare = post_request_as(
        world.buyer,
        layer="testing",
        required_capabilities=["hysteresigraph-testing"],
        required_certifications=[],
        preferred_certifications=[],
        quantity=None,
        quantity_unit="",
        needed_by=None,
        delivery_latitude=None,
        delivery_longitude=None,
    )["id"]  # a draft
    closed = publish(world, title="Closed")
    client_for(world.buyer).post(f"/api/v1/requests/{closed}/close/")
    cancelled = post_request_as(world.buyer, title="Cancelled")["id"]
    client_for(world.buyer).post(f"/api/v1/requests/{cancelled}/cancel/")
    other = World(**{**world.__dict__, "buyer": world.other_buyer})
    others_open = publish(other, title="Another buyer's powder", weights={"capacity": 0})
    others_draft = post_request_as(world.other_buyer, title="Another buyer's draft")["id"]
    # A creation stamped on a whole second, a day before (another offset would come from
    # another zone: the server's own is used, as DRF does).
    whole = timezone.now().replace(microsecond=0) - timedelta(days=1)
    ProcurementRequest.objects.filter(id=plain).update(
        created_at=whole, published_at=whole, updated_at=whole
    )
    ProcurementRequest.objects.filter(id=bare).update(quantity=Decimal("0.001"))
    return [plain, full, bare, closed, cancelled, others_open, others_draft]


def listed(user: Any, query: str = "") -> list[dict[str, Any]]:
    response = client_for(user).get(f"/api/v1/requests/?page_size=200&{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert not hasattr(response, "data"), "written by PostgreSQL, not by the serializer"
    return response.json()["results"]


@pytest.mark.parametrize("who", ["buyer", "other_buyer", "operator", "sme"])
def test_every_request_reads_as_the_serializer_writes_it_for_every_caller(
    world: World, requests: list[str], who: str
) -> None:
    user = world.sme_users["full"] if who == "sme" else getattr(world, who)
    expected = serialized(user)

    results = listed(user)

    assert as_sent(results) == as_sent(expected)


def test_the_owner_sees_its_drafts_and_private_fields_and_others_do_not(
    world: World, requests: list[str]
) -> None:
    plain, full, bare, closed, cancelled, others_open, others_draft = requests
    mine = {r["id"]: r for r in listed(world.buyer)}
    theirs = {r["id"]: r for r in listed(world.other_buyer)}
    everyone = {r["id"]: r for r in listed(world.operator)}

    assert set(mine) == {plain, full, bare, closed, cancelled, others_open}
    assert set(theirs) == {plain, full, closed, cancelled, others_open, others_draft}
    assert set(everyone) == set(requests)
    assert mine[full]["weights"] == {"distance": 3.0, "policy": 2.5}
    assert isinstance(mine[full]["weights"]["distance"], float)
    assert isinstance(mine[full]["delivery_latitude"], float)
    assert mine[full]["max_distance_km"] == 1500
    assert mine[full]["prefer_sc_st_owned"] is True
    assert mine[full]["matches_url"] == f"http://testserver/api/v1/requests/{full}/matches/"
    assert "weights" not in theirs[full]
    assert "delivery_pin_code" not in theirs[full]
    assert "created_at" not in theirs[full]
    assert theirs[others_open]["weights"] == {"capacity": 0}
    assert everyone[others_draft]["delivery_pin_code"] == "411001"
    assert mine[full]["title"] == TRICKY
    assert mine[full]["quantity"] == "1234.500"
    assert mine[bare]["quantity"] == "0.001"
    assert mine[bare]["needed_by"] is None
    assert mine[bare]["delivery_latitude"] is None
    assert mine[full]["grades"] == sorted(mine[full]["grades"])
    assert mine[full]["preferred_certifications"] == ["iatf-16949", "iso-14001"]
    assert mine[plain]["created_at"].endswith("+05:30")
    assert "." not in mine[plain]["created_at"]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_every_page_of_the_cursor_in_every_ordering_reads_as_the_serializer_writes_it(
    world: World, requests: list[str], ordering: str
) -> None:
    expected = serialized(world.operator, ordering)
    client = client_for(world.operator)
    seen: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/requests/?page_size=2&ordering={ordering}"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += page["results"]
        url = page["next"]
    assert as_sent(seen) == as_sent(expected)
    # And back again from the last page: every page before it, in the same order.
    last = page["results"]
    back: list[dict[str, Any]] = []
    url = page["previous"]
    while url:
        page = client.get(url).json()
        back = page["results"] + back
        url = page["previous"]
    assert as_sent(back + last) == as_sent(expected)


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("status=open", {"status": "open"}),
        ("layer=components", {"layer": "components"}),
        (
            "capability=hydrogen-decrepitation",
            {"required_capabilities__code": "hydrogen-decrepitation"},
        ),
        ("q=powder", {"title__icontains": "powder"}),
    ],
)
def test_a_filtered_page_lists_what_the_filter_keeps(
    world: World, requests: list[str], query: str, filters: dict[str, Any]
) -> None:
    expected = serialized(world.buyer, **filters)
    assert 0 < len(expected) < len(serialized(world.buyer))

    assert as_sent(listed(world.buyer, query)) == as_sent(expected)


@pytest.mark.parametrize(
    ("field", "stored"),
    [
        ("materials", {"a": 1}),
        ("materials", "Dy, Tb"),
        ("materials", None),
        ("materials", ["Dy", 1, 1.5, True, None, {"a": 1}, [1, "x"]]),
        ("materials", [["Dy"], "Tb"]),
        ("materials", ["Dy", None]),
        ("weights", None),
        ("weights", {"distance": 2000, "policy": 1}),
        ("weights", {"distance": "3"}),
    ],
    ids=[
        "materials object",
        "materials string",
        "materials null",
        "materials mixed list",
        "materials nested list",
        "materials with null",
        "weights null",
        "weights over the limit",
        "weights string value",
    ],
)
def test_a_field_the_admin_stored_in_another_shape_reads_as_the_serializer_writes_it(
    world: World, requests: list[str], field: str, stored: Any
) -> None:
    """The API stores materials as a list of strings and weights as an object of
    numbers; the admin or SQL may store any JSON. Such a request is written by the
    serializer, not by PostgreSQL, and the page is still 200."""
    value = Value(None, JSONField()) if stored is None else stored  # JSON null
    ProcurementRequest.objects.filter(id=requests[1]).update(**{field: value})

    assert as_sent(listed(world.other_buyer)) == as_sent(serialized(world.other_buyer))
    assert as_sent(listed(world.buyer)) == as_sent(serialized(world.buyer))


def test_a_request_deleted_after_the_page_was_read_is_left_out(
    world: World, requests: list[str]
) -> None:
    from matching.selectors import request_representations_json

    http = RequestFactory().get("/")
    http.user = world.buyer
    ProcurementRequest.objects.filter(id=requests[2]).delete()
    templates = {
        name: f"http://testserver/r/{{id}}/{name}/"
        for name in ("url", "matches_url", "match_runs_url")
    }
    texts = request_representations_json(
        [UUID(i) for i in requests], caller=caller_for(http), url_templates=templates
    )
    assert set(texts) == {UUID(i) for i in requests} - {UUID(requests[2])}
    assert all(text is not None for text in texts.values())


@pytest.mark.parametrize("who", ["buyer", "other_buyer", "operator", "sme"])
def test_each_request_reads_alone_as_the_serializer_writes_it_for_every_caller(
    world: World, requests: list[str], who: str
) -> None:
    """A request's own URL is written by PostgreSQL too; one the caller may not list (a
    draft of another organisation) is a 404, as from the serializer's way."""
    user = world.sme_users["full"] if who == "sme" else getattr(world, who)
    expected = {item["id"]: item for item in serialized(user)}
    client = client_for(user)
    for request_id in requests:
        response = client.get(f"/api/v1/requests/{request_id}/")
        if request_id not in expected:
            assert response.status_code == 404
            assert response["Content-Type"] == "application/problem+json"
            continue
        assert response.status_code == 200
        assert not hasattr(response, "data"), "written by PostgreSQL, not by the serializer"
        assert as_sent(response.json()) == as_sent(expected[request_id])
    assert len(expected) >= 5


def test_line_and_paragraph_separators_are_escaped_as_drfs_renderer_escapes_them(
    world: World, requests: list[str]
) -> None:
    full = requests[1]
    client = client_for(world.buyer)
    for url in (f"/api/v1/requests/{full}/", "/api/v1/requests/"):
        body = client.get(url).content.decode()
        assert "\u2028" not in body
        assert "\\u2028" in body


def test_a_request_the_admin_stored_in_another_shape_reads_alone_as_the_serializer_writes_it(
    world: World, requests: list[str]
) -> None:
    ProcurementRequest.objects.filter(id=requests[1]).update(materials={"a": 1})
    expected = {item["id"]: item for item in serialized(world.buyer)}

    response = client_for(world.buyer).get(f"/api/v1/requests/{requests[1]}/")

    assert response.status_code == 200
    assert as_sent(response.json()) == as_sent(expected[requests[1]])
