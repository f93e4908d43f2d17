"""The permission matrix of claims (tests/matrix.py): SME admins start and confirm
claims for their organisation, members and the organisation read them, operators read
all and decide; an unverified admin reads only."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from remag.accounts.models import ProfileClaim
from suppliers import claims
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory, UserFactory
from tests.matrix import Endpoint, assert_covers, call, matrix_cases

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "unverified", "member", "admin", "other_org", "operator")
UNKNOWN = "UDYAM-TN-01-9999999"
CLAIM = {"id": "claim"}

SIGNED_IN = dict.fromkeys(ROLES, 200) | {"anonymous": 401}
OWN = SIGNED_IN | {"other_org": 404}
OPERATORS = dict.fromkeys(ROLES, 403) | {"anonymous": 401, "operator": 200}


def claimants(ok: int) -> dict[str, int]:
    """An SME's admins claim for it; operators act for no SME (400 naming organization)."""
    return {
        "anonymous": 401,
        "unverified": 403,
        "member": 403,
        "admin": ok,
        "other_org": ok,
        "operator": 400,
    }


ENDPOINTS = {
    "claim-list": Endpoint("GET", "/api/v1/claims/", SIGNED_IN),
    "claim-start": Endpoint(
        "POST", "/api/v1/claims/", claimants(202), body={"udyam_number": UNKNOWN}
    ),
    "claim-confirm": Endpoint(
        "POST",
        "/api/v1/claims/confirm/",
        claimants(400),
        body={"udyam_number": UNKNOWN, "code": "000000"},
    ),
    "claim-retrieve": Endpoint("GET", "/api/v1/claims/{id}/", OWN, CLAIM),
    "claim-approve": Endpoint("POST", "/api/v1/claims/{id}/approve/", OPERATORS, CLAIM, body={}),
    "claim-reject": Endpoint("POST", "/api/v1/claims/{id}/reject/", OPERATORS, CLAIM, body={}),
}


def test_the_matrix_covers_every_claims_endpoint() -> None:
    assert_covers(ENDPOINTS, "/api/v1/claims/")


def as_person(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(name: str, role: str, status: int) -> None:
    sme = OrganizationFactory(kind="sme")
    admin = MembershipFactory(organization=sme, role="admin").user
    profile = SupplierFactory(
        owner=OrganizationFactory(),
        onboarded_by=OrganizationFactory(kind="portal"),
        claimed_at=None,
    )
    claim = claims.claim_start(
        organization=sme,
        udyam_number=profile.udyam_number,
        method="operator",
        requested_by=admin,
        evidence="The contact email is an old one.",
    )
    assert claim is not None
    clients = {
        "anonymous": APIClient(),
        "unverified": as_person(
            MembershipFactory(
                organization=sme, role="admin", user=UserFactory(email_verified_at=None)
            ).user
        ),
        "member": as_person(MembershipFactory(organization=sme).user),
        "admin": as_person(admin),
        "other_org": as_person(
            MembershipFactory(organization=OrganizationFactory(kind="sme"), role="admin").user
        ),
        "operator": as_person(
            MembershipFactory(organization=OrganizationFactory(kind="operator")).user
        ),
    }
    before = list(ProfileClaim.objects.values("id", "status"))

    call(clients[role], ENDPOINTS[name], {"claim": claim.id}, status)

    if status >= 400:
        assert list(ProfileClaim.objects.values("id", "status")) == before
        profile.refresh_from_db()
        assert profile.claimed_at is None
