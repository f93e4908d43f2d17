"""The permission matrix of accounts and onboarding: every endpoint x every role
(tests/matrix.py). ``unverified`` is an admin of the organisation who has not verified
their email address: they read what an admin reads and write nothing but their own
tokens. Onboarding endpoints answer everyone alike."""

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from remag.accounts import services
from remag.accounts.caller import Caller, _compute
from remag.accounts.models import (
    Delegation,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    User,
)
from tests.conftest import client_with, shared_copy, shared_rows
from tests.factories import (
    APIKeyFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    UserTokenFactory,
)
from tests.matrix import Endpoint, assert_covers, call, matrix_cases

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "unverified", "member", "admin", "other_org", "operator")
PASSWORD = "rare-earth-magnets-2026"

EVERYONE = dict.fromkeys(ROLES, 200)
SIGNED_IN = EVERYONE | {"anonymous": 401}


def alike(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def admins(ok: int, *, read: bool = False) -> dict[str, int]:
    """The organisation's admins (operators are not its admins); others see a 404."""
    return {
        "anonymous": 401,
        "unverified": ok if read else 403,
        "member": 403,
        "admin": ok,
        "other_org": 404,
        "operator": 403,
    }


def own_token(ok: int) -> dict[str, int]:
    """The admin's own token: nobody else sees it."""
    return dict.fromkeys(ROLES, 404) | {"anonymous": 401, "admin": ok}


ORG = {"organization_id": "organization"}
KEY = {"organization_id": "organization", "id": "api_key"}
COLLEAGUE = {"organization_id": "organization", "id": "colleague"}
INVITATION = {"organization_id": "organization", "id": "invitation"}
DELEGATION = {"organization_id": "organization", "id": "delegation"}
PORTAL_ID = "0b5e6a56-8a5d-4c4e-9d0b-6f1f3c1d2e01"
# The organisation's people: its members read, admins and operators change.
MEMBERS_READ = SIGNED_IN | {"other_org": 404}


def managers(ok: int, *, read: bool = False) -> dict[str, int]:
    """Admins and operators; the unverified admin only reads."""
    return admins(ok, read=read) | {"operator": ok}


ENDPOINTS = {
    "signup": Endpoint(
        "POST",
        "/api/v1/auth/signup/",
        alike(202),
        body={
            "email": "new@example.in",
            "password": PASSWORD,
            "organization_name": "New Works",
            "organization_kind": "sme",
        },
    ),
    "login": Endpoint(
        "POST",
        "/api/v1/auth/login/",
        alike(201),
        body={"email": "known@example.in", "password": PASSWORD},
    ),
    "verify-link": Endpoint(
        "GET", "/api/v1/auth/verify-email/", alike(400), body={"token": "not-a-token"}
    ),
    "verify-post": Endpoint(
        "POST", "/api/v1/auth/verify-email/", alike(400), body={"token": "not-a-token"}
    ),
    "verify-resend": Endpoint(
        "POST", "/api/v1/auth/verify-email/resend/", alike(202), body={"email": "x@example.in"}
    ),
    "password-reset": Endpoint(
        "POST", "/api/v1/auth/password-reset/", alike(202), body={"email": "known@example.in"}
    ),
    "password-reset-confirm": Endpoint(
        "POST",
        "/api/v1/auth/password-reset/confirm/",
        alike(400),
        body={"token": "not-a-token", "new_password": "neodymium-iron-boron-42"},
    ),
    "password-change": Endpoint(
        "POST",
        "/api/v1/me/password/",
        SIGNED_IN,
        body={"current_password": "a-long-test-password", "new_password": "neodymium-iron-42"},
    ),
    "me": Endpoint("GET", "/api/v1/me/", SIGNED_IN),
    "token-list": Endpoint("GET", "/api/v1/me/tokens/", SIGNED_IN),
    "token-create": Endpoint(
        "POST",
        "/api/v1/me/tokens/",
        dict.fromkeys(ROLES, 201) | {"anonymous": 401},
        body={"name": "script"},
    ),
    "token-retrieve": Endpoint("GET", "/api/v1/me/tokens/{id}/", own_token(200), {"id": "token"}),
    "token-revoke": Endpoint(
        "POST", "/api/v1/me/tokens/{id}/revoke/", own_token(200), {"id": "token"}
    ),
    "organization-list": Endpoint("GET", "/api/v1/organizations/", SIGNED_IN),
    "organization-create": Endpoint(
        "POST",
        "/api/v1/organizations/",
        dict.fromkeys(ROLES, 403) | {"anonymous": 401, "operator": 201},
        body={"name": "State Industry Portal", "kind": "portal"},
    ),
    "organization-retrieve": Endpoint(
        "GET",
        "/api/v1/organizations/{id}/",
        SIGNED_IN | {"other_org": 404},
        {"id": "organization"},
    ),
    "api-key-list": Endpoint(
        "GET", "/api/v1/organizations/{organization_id}/api-keys/", managers(200, read=True), ORG
    ),
    "api-key-create": Endpoint(
        "POST",
        "/api/v1/organizations/{organization_id}/api-keys/",
        managers(201),
        ORG,
        body={"name": "portal", "scopes": ["read"]},
    ),
    "api-key-retrieve": Endpoint(
        "GET",
        "/api/v1/organizations/{organization_id}/api-keys/{id}/",
        managers(200, read=True),
        KEY,
    ),
    "api-key-revoke": Endpoint(
        "POST", "/api/v1/organizations/{organization_id}/api-keys/{id}/revoke/", managers(200), KEY
    ),
    "member-list": Endpoint(
        "GET", "/api/v1/organizations/{organization_id}/members/", MEMBERS_READ, ORG
    ),
    "member-retrieve": Endpoint(
        "GET", "/api/v1/organizations/{organization_id}/members/{id}/", MEMBERS_READ, COLLEAGUE
    ),
    "member-role": Endpoint(
        "PATCH",
        "/api/v1/organizations/{organization_id}/members/{id}/",
        managers(200),
        COLLEAGUE,
        body={"role": "admin"},
    ),
    "member-remove": Endpoint(
        "DELETE", "/api/v1/organizations/{organization_id}/members/{id}/", managers(204), COLLEAGUE
    ),
    "invitation-list": Endpoint(
        "GET", "/api/v1/organizations/{organization_id}/invitations/", managers(200, read=True), ORG
    ),
    "invitation-create": Endpoint(
        "POST",
        "/api/v1/organizations/{organization_id}/invitations/",
        managers(201),
        ORG,
        body={"email": "invitee@example.in", "role": "member"},
    ),
    "invitation-retrieve": Endpoint(
        "GET",
        "/api/v1/organizations/{organization_id}/invitations/{id}/",
        managers(200, read=True),
        INVITATION,
    ),
    "invitation-revoke": Endpoint(
        "POST",
        "/api/v1/organizations/{organization_id}/invitations/{id}/revoke/",
        managers(200),
        INVITATION,
    ),
    "delegation-list": Endpoint(
        "GET", "/api/v1/organizations/{organization_id}/delegations/", MEMBERS_READ, ORG
    ),
    "delegation-create": Endpoint(
        "POST",
        "/api/v1/organizations/{organization_id}/delegations/",
        managers(201),
        ORG,
        body={"grantee": PORTAL_ID},
    ),
    "delegation-retrieve": Endpoint(
        "GET", "/api/v1/organizations/{organization_id}/delegations/{id}/", MEMBERS_READ, DELEGATION
    ),
    "delegation-revoke": Endpoint(
        "POST",
        "/api/v1/organizations/{organization_id}/delegations/{id}/revoke/",
        managers(200),
        DELEGATION,
    ),
    "invitation-accept": Endpoint(
        "POST", "/api/v1/invitations/accept/", alike(400), body={"token": "not-a-token"}
    ),
}


def test_the_matrix_covers_every_accounts_endpoint() -> None:
    assert_covers(
        ENDPOINTS, "/api/v1/auth/", "/api/v1/me", "/api/v1/organizations/", "/api/v1/invitations/"
    )


def caller_for_user(user: Any) -> Caller:
    return _compute(user)


def bearer(user: Any) -> str:
    """A new personal token of ``user``, as an Authorization header."""
    return f"Bearer {UserTokenFactory(user=user).raw_key}"


@pytest.fixture(scope="module")
def shared_stage(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[tuple[dict[str, Any], dict[str, str | None]]]:
    """An SME organisation with an admin (and an unverified one), a member, a colleague,
    an API key, a pending invitation and a delegation; another organisation's admin, an
    operator: built once for the module (tests/conftest.py's shared_rows); each case runs
    in its own savepoint. Returns the path values and each role's credentials."""
    with shared_rows(django_db_blocker):
        with django_db_blocker.unblock():
            stage = build_stage()
        yield stage


def build_stage() -> tuple[dict[str, Any], dict[str, str | None]]:
    UserFactory(email="known@example.in", password=PASSWORD)
    organization = OrganizationFactory(kind="sme")
    admin = MembershipFactory(organization=organization, role="admin").user
    unverified = MembershipFactory(
        organization=organization, role="admin", user=UserFactory(email_verified_at=None)
    ).user
    member = MembershipFactory(organization=organization).user
    other = MembershipFactory(organization=OrganizationFactory(kind="sme"), role="admin").user
    operator = MembershipFactory(organization=OrganizationFactory(kind="operator")).user
    api_key = APIKeyFactory(organization=organization)
    colleague = MembershipFactory(organization=organization)
    invitation = services.invitation_create(
        organization=organization,
        email="pending@example.in",
        role="member",
        caller=caller_for_user(admin),
        invited_by=admin,
        accept_link="https://remag.example.in/api/v1/invitations/accept/",
    )
    OrganizationFactory(kind="portal", id=PORTAL_ID)  # the grantee of delegation-create
    delegation = services.delegation_grant(
        grantor=organization, grantee=OrganizationFactory(kind="portal"), granted_by=admin
    )
    context = {
        "delegation": delegation.id,
        "colleague": colleague.id,
        "invitation": invitation.id,
        "organization": organization.id,
        "api_key": api_key.public_id,
        "token": UserTokenFactory(user=admin).public_id,
    }
    credentials = {
        "anonymous": None,
        "unverified": bearer(unverified),
        "member": bearer(member),
        "admin": bearer(admin),
        "other_org": bearer(other),
        "operator": bearer(operator),
    }
    return context, credentials


@pytest.fixture
def stage(
    request: pytest.FixtureRequest, shared_stage: tuple[dict[str, Any], dict[str, str | None]]
) -> tuple[dict[str, Any], dict[str, str | None]]:
    return shared_copy(request, shared_stage)


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(
    stage: tuple[dict[str, Any], dict[str, str | None]], name: str, role: str, status: int
) -> None:
    context, credentials = stage
    authorization = credentials[role]
    client = APIClient() if authorization is None else client_with(authorization)
    before = (
        User.objects.count(),
        Organization.objects.count(),
        Membership.objects.count(),
        list(OrganizationAPIKey.objects.values("id", "revoked")),
        list(Membership.objects.values("id", "role")),
        list(Invitation.objects.values("id", "revoked_at")),
        list(Delegation.objects.values("id", "revoked_at")),
    )

    call(client, ENDPOINTS[name], context, status)

    if status >= 400:  # a refusal changes nothing
        after = (
            User.objects.count(),
            Organization.objects.count(),
            Membership.objects.count(),
            list(OrganizationAPIKey.objects.values("id", "revoked")),
            list(Membership.objects.values("id", "role")),
            list(Invitation.objects.values("id", "revoked_at")),
            list(Delegation.objects.values("id", "revoked_at")),
        )
        assert after == before
