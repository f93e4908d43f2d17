"""An invitation or a profile claim sent several times at once (a double click, a client's
retries): each takes its turn under the organisation's row lock, the later replacing the
earlier, so every call answers 201 and one stays open, never a 500 from the
one-open-per-address (or per-profile) constraint. Real threads on PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from remag.accounts.models import Invitation, ProfileClaim
from tests.conftest import taxonomy_load_fast
from tests.factories import MembershipFactory, OrganizationFactory
from tests.suppliers.test_claims import UDYAM, payload

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def in_parallel(call: Any) -> list[int]:
    def one(_: int) -> int:
        try:
            return int(call().status_code)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def person(organization: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(organization=organization, role="admin").user)
    return client


def test_one_address_invited_at_once(postgres: None) -> None:
    organization = OrganizationFactory(kind="sme")
    client = person(organization)
    statuses = in_parallel(
        lambda: client.post(
            f"/api/v1/organizations/{organization.id}/invitations/",
            {"email": "race@example.in", "role": "member"},
            format="json",
        )
    )
    assert statuses == [201] * THREADS
    invitations = Invitation.objects.filter(organization=organization)
    assert invitations.count() == THREADS
    assert invitations.filter(revoked_at__isnull=True).count() == 1


def test_one_profile_claimed_at_once(postgres: None, key_client: Any) -> None:
    taxonomy_load_fast()
    portal = OrganizationFactory(kind="portal")
    assert (
        key_client(portal).post("/api/v1/suppliers/", payload(), format="json").status_code == 201
    )
    sme = OrganizationFactory(kind="sme")
    client = person(sme)
    statuses = in_parallel(
        lambda: client.post(
            "/api/v1/claims/",
            {"udyam_number": UDYAM, "method": "operator", "evidence": "the email is old"},
            format="json",
        )
    )
    assert set(statuses) <= {201, 202}, statuses
    assert len(set(statuses)) == 1
    claims = ProfileClaim.objects.filter(organization=sme)
    assert claims.count() == THREADS
    assert claims.exclude(status="superseded").count() == 1
