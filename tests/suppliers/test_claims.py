"""Claiming a profile a portal onboarded: a one-time code to the contact email (with
lockout), or an operator's approval; delegation to the portal; the supplier.claimed
webhook event; the double-claim refusal."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from remag.accounts.models import Delegation, ProfileClaim
from remag.webhooks import services as webhook_services
from remag.webhooks.models import Delivery, Event
from suppliers.models import Supplier
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory
from tests.suppliers.test_api import payload

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
UDYAM = "UDYAM-MH-26-0012345"
CONTACT = "asha@deccan.example.in"


@pytest.fixture
def portal() -> Any:
    return OrganizationFactory(kind="portal", name="Maharashtra MSME Portal")


@pytest.fixture
def portal_client(portal: Any, key_client: Any) -> APIClient:
    return key_client(portal)


@pytest.fixture
def onboarded(portal_client: APIClient) -> Supplier:
    response = portal_client.post("/api/v1/suppliers/", payload(), format="json")
    assert response.status_code == 201, response.content
    return Supplier.objects.get(id=response.json()["id"])


@pytest.fixture
def sme() -> Any:
    return OrganizationFactory(kind="sme", name="Deccan Magnetics (signed up)")


@pytest.fixture
def sme_admin(sme: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(organization=sme, role="admin").user)
    return client


def person_of(organization: Any, role: str = "admin") -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(organization=organization, role=role).user)
    return client


def start(client: APIClient, udyam: str = UDYAM, **extra: Any) -> Any:
    return client.post("/api/v1/claims/", {"udyam_number": udyam, **extra}, format="json")


def confirm(client: APIClient, code: str, udyam: str = UDYAM) -> Any:
    return client.post(
        "/api/v1/claims/confirm/", {"udyam_number": udyam, "code": code}, format="json"
    )


def code_in(message: Any) -> str:
    found = re.search(r"give them this code: (\d{6})", message.body)
    assert found, message.body
    return found.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# ------------------------------------------------------------------ the code route


def test_an_sme_claims_with_the_code_and_the_portal_loses_write_access(
    onboarded: Supplier, sme: Any, sme_admin: APIClient, portal: Any, portal_client: APIClient
) -> None:
    placeholder = onboarded.owner
    webhook_services.endpoint_create(
        organization=portal, url="https://portal.example.in/hooks", event_types=["supplier.claimed"]
    )
    mail.outbox.clear()

    started = start(sme_admin)

    assert started.status_code == 202, started.content
    (message,) = mail.outbox
    assert message.to == [CONTACT]
    assert sme.name in message.body
    claim = ProfileClaim.objects.get()
    assert code_in(message) not in claim.code_hash

    claimed = confirm(sme_admin, code_in(message))

    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["supplier"] == str(onboarded.id)
    assert claimed.json()["claim"]["status"] == "claimed"
    onboarded.refresh_from_db()
    placeholder.refresh_from_db()
    assert onboarded.owner == sme
    assert onboarded.claimed_at is not None
    assert not placeholder.is_active
    url = f"/api/v1/suppliers/{onboarded.id}/"
    assert portal_client.patch(url, {"trade_name": "Portal edit"}, format="json").status_code == 403
    assert sme_admin.patch(url, {"trade_name": "Our edit"}, format="json").status_code == 200
    assert "contact_email" not in portal_client.get(url).json()
    event = Event.objects.get(type="supplier.claimed")
    assert event.payload["supplier"]["id"] == str(onboarded.id)
    assert event.payload["claimed_by"] == {"id": str(sme.id), "name": sme.name}
    assert (event.payload["method"], event.payload["portal_access"]) == ("code", "ended")
    assert Delivery.objects.filter(event=event, endpoint__organization=portal).exists()
    events = portal_client.get("/api/v1/events/", {"type": "supplier.claimed"}).json()
    assert [e["id"] for e in events["results"]] == [str(event.id)]


def test_starting_answers_the_same_whatever_the_profile(
    onboarded: Supplier, sme_admin: APIClient
) -> None:
    SupplierFactory(
        udyam_number="UDYAM-KA-03-0000001",
        contact_email="",
        owner=OrganizationFactory(),
        onboarded_by=OrganizationFactory(kind="portal"),
        claimed_at=None,
    )
    mail.outbox.clear()

    answers = [
        start(sme_admin, udyam) for udyam in (UDYAM, "UDYAM-KA-03-0000001", "UDYAM-TN-01-9999999")
    ]

    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    assert [m.to for m in mail.outbox] == [[CONTACT]]
    assert CONTACT not in answers[0].content.decode()


def test_wrong_codes_lock_the_claim(
    onboarded: Supplier, sme_admin: APIClient, settings: Any
) -> None:
    settings.REMAG_CLAIM_CODE_MAX_ATTEMPTS = 3
    start(sme_admin)
    code = code_in(mail.outbox[-1])

    tries = [confirm(sme_admin, wrong(code)) for _ in range(3)]
    locked = confirm(sme_admin, code)

    assert [t.json()["errors"][0]["code"] for t in tries] == ["code_wrong"] * 3
    assert tries[0]["Content-Type"] == PROBLEM
    assert locked.status_code == 400
    assert locked.json()["errors"][0]["code"] == "code_locked"
    assert ProfileClaim.objects.get().status == "locked"
    onboarded.refresh_from_db()
    assert onboarded.claimed_at is None
    # A new code starts afresh.
    start(sme_admin)
    assert confirm(sme_admin, code_in(mail.outbox[-1])).status_code == 200


def test_an_expired_code_is_refused(onboarded: Supplier, sme_admin: APIClient) -> None:
    start(sme_admin)
    ProfileClaim.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = confirm(sme_admin, code_in(mail.outbox[-1]))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "code_expired"


def test_a_code_works_once(onboarded: Supplier, sme_admin: APIClient) -> None:
    start(sme_admin)
    code = code_in(mail.outbox[-1])
    confirm(sme_admin, code)

    again = confirm(sme_admin, code)

    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "code_used"


def test_a_code_sent_for_one_sme_does_not_work_for_another(
    onboarded: Supplier, sme_admin: APIClient
) -> None:
    start(sme_admin)
    other = person_of(OrganizationFactory(kind="sme"))

    response = confirm(other, code_in(mail.outbox[-1]))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "code_wrong"


def test_a_profile_that_has_its_sme_cannot_be_claimed_again(
    onboarded: Supplier, sme_admin: APIClient
) -> None:
    rival = person_of(OrganizationFactory(kind="sme"))
    start(rival)
    rival_code = code_in(mail.outbox[-1])
    start(sme_admin)
    confirm(sme_admin, code_in(mail.outbox[-1]))

    late_start = start(rival)
    late_confirm = confirm(rival, rival_code)

    for response in (late_start, late_confirm):
        assert response.status_code == 409
        assert response["Content-Type"] == PROBLEM
        body = response.json()
        assert body["code"] == "supplier_already_claimed"
        assert body["existing"]["id"] == str(onboarded.id)
        assert "already belongs to an SME" in body["detail"]
    onboarded.refresh_from_db()
    assert onboarded.owner.memberships.count() == 1


def test_a_profile_its_sme_registered_itself_cannot_be_claimed(sme_admin: APIClient) -> None:
    SupplierFactory(udyam_number="UDYAM-GJ-01-0000042")

    response = start(sme_admin, "UDYAM-GJ-01-0000042")

    assert response.status_code == 409
    assert response.json()["code"] == "supplier_already_claimed"


def test_only_an_sme_admin_claims(onboarded: Supplier, sme: Any, key_client: Any) -> None:
    member = person_of(sme, role="member")
    buyer = person_of(OrganizationFactory(kind="manufacturer"))

    assert start(member).status_code == 403
    assert start(key_client(sme)).status_code == 403
    assert start(buyer).status_code == 400  # not an SME organisation: names `organization`
    assert start(APIClient()).status_code == 401


def test_code_attempts_are_throttled_per_account(
    onboarded: Supplier, sme_admin: APIClient, settings: Any
) -> None:
    settings.REMAG_THROTTLE_RATES = {**settings.REMAG_THROTTLE_RATES, "claim": "3/hour"}
    start(sme_admin)

    statuses = [confirm(sme_admin, "000000").status_code for _ in range(3)]

    assert statuses == [400, 400, 429]


# ------------------------------------------------------------------ the operator route


def test_an_operator_approves_a_claim_when_the_email_is_wrong(
    onboarded: Supplier, sme: Any, sme_admin: APIClient, operator: Any
) -> None:
    mail.outbox.clear()
    started = start(sme_admin, method="operator", evidence="The portal typed our old address.")
    assert started.status_code == 202
    assert mail.outbox == []
    (mine,) = sme_admin.get("/api/v1/claims/").json()["results"]
    assert mine["status"] == "awaiting_operator"
    staff = APIClient()
    staff.force_authenticate(operator)

    approved = staff.post(f"/api/v1/claims/{mine['id']}/approve/", {"note": "Checked by phone"})

    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "claimed"
    onboarded.refresh_from_db()
    assert onboarded.owner == sme
    assert Event.objects.get(type="supplier.claimed").payload["method"] == "operator"
    again = staff.post(f"/api/v1/claims/{mine['id']}/reject/", {})
    assert again.status_code == 409
    assert again.json()["code"] == "claim_not_awaiting_operator"


def test_an_operator_rejects_a_claim(
    onboarded: Supplier, sme_admin: APIClient, operator: Any
) -> None:
    start(sme_admin, method="operator", evidence="Please check.")
    claim = ProfileClaim.objects.get()
    staff = APIClient()
    staff.force_authenticate(operator)

    assert sme_admin.post(f"/api/v1/claims/{claim.id}/approve/", {}).status_code == 403
    rejected = staff.post(f"/api/v1/claims/{claim.id}/reject/", {"note": "Not the owner"})

    assert rejected.json()["status"] == "rejected"
    onboarded.refresh_from_db()
    assert onboarded.claimed_at is None


def test_the_operator_route_needs_evidence(onboarded: Supplier, sme_admin: APIClient) -> None:
    response = start(sme_admin, method="operator")

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["evidence"]


# ------------------------------------------------------------------ delegation


def test_the_sme_may_delegate_to_the_portal_and_revoke_it(
    onboarded: Supplier, sme: Any, sme_admin: APIClient, portal: Any, portal_client: APIClient
) -> None:
    start(sme_admin, delegate_to_portal=True)
    confirm(sme_admin, code_in(mail.outbox[-1]))
    url = f"/api/v1/suppliers/{onboarded.id}/"

    assert portal_client.patch(url, {"trade_name": "Kept fresh"}, format="json").status_code == 200
    assert "contact_email" in portal_client.get(url).json()
    assert Event.objects.get(type="supplier.claimed").payload["portal_access"] == "delegated"
    listed = sme_admin.get(f"/api/v1/organizations/{sme.id}/delegations/").json()["results"]
    assert [(d["grantee"], d["active"]) for d in listed] == [(str(portal.id), True)]

    revoked = sme_admin.post(
        f"/api/v1/organizations/{sme.id}/delegations/{listed[0]['id']}/revoke/"
    )

    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert portal_client.patch(url, {"trade_name": "Again"}, format="json").status_code == 403


def test_a_delegation_is_granted_later_through_the_api(
    onboarded: Supplier, sme: Any, sme_admin: APIClient, portal: Any, portal_client: APIClient
) -> None:
    start(sme_admin)
    confirm(sme_admin, code_in(mail.outbox[-1]))
    url = f"/api/v1/suppliers/{onboarded.id}/"
    assert portal_client.patch(url, {"trade_name": "x"}, format="json").status_code == 403

    granted = sme_admin.post(
        f"/api/v1/organizations/{sme.id}/delegations/", {"grantee": str(portal.id)}, format="json"
    )

    assert granted.status_code == 201, granted.content
    assert portal_client.patch(url, {"trade_name": "y"}, format="json").status_code == 200
    not_a_portal = sme_admin.post(
        f"/api/v1/organizations/{sme.id}/delegations/",
        {"grantee": str(OrganizationFactory(kind="manufacturer").id)},
        format="json",
    )
    assert not_a_portal.status_code == 400
    assert Delegation.objects.filter(revoked_at__isnull=True).count() == 1


# ------------------------------------------------------------------ the admin


def test_operators_decide_claims_in_the_admin(
    onboarded: Supplier, sme: Any, sme_admin: APIClient
) -> None:
    from django.test import Client

    from tests.factories import UserFactory

    start(sme_admin, method="operator", evidence="Old address on file.")
    claim = ProfileClaim.objects.get()
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert staff.get("/admin/accounts/profileclaim/").status_code == 200
    assert staff.get(f"/admin/accounts/profileclaim/{claim.id}/change/").status_code == 200
    assert staff.get("/admin/accounts/invitation/").status_code == 200
    response = staff.post(
        "/admin/accounts/profileclaim/",
        {"action": "approve", "_selected_action": [str(claim.id)]},
    )

    assert response.status_code == 302
    onboarded.refresh_from_db()
    assert onboarded.owner == sme
