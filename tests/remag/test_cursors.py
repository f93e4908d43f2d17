"""Tampered cursors are a 400 naming ``cursor`` on every cursor-paginated list, and
honest cursors page through every row once, nulls included (remag/api/pagination.py)."""

import random
from base64 import b64encode
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from matching.models import Match
from remag.webhooks.models import WebhookEndpoint
from suppliers.models import ImportJob, Supplier
from tests.factories import MembershipFactory, SupplierFactory
from tests.matching import conftest as matching
from tests.matching.conftest import World, client_for

# The matching tests' world: a buyer with a published, matched request.
world = matching.world
post_request = matching.post_request
published = matching.published

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_throttling(settings: Any) -> None:
    settings.REMAG_THROTTLE_RATES = dict.fromkeys(settings.REMAG_THROTTLE_RATES, "100000/minute")


def b64(text: str) -> str:
    return b64encode(text.encode()).decode()


def tampered_cursors() -> list[str]:
    """Cursors no link of ours ever carries."""
    rng = random.Random(10)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
    cursors = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(12)]
    cursors += [
        b64(bytes(rng.randrange(256) for _ in range(16)).decode("latin-1")) for _ in range(4)
    ]
    cursors += ["not-a-cursor", "%%%", "é", "cD1hYmM", "====", " ", "\x00"]
    positions = [
        "abc", "", "None", "null", "\x00", "a\x00b", "-1", "1.5", "1e400", "nan", "inf",
        "99999999999999999999999999999", "2026-13-45", "2026-01-01", "2026-01-01 00:00:00",
        "0001-01-01 00:00:00-14:00", "9999-12-31 23:59:59+14:00", "not-a-uuid",
        "' OR 1=1 --", "x" * 5000, "\U0001f9f2",
    ]  # fmt: skip
    for reverse in ("", "1", "abc"):
        for position in positions:
            tokens = {"p": position}
            if reverse:
                tokens["r"] = reverse
            cursors.append(b64(urlencode(tokens)))
    for offset in ("-1", "-999", "abc", "1.5", "1e3", "", "1001", "9" * 30, "9" * 5000):
        cursors.append(b64(urlencode({"o": offset})))
        cursors.append(b64(urlencode({"o": offset, "r": "1", "p": "2026-01-01 00:00:00+00:00"})))
    cursors += [
        b64("r=2"),
        b64("r=-1"),
        b64("r=0&p=abc"),
        b64("p=1&p=2"),
        b64("o=1&o=2"),
        b64("n=1&p=2"),
        b64("n=2"),
        b64("zz=1"),
        b64("p"),
        b64("&&&"),
    ]
    return cursors


CURSORS = tampered_cursors()


def assert_cursors_never_fail(client: APIClient, url: str) -> None:
    assert client.get(url).status_code == 200, (url, client.get(url).content[:300])
    separator = "&" if "?" in url else "?"
    failures = []
    for cursor in CURSORS:
        response = client.get(url + separator + urlencode({"cursor": cursor}))
        if response.status_code == 200:
            continue
        if response.status_code != 400 or not any(
            error["field"] == "cursor" for error in response.json().get("errors", [])
        ):
            failures.append((cursor[:60], response.status_code, response.content[:200]))
    assert not failures, (url, failures[:5], len(failures))


def assert_type_mismatch_is_400(client: APIClient, url: str) -> None:
    separator = "&" if "?" in url else "?"
    for cursor in (b64("p=abc"), b64("p=abc&r=1"), b64("o=-1"), b64("o=" + "9" * 30)):
        response = client.get(url + separator + urlencode({"cursor": cursor}))
        assert response.status_code == 400, (url, cursor, response.content[:300])
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "cursor"


def test_the_reported_cursor_is_400_even_anonymously() -> None:
    SupplierFactory(employees=12)

    response = APIClient().get("/api/v1/suppliers/?ordering=employees&cursor=cD1hYmM%3D")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "cursor"


