"""The permission matrix of quotations and orders: every endpoint x every role."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from matching.procurement.models import Order, Quotation, QuotationRequest
from tests.conftest import shared_copy, shared_rows
from tests.matching.conftest import World, build_world, client_for, publish
from tests.matching.procurement.conftest import PDF, ask_quotes, make_interested, quote, terms
from tests.matrix import Endpoint, assert_covers, call, matrix_cases

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "buyer", "other_buyer", "matched_sme", "other_sme", "operator")
SIGNED_IN = dict.fromkeys(ROLES, 200) | {"anonymous": 401}


def parties(buyer: int, sme: int, operator: int, others: int = 404) -> dict[str, int]:
    """Something of the deal: the buyer, the matched SME and operators see it; other
    organisations get a 404 (or ``others``)."""
    return {
        "anonymous": 401,
        "buyer": buyer,
        "other_buyer": others,
        "matched_sme": sme,
        "other_sme": others,
        "operator": operator,
    }


DAY = timezone.localdate().isoformat()
ENDPOINTS = {
    "rfq-list": Endpoint("GET", "/api/v1/quotation-requests/", SIGNED_IN),
    # Only the buyer asks; operators decide nothing; the others see the request but it
    # is not theirs.
    "rfq-create": Endpoint(
        "POST",
        "/api/v1/quotation-requests/",
        parties(201, 403, 403, others=403),
        body={"request": "placeholder", "deadline": "placeholder"},
    ),
    "rfq-retrieve": Endpoint(
        "GET", "/api/v1/quotation-requests/{id}/", parties(200, 200, 200), {"id": "rfq"}
    ),
    "rfq-quotations": Endpoint(
        "GET", "/api/v1/quotation-requests/{id}/quotations/", parties(200, 200, 200), {"id": "rfq"}
    ),
    # The buyer's alone: scores, weights and every quotation side by side.
    "rfq-comparison": Endpoint(
        "GET", "/api/v1/quotation-requests/{id}/comparison/", parties(200, 403, 200), {"id": "rfq"}
    ),
    # Sealed: even the buyer may not award yet (a 409).
    "rfq-award": Endpoint(
        "POST",
        "/api/v1/quotation-requests/{id}/award/",
        parties(409, 403, 403),
        {"id": "rfq"},
        body={"awards": [{"quotation": "placeholder", "quantity": "100"}]},
    ),
    "quotation-list": Endpoint("GET", "/api/v1/quotations/", SIGNED_IN),
    # The match is invisible to other organisations: a field error on `match`.
    "quotation-create": Endpoint(
        "POST", "/api/v1/quotations/", parties(403, 201, 403, others=400), body={}
    ),
    "quotation-retrieve": Endpoint(
        "GET", "/api/v1/quotations/{id}/", parties(200, 200, 200), {"id": "quotation"}
    ),
    "quotation-revisions": Endpoint(
        "GET", "/api/v1/quotations/{id}/revisions/", parties(200, 200, 200), {"id": "quotation"}
    ),
    # The quotation was awarded: it cannot change any more (a 409 for its SME).
    "quotation-revise": Endpoint(
        "POST",
        "/api/v1/quotations/{id}/revisions/",
        parties(403, 409, 403),
        {"id": "quotation"},
        body=terms(),
    ),
    "quotation-withdraw": Endpoint(
        "POST", "/api/v1/quotations/{id}/withdraw/", parties(403, 409, 403), {"id": "quotation"}
    ),
    "attachment-list": Endpoint(
        "GET", "/api/v1/quotations/{id}/attachments/", parties(200, 200, 200), {"id": "quotation"}
    ),
    "attachment-create": Endpoint(
        "POST",
        "/api/v1/quotations/{id}/attachments/",
        parties(403, 409, 403),
        {"id": "quotation"},
        body={"file": SimpleUploadedFile("terms.pdf", PDF)},
        format="multipart",
    ),
    "attachment-content": Endpoint(
        "GET",
        "/api/v1/quotations/{id}/attachments/{attachment_id}/",
        parties(200, 200, 200),
        {"id": "quotation", "attachment_id": "attachment"},
    ),
    "order-list": Endpoint("GET", "/api/v1/orders/", SIGNED_IN),
    "order-retrieve": Endpoint(
        "GET", "/api/v1/orders/{id}/", parties(200, 200, 200), {"id": "order"}
    ),
    "order-deliveries": Endpoint(
        "GET", "/api/v1/orders/{id}/deliveries/", parties(200, 200, 200), {"id": "order"}
    ),
    "order-delivery-create": Endpoint(
        "POST",
        "/api/v1/orders/{id}/deliveries/",
        parties(201, 403, 403),
        {"id": "order"},
        body={"delivered_on": DAY, "quantity_delivered": "50", "quantity_accepted": "50"},
    ),
    "order-payments": Endpoint(
        "GET", "/api/v1/orders/{id}/payments/", parties(200, 200, 200), {"id": "order"}
    ),
    "order-payment-create": Endpoint(
        "POST",
        "/api/v1/orders/{id}/payments/",
        parties(403, 201, 403),
        {"id": "order"},
        body={"received_on": DAY, "amount": "1000.00"},
    ),
}


def test_the_matrix_covers_every_procurement_endpoint() -> None:
    assert_covers(
        ENDPOINTS, "/api/v1/quotation-requests/", "/api/v1/quotations/", "/api/v1/orders/"
    )


def clients(world: World) -> dict[str, APIClient]:
    return {
        "anonymous": APIClient(),
        "buyer": client_for(world.buyer),
        "other_buyer": client_for(world.other_buyer),
        "matched_sme": client_for(world.sme_users["full"]),
        "other_sme": client_for(world.sme_users["wrong_cap"]),  # matches nothing
        "operator": client_for(world.operator),
    }


@dataclass
class Stage:
    world: World
    context: dict[str, Any]
    interested_request: str  # C
    far_quotation: str  # of B
    full_match_b: str


@pytest.fixture(scope="module")
def shared_stage(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stage]:
    """Three deals at different stages, built once for the module (tests/conftest.py's
    shared_rows); each case runs in its own savepoint."""
    media = tmp_path_factory.mktemp("media")
    with shared_rows(django_db_blocker), override_settings(MEDIA_ROOT=str(media)):
        with django_db_blocker.unblock():
            stage = build_stage(build_world())
        yield stage


@pytest.fixture
def stage(request: pytest.FixtureRequest, shared_stage: Stage) -> Stage:
    return shared_copy(request, shared_stage)


def build_stage(world: World) -> Stage:
    # A: "full" quoted, with a file, and "far" too; "full" was awarded: an order.
    a = publish(world)
    matches_a = make_interested(world, a, "full", "far")
    rfq_a = ask_quotes(world, a)
    quotation_a = quote(world, "full", matches_a["full"]).json()
    attachment = client_for(world.sme_users["full"]).post(
        f"/api/v1/quotations/{quotation_a['id']}/attachments/",
        {"file": SimpleUploadedFile("terms.pdf", PDF)},
        format="multipart",
    )
    assert attachment.status_code == 201, attachment.json()
    quote(world, "far", matches_a["far"])
    awarded = client_for(world.buyer).post(
        f"{rfq_a['url']}award/",
        {"awards": [{"quotation": quotation_a["id"], "quantity": "300"}]},
        format="json",
    )
    assert awarded.status_code == 201, awarded.json()
    # B: "full" and "far" asked, only "far" quoted: sealed.
    b = publish(world)
    matches_b = make_interested(world, b, "full", "far")
    rfq_b = ask_quotes(world, b)
    far_quotation = quote(world, "far", matches_b["far"]).json()
    # C: "full" interested, nobody asked to quote yet.
    c = publish(world)
    make_interested(world, c, "full")

    context = {
        "rfq": rfq_b["id"],
        "quotation": quotation_a["id"],
        "attachment": attachment.json()["id"],
        "order": Order.objects.get().id,
    }
    return Stage(
        world=world,
        context=context,
        interested_request=c,
        far_quotation=far_quotation["id"],
        full_match_b=str(matches_b["full"].id),
    )


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(stage: Stage, name: str, role: str, status: int) -> None:
    endpoint = ENDPOINTS[name]
    if name == "rfq-create":
        deadline = (timezone.now() + timedelta(days=2)).isoformat()
        body = {"request": stage.interested_request, "deadline": deadline}
        endpoint = Endpoint(**{**endpoint.__dict__, "body": body})
    elif name == "rfq-award":
        body = {"awards": [{"quotation": stage.far_quotation, "quantity": "100"}]}
        endpoint = Endpoint(**{**endpoint.__dict__, "body": body})
    elif name == "quotation-create":
        body = {"match": stage.full_match_b, **terms()}
        endpoint = Endpoint(**{**endpoint.__dict__, "body": body})
    before = (Quotation.objects.count(), Order.objects.count(), QuotationRequest.objects.count())

    call(clients(stage.world)[role], endpoint, stage.context, status)

    if status >= 400:  # a refusal changes nothing
        after = (Quotation.objects.count(), Order.objects.count(), QuotationRequest.objects.count())
        assert after == before
