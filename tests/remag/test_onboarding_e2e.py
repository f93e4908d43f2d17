"""From nothing to a match through the API alone (issue 13's definition of done).

A new SME and a new manufacturer sign up, verify their addresses from the emails,
log in; the SME registers its profile, the manufacturer posts and publishes a request,
an operator verifies the profile (mission staff exist before anyone signs up), the
match run (queued by the API; executed here as a worker would) ranks the SME, the buyer
invites it and it answers. A portal-onboarded SME, likewise from nothing, claims
the profile the portal registered and sees its opportunities.
"""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from suppliers.taxonomy import taxonomy_load
from tests.factories import gstin_for
from tests.matching.conftest import run_pending

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def taxonomy(db: Any) -> None:
    taxonomy_load()


def anonymous() -> APIClient:
    return APIClient()


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def last_mail_to(address: str) -> Any:
    return [m for m in mail.outbox if m.to == [address]][-1]


def sign_up_and_log_in(email: str, organization_name: str, kind: str) -> APIClient:
    password = "neodymium-magnets-2026"
    response = anonymous().post(
        "/api/v1/auth/signup/",
        {
            "email": email,
            "password": password,
            "organization_name": organization_name,
            "organization_kind": kind,
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    link = re.search(
        r"https?://\S+?(/api/v1/auth/verify-email/\?token=\S+)", last_mail_to(email).body
    )
    assert link
    assert anonymous().get(link.group(1)).status_code == 200
    login = anonymous().post(
        "/api/v1/auth/login/", {"email": email, "password": password}, format="json"
    )
    assert login.status_code == 201, login.content
    client = bearer(login.json()["token"])
    me = client.get("/api/v1/me/").json()
    assert me["user"]["email_verified"] is True
    assert [(o["kind"], o["role"]) for o in me["organizations"]] == [(kind, "admin")]
    return client


def supplier_body(udyam: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "legal_name": "Sahyadri Powder Works Private Limited",
        "udyam_number": udyam,
        "gstin": gstin_for("27", "AAPCS1234K"),
        "enterprise_size": "micro",
        "state": "MH",
        "district": "Pune",
        "city": "Chakan",
        "pin_code": "410501",
        "latitude": 18.76,
        "longitude": 73.86,
        "contact_name": "Asha Kulkarni",
        "contact_email": "asha@sahyadri.example.in",
        "capabilities": [
            {
                "capability": "jet-milling",
                "capacity_per_month": "2500",
                "capacity_unit": "kg_per_month",
                "lead_time_days": 21,
            },
            {
                "capability": "hydrogen-decrepitation",
                "capacity_per_month": "3000",
                "capacity_unit": "kg_per_month",
                "lead_time_days": 14,
            },
        ],
        "certificates": [
            {
                "certification": "iso-9001",
                "certificate_number": "QMS-2291",
                "issuing_body": "TUV",
                "valid_from": str(TODAY - timedelta(days=100)),
                "valid_until": str(TODAY + timedelta(days=600)),
            }
        ],
    }
    body.update(overrides)
    return body


REQUEST = {
    "title": "Jet-milled NdFeB powder, 500 kg",
    "description": "Hydrogen decrepitation and jet milling of NdFeB alloy for N48H blocks.",
    "layer": "components",
    "required_capabilities": ["hydrogen-decrepitation", "jet-milling"],
    "required_certifications": ["iso-9001"],
    "quantity": "500",
    "quantity_unit": "kg",
    "delivery_state": "MH",
    "delivery_pin_code": "411001",
    "delivery_latitude": 18.52,
    "delivery_longitude": 73.85,
}


def operator_verifies(supplier_id: str) -> None:
    from tests.factories import MembershipFactory, OrganizationFactory, UserTokenFactory

    staff = MembershipFactory(organization=OrganizationFactory(kind="operator")).user
    verified = bearer(UserTokenFactory(user=staff).raw_key).post(
        f"/api/v1/suppliers/{supplier_id}/verify/"
    )
    assert verified.status_code == 200, verified.content


def publish_and_run(buyer: APIClient) -> str:
    created = buyer.post(
        "/api/v1/requests/",
        {**REQUEST, "needed_by": str(TODAY + timedelta(days=60))},
        format="json",
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    published = buyer.post(f"/api/v1/requests/{request_id}/publish/")
    assert published.status_code == 200, published.content
    run_pending(request_id)  # the worker's part
    runs = buyer.get(f"/api/v1/requests/{request_id}/match-runs/").json()["results"]
    assert [r["status"] for r in runs] == ["succeeded"]
    return request_id


def test_a_new_sme_and_a_new_manufacturer_reach_a_match_through_the_api() -> None:
    sme = sign_up_and_log_in("asha@sahyadri.example.in", "Sahyadri Powder Works", "sme")
    registered = sme.post("/api/v1/suppliers/", supplier_body("UDYAM-MH-26-0100001"), format="json")
    assert registered.status_code == 201, registered.content
    supplier_id = registered.json()["id"]
    operator_verifies(supplier_id)

    buyer = sign_up_and_log_in(
        "procurement@magnetplant.example.in", "Hosur Magnet Plant", "manufacturer"
    )
    request_id = publish_and_run(buyer)

    matches = buyer.get(f"/api/v1/requests/{request_id}/matches/").json()["results"]
    assert [m["supplier"]["id"] for m in matches] == [supplier_id]
    assert matches[0]["supplier"]["contact"] is None  # not before the SME answers
    match = matches[0]
    assert match["score"] > 0
    assert match["reasons"]
    for status in ("shortlisted", "invited"):
        moved = buyer.post(
            f"/api/v1/matches/{match['id']}/transitions/", {"status": status}, format="json"
        )
        assert moved.status_code in (200, 201), moved.content
    answered = sme.post(
        f"/api/v1/matches/{match['id']}/transitions/", {"status": "interested"}, format="json"
    )
    assert answered.status_code in (200, 201), answered.content
    after = buyer.get(f"/api/v1/matches/{match['id']}/").json()
    assert after["status"] == "interested"
    assert after["supplier"]["contact"]["email"] == "asha@sahyadri.example.in"
    opportunities = sme.get(f"/api/v1/suppliers/{supplier_id}/opportunities/").json()["results"]
    assert request_id in str(opportunities)


def test_a_portal_onboarded_sme_claims_its_profile_and_sees_its_opportunities(
    key_client: Any,
) -> None:
    from tests.factories import OrganizationFactory

    portal = key_client(OrganizationFactory(kind="portal", name="Maharashtra MSME Portal"))
    onboarded = portal.post(
        "/api/v1/suppliers/",
        supplier_body("UDYAM-MH-26-0100002", contact_email="owner@sahyadri.example.in"),
        format="json",
    )
    assert onboarded.status_code == 201, onboarded.content
    supplier_id = onboarded.json()["id"]
    operator_verifies(supplier_id)
    buyer = sign_up_and_log_in("buyer@plant.example.in", "Pune Magnet Plant", "manufacturer")
    request_id = publish_and_run(buyer)

    sme = sign_up_and_log_in("founder@sahyadri.example.in", "Sahyadri (signed up)", "sme")
    assert sme.get(f"/api/v1/suppliers/{supplier_id}/opportunities/").status_code in (403, 404)
    started = sme.post("/api/v1/claims/", {"udyam_number": "UDYAM-MH-26-0100002"}, format="json")
    assert started.status_code == 202
    code = re.search(r"code: (\d{6})", last_mail_to("owner@sahyadri.example.in").body)
    assert code
    claimed = sme.post(
        "/api/v1/claims/confirm/",
        {"udyam_number": "UDYAM-MH-26-0100002", "code": code.group(1)},
        format="json",
    )
    assert claimed.status_code == 200, claimed.content

    opportunities = sme.get(f"/api/v1/suppliers/{supplier_id}/opportunities/")
    assert opportunities.status_code == 200
    assert request_id in str(opportunities.json()["results"])
    assert (
        portal.patch(
            f"/api/v1/suppliers/{supplier_id}/", {"trade_name": "x"}, format="json"
        ).status_code
        == 403
    )