SUPPLIER_ORDERINGS = ["created_at", "legal_name", "year_established", "employees", "updated_at"]
REQUEST_ORDERINGS = ["created_at", "needed_by", "published_at", "updated_at"]


@pytest.fixture
def lists(world: World, published: Callable[..., str]) -> list[tuple[APIClient, str]]:
    """Every cursor-paginated list with a caller allowed to read it."""
    request_id = published()
    match = Match.objects.filter(request_id=request_id).first()
    assert match is not None
    buyer, operator = client_for(world.buyer), client_for(world.operator)
    admin = MembershipFactory(role="admin")
    endpoint = WebhookEndpoint.objects.create(
        organization=world.buyer_org, url="https://example.com/hook", secret="s" * 40
    )
    job = ImportJob.objects.create(
        owner=world.portal_org, file_format="csv", content=b"", size_bytes=0
    )
    supplier: Supplier = world.suppliers["full"]
    anonymous = APIClient()
    deal = _deal(world, request_id)
    call_id = _collaboration(world)
    magnets = _magnets(world)
    maker, magnet_buyer = buyer, client_for(world.sme_users["full"])
    return [
        (client_for(admin.user), f"/api/v1/organizations/{admin.organization_id}/api-keys/"),
        (operator, "/api/v1/organizations/"),
        (client_for(admin.user), "/api/v1/me/tokens/"),
        (client_for(admin.user), f"/api/v1/organizations/{admin.organization_id}/members/"),
        (client_for(admin.user), f"/api/v1/organizations/{admin.organization_id}/invitations/"),
        (client_for(admin.user), f"/api/v1/organizations/{admin.organization_id}/delegations/"),
        (operator, "/api/v1/claims/"),
        (anonymous, "/api/v1/taxonomy/capabilities/"),
        (anonymous, "/api/v1/taxonomy/certifications/"),
        (anonymous, "/api/v1/taxonomy/grades/"),
        (anonymous, "/api/v1/suppliers/"),
        *[(anonymous, f"/api/v1/suppliers/?ordering={o}") for o in SUPPLIER_ORDERINGS],
        *[(anonymous, f"/api/v1/suppliers/?ordering=-{o}") for o in SUPPLIER_ORDERINGS],
        (operator, "/api/v1/imports/"),
        (operator, f"/api/v1/imports/{job.id}/errors/"),
        (buyer, "/api/v1/requests/"),
        *[(buyer, f"/api/v1/requests/?ordering={o}") for o in REQUEST_ORDERINGS],
        *[(buyer, f"/api/v1/requests/?ordering=-{o}") for o in REQUEST_ORDERINGS],
        (buyer, f"/api/v1/requests/{request_id}/match-runs/"),
        (buyer, f"/api/v1/requests/{request_id}/matches/"),
        (buyer, f"/api/v1/matches/{match.id}/transitions/"),
        (operator, f"/api/v1/suppliers/{supplier.id}/opportunities/"),
        (buyer, "/api/v1/events/"),
        (buyer, "/api/v1/events/?ordering=occurred_at"),
        (buyer, "/api/v1/webhooks/endpoints/"),
        (buyer, f"/api/v1/webhooks/endpoints/{endpoint.id}/deliveries/"),
        (buyer, "/api/v1/quotation-requests/"),
        (buyer, f"/api/v1/quotation-requests/{deal['rfq']}/quotations/"),
        (buyer, "/api/v1/quotations/"),
        (buyer, f"/api/v1/quotations/{deal['quotation']}/revisions/"),
        (buyer, f"/api/v1/quotations/{deal['quotation']}/attachments/"),
        (buyer, "/api/v1/orders/"),
        (buyer, f"/api/v1/orders/{deal['order']}/deliveries/"),
        (buyer, f"/api/v1/orders/{deal['order']}/payments/"),
        (buyer, "/api/v1/collaboration/calls/"),
        (buyer, f"/api/v1/collaboration/calls/{call_id}/matches/"),
        (buyer, f"/api/v1/collaboration/calls/{call_id}/near-misses/"),
        (buyer, f"/api/v1/collaboration/calls/{call_id}/runs/"),
        (buyer, "/api/v1/collaboration/interests/"),
        (maker, "/api/v1/magnets/offers/"),
        (maker, f"/api/v1/magnets/offers/{magnets['offer']}/leads/"),
        (maker, f"/api/v1/magnets/offers/{magnets['offer']}/near-misses/"),
        (maker, f"/api/v1/magnets/offers/{magnets['offer']}/runs/"),
        (maker, "/api/v1/magnets/leads/"),
        (maker, "/api/v1/magnets/pools/"),
        (magnet_buyer, "/api/v1/magnets/requirements/"),
        (magnet_buyer, f"/api/v1/magnets/requirements/{magnets['requirement']}/matches/"),
        (magnet_buyer, f"/api/v1/magnets/requirements/{magnets['requirement']}/near-misses/"),
        (magnet_buyer, f"/api/v1/magnets/requirements/{magnets['requirement']}/runs/"),
    ]


