"""The permission matrix of quotations and orders: every endpoint x every role."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from matching.procurement.models import Order, Quotation, QuotationRequest
from tests.matching.conftest import World, client_for
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


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(
    world: World, published: Any, settings: Any, tmp_path: Any, name: str, role: str, status: int
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    # A: "full" quoted, with a file, and "far" too; "full" was awarded: an order.
    a = published()
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
    b = published()
    matches_b = make_interested(world, b, "full", "far")
    rfq_b = ask_quotes(world, b)
    far_quotation = quote(world, "far", matches_b["far"]).json()
    # C: "full" interested, nobody asked to quote yet.
    c = published()
    make_interested(world, c, "full")

    context = {
        "rfq": rfq_b["id"],
        "quotation": quotation_a["id"],
        "attachment": attachment.json()["id"],
        "order": Order.objects.get().id,
    }
    endpoint = ENDPOINTS[name]
    if name == "rfq-create":
        deadline = (timezone.now() + timedelta(days=2)).isoformat()
        endpoint = Endpoint(**{**endpoint.__dict__, "body": {"request": c, "deadline": deadline}})
    elif name == "rfq-award":
        body = {"awards": [{"quotation": far_quotation["id"], "quantity": "100"}]}
        endpoint = Endpoint(**{**endpoint.__dict__, "body": body})
    elif name == "quotation-create":
        body = {"match": str(matches_b["full"].id), **terms()}
        endpoint = Endpoint(**{**endpoint.__dict__, "body": body})
    before = (Quotation.objects.count(), Order.objects.count(), QuotationRequest.objects.count())

    call(clients(world)[role], endpoint, context, status)

    if status >= 400:  # a refusal changes nothing
        after = (Quotation.objects.count(), Order.objects.count(), QuotationRequest.objects.count())
        assert after == before
