"""/me, organisation reads for members, API-key management for organisation admins."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from remag.accounts.models import OrganizationAPIKey
from tests.conftest import client_with
from tests.factories import APIKeyFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def keys_url(organization: Any) -> str:
    return f"/api/v1/organizations/{organization.id}/api-keys/"


def test_me_lists_the_users_organisations_with_roles(user_client: Any) -> None:
    membership = MembershipFactory(role="admin")
    MembershipFactory(user=membership.user, organization=OrganizationFactory(kind="manufacturer"))

    body = user_client(membership.user).get("/api/v1/me/").json()

    assert body["authenticated_as"] == "user"
    assert body["api_key"] is None
    assert body["is_operator"] is False
    roles = {o["id"]: (o["kind"], o["role"]) for o in body["organizations"]}
    assert roles[str(membership.organization.id)] == ("sme", "admin")
    assert len(roles) == 2


def test_me_requires_authentication(api_client: Any) -> None:
    response = api_client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_member_reads_own_organisation_but_not_anothers(user_client: Any) -> None:
    membership = MembershipFactory()
    other = OrganizationFactory()
    client = user_client(membership.user)

    own = client.get(f"/api/v1/organizations/{membership.organization.id}/")
    foreign = client.get(f"/api/v1/organizations/{other.id}/")
    listed = client.get("/api/v1/organizations/").json()["results"]

    assert own.status_code == 200
    assert own.json()["name"] == membership.organization.name
    assert foreign.status_code == 404
    assert [o["id"] for o in listed] == [str(membership.organization.id)]


def test_operator_reads_every_organisation(user_client: Any, operator: Any) -> None:
    others = OrganizationFactory.create_batch(3)

    response = user_client(operator).get(f"/api/v1/organizations/{others[0].id}/")
    listed = user_client(operator).get("/api/v1/organizations/").json()["results"]

    assert response.status_code == 200
    assert {str(o.id) for o in others} <= {o["id"] for o in listed}


def test_api_key_reads_only_its_organisation(key_client: Any) -> None:
    organization = OrganizationFactory(kind="portal")
    other = OrganizationFactory()
    client = key_client(organization, ("read",))

    assert client.get(f"/api/v1/organizations/{organization.id}/").status_code == 200
    assert client.get(f"/api/v1/organizations/{other.id}/").status_code == 404


def test_admin_creates_a_key_and_sees_it_once(user_client: Any, org_admin: Any) -> None:
    organization = org_admin.memberships.get().organization
    client = user_client(org_admin)

    created = client.post(keys_url(organization), {"name": "portal", "scopes": ["read"]})

    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(body["prefix"] + ".")
    assert body["scopes"] == ["read"]
    stored = OrganizationAPIKey.objects.get(public_id=body["id"])
    assert stored.organization == organization
    assert stored.created_by == org_admin
    # The key works, and is never shown again.
    assert client_with(f"Api-Key {body['key']}").get("/api/v1/me/").status_code == 200
    listed = client.get(keys_url(organization)).json()["results"]
    detail = client.get(f"{keys_url(organization)}{body['id']}/").json()
    assert "key" not in listed[0]
    assert "key" not in detail


def test_admin_revokes_a_key(user_client: Any, org_admin: Any) -> None:
    organization = org_admin.memberships.get().organization
    api_key = APIKeyFactory(organization=organization)
    assert client_with(f"Api-Key {api_key.raw_key}").get("/api/v1/me/").status_code == 200

    response = user_client(org_admin).post(f"{keys_url(organization)}{api_key.public_id}/revoke/")

    assert response.status_code == 200
    assert response.json()["revoked"] is True
    assert client_with(f"Api-Key {api_key.raw_key}").get("/api/v1/me/").status_code == 401


def test_key_with_expiry_is_created_and_expiry_in_past_refused(
    user_client: Any, org_admin: Any
) -> None:
    organization = org_admin.memberships.get().organization
    client = user_client(org_admin)
    future = (timezone.now() + timedelta(days=30)).isoformat()
    past = (timezone.now() - timedelta(days=1)).isoformat()

    ok = client.post(
        keys_url(organization), {"name": "k", "scopes": ["read"], "expires_at": future}
    )
    bad = client.post(keys_url(organization), {"name": "k", "scopes": ["read"], "expires_at": past})

    assert ok.status_code == 201
    assert ok.json()["expires_at"] is not None
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "expires_at"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "k", "scopes": []}, "scopes"),
        ({"name": "k", "scopes": ["admin"]}, "scopes[0]"),
        ({"name": "k"}, "scopes"),
        ({"scopes": ["read"]}, "name"),
        ({"name": "k" * 51, "scopes": ["read"]}, "name"),
        ({"name": "k", "scopes": "read"}, "scopes"),
    ],
)
def test_bad_key_requests_name_the_field(
    user_client: Any, org_admin: Any, payload: dict[str, Any], field: str
) -> None:
    organization = org_admin.memberships.get().organization

    response = user_client(org_admin).post(keys_url(organization), payload)

    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not OrganizationAPIKey.objects.exists()


def test_plain_member_may_not_manage_keys(user_client: Any) -> None:
    membership = MembershipFactory(role="member")
    client = user_client(membership.user)

    listed = client.get(keys_url(membership.organization))
    created = client.post(keys_url(membership.organization), {"name": "k", "scopes": ["read"]})

    assert listed.status_code == 403
    assert created.status_code == 403
    assert not OrganizationAPIKey.objects.exists()


def test_admin_of_another_organisation_sees_404(user_client: Any, org_admin: Any) -> None:
    other = OrganizationFactory()
    api_key = APIKeyFactory(organization=other)
    client = user_client(org_admin)

    assert client.get(keys_url(other)).status_code == 404
    assert client.post(f"{keys_url(other)}{api_key.public_id}/revoke/").status_code == 404
    api_key.refresh_from_db()
    assert api_key.revoked is False


def test_api_key_cannot_mint_keys(key_client: Any) -> None:
    organization = OrganizationFactory(kind="portal")

    response = key_client(organization).post(
        keys_url(organization), {"name": "k", "scopes": ["read"]}
    )

    assert response.status_code == 403
    assert OrganizationAPIKey.objects.filter(name="k").count() == 0


def test_personal_tokens_are_managed_by_their_user(user_client: Any, org_admin: Any) -> None:
    client = user_client(org_admin)

    created = client.post("/api/v1/me/tokens/", {"name": "laptop script"})
    token = created.json()["token"]
    revoked = client.post(f"/api/v1/me/tokens/{created.json()['id']}/revoke/")

    assert created.status_code == 201
    assert revoked.status_code == 200
    assert client_with(f"Bearer {token}").get("/api/v1/me/").status_code == 401
    # The client's own token (from the fixture) and the new one; nobody else's.
    assert len(client.get("/api/v1/me/tokens/").json()["results"]) == 2


def test_another_users_token_is_invisible(user_client: Any, org_admin: Any) -> None:
    other_client = user_client(MembershipFactory().user)
    created = user_client(org_admin).post("/api/v1/me/tokens/", {"name": "mine"}).json()

    assert other_client.get(f"/api/v1/me/tokens/{created['id']}/").status_code == 404
    assert other_client.post(f"/api/v1/me/tokens/{created['id']}/revoke/").status_code == 404