def _collaboration(world: World) -> str:
    """An open call for collaboration, matched (one match, one near miss) and answered."""
    from tests.collaboration.conftest import call_body, run_pending
    from tests.matching.conftest import add_capability

    add_capability(world.suppliers["full"], "materials-rnd")
    add_capability(world.suppliers["half"], "prototyping")
    buyer = client_for(world.buyer)
    body = call_body(
        required_capabilities=["materials-rnd", "prototyping"],
        required_facilities=[],
        preferred_facilities=[],
        requires_nda=False,
        nda_text="",
    )
    call = buyer.post("/api/v1/collaboration/calls/", body, format="json").json()
    assert buyer.post(f"{call['url']}open/").status_code == 200
    assert run_pending(call["id"]).status == "succeeded"
    interest = {"call": call["id"], "supplier": str(world.suppliers["full"].id), "message": "Hi"}
    sme = client_for(world.sme_users["full"])
    assert sme.post("/api/v1/collaboration/interests/", interest, format="json").status_code == 201
    return call["id"]


def _magnets(world: World) -> dict[str, Any]:
    """The buyer's organisation (a manufacturer) offers magnets; an SME requires them."""
    from tests.matching.magnets.conftest import make_offer, make_requirement

    offer = make_offer(world.buyer_org)
    make_offer(world.buyer_org, coatings=["zn"])  # one constraint short: a near miss
    sme = world.suppliers["full"].owner
    requirement = make_requirement(sme)
    make_requirement(sme, title="second")
    return {"offer": offer.id, "requirement": requirement.id}


def _deal(world: World, request_id: str) -> dict[str, Any]:
    """A quotation (with a file), awarded, delivered and paid (docs/procurement.md)."""
    from io import BytesIO

    from django.utils import timezone

    from tests.matching.procurement.conftest import PDF, ask_quotes, make_interested, quote

    match = make_interested(world, request_id, "full")["full"]
    rfq = ask_quotes(world, request_id)
    quotation = quote(world, "full", match).json()
    sme, buyer = client_for(world.sme_users["full"]), client_for(world.buyer)
    url = f"/api/v1/quotations/{quotation['id']}/attachments/"
    assert sme.post(url, {"file": BytesIO(PDF)}, format="multipart").status_code == 201
    buyer.get(rfq["quotations_url"])
    award = {"awards": [{"quotation": quotation["id"], "quantity": "300"}]}
    order = buyer.post(f"{rfq['url']}award/", award, format="json").json()["orders"][0]
    today = timezone.localdate().isoformat()
    delivery = {"delivered_on": today, "quantity_delivered": "300", "quantity_accepted": "300"}
    assert buyer.post(order["deliveries_url"], delivery, format="json").status_code == 201
    payment = {"received_on": today, "amount": "1000.00"}
    assert sme.post(order["payments_url"], payment, format="json").status_code == 201
    return {"rfq": rfq["id"], "quotation": quotation["id"], "order": order["id"]}


def test_tampered_cursors_are_400_on_every_list(lists: list[tuple[APIClient, str]]) -> None:
    for client, url in lists:
        assert_cursors_never_fail(client, url)


def test_a_position_of_the_wrong_type_is_400_on_typed_orderings(
    lists: list[tuple[APIClient, str]],
) -> None:
    typed = [
        (c, u)
        for c, u in lists
        if "legal_name" not in u and "taxonomy" not in u  # text positions: "abc" is valid
    ]
    for client, url in typed:
        assert_type_mismatch_is_400(client, url)


def test_every_paginated_list_is_covered(lists: list[tuple[APIClient, str]]) -> None:
    from django.urls import get_resolver

    from remag.api.pagination import CursorPagination

    def walk(patterns: Any) -> Any:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern

    paginated = set()
    for pattern in walk(get_resolver().url_patterns):
        cls = getattr(pattern.callback, "cls", None)
        action = (getattr(pattern.callback, "actions", None) or {}).get("get")
        if (
            not cls
            or not action
            or not issubclass(cls.pagination_class or object, CursorPagination)
        ):
            continue
        method = getattr(cls, action)
        if action == "list" or (
            getattr(method, "detail", None) and method.kwargs.get("pagination_class", 1) is not None
        ):
            paginated.add(pattern.name)
    # The CSV export of an import's errors is not paginated (one file).
    paginated.discard("import-row-errors-csv")
    covered = {
        "api-key-list", "organization-list", "user-token-list", "capability-list",
        "certification-list", "grade-list", "supplier-list", "import-list",
        "import-row-errors", "request-list", "request-match-runs", "request-matches",
        "match-transitions", "supplier-opportunities", "event-list",
        "webhook-endpoint-list", "webhook-endpoint-deliveries",
        "member-list", "invitation-list", "delegation-list", "claim-list",
        "quotation-request-list", "quotation-request-quotations", "quotation-list",
        "quotation-revisions", "quotation-attachments", "order-list", "order-deliveries",
        "order-payments", "collaboration-call-list", "collaboration-call-matches",
        "collaboration-call-near-misses", "collaboration-call-runs",
        "collaboration-interest-list",
        "magnet-offer-list", "magnet-offer-leads",
        "magnet-offer-near-misses", "magnet-offer-runs", "magnet-lead-list",
        "magnet-pool-list", "magnet-requirement-list", "magnet-requirement-matches",
        "magnet-requirement-near-misses", "magnet-requirement-runs",
    }  # fmt: skip
    assert paginated == covered


@pytest.mark.parametrize(
    "ordering", ["employees", "-employees", "year_established", "-year_established"]
)
def test_pages_cross_null_values_both_ways(ordering: str) -> None:
    """A page may end on a row whose ordering field is null; its links still work."""
    for employees in (None, 5, None, 5, 9, None, 1, None, None, 300, 5):
        SupplierFactory(employees=employees, year_established=employees and 1990 + employees % 30)
    client = APIClient()

    forward: list[str] = []
    url: str | None = f"/api/v1/suppliers/?ordering={ordering}&page_size=2"
    last_page: dict[str, Any] = {}
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        last_page = response.json()
        forward += [s["id"] for s in last_page["results"]]
        url = last_page["next"]
    backward: list[str] = [s["id"] for s in last_page["results"]]
    url = last_page["previous"]
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        backward = [s["id"] for s in page["results"]] + backward
        url = page["previous"]

    assert len(forward) == Supplier.objects.count() == len(set(forward))
    assert backward == forward
    # Nulls sort above every value, on every database (PostgreSQL's own order).
    name = ordering.lstrip("-")
    if ordering.startswith("-"):
        order = [F(name).desc(nulls_first=True), F("id").desc()]
    else:
        order = [F(name).asc(nulls_last=True), F("id").asc()]
    expected = Supplier.objects.order_by(*order).values_list("id", flat=True)
    assert forward == [str(i) for i in expected]
