"""An organisation's people: invitations by email, roles, removal, the last-admin rule."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from remag.accounts.models import Invitation, Membership, User
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.remag.test_signup import PROBLEM, login

pytestmark = pytest.mark.django_db

PASSWORD = "rare-earth-magnets-2026"


@pytest.fixture
def organization() -> Any:
    return OrganizationFactory(kind="sme", name="Rao Precision Works")


@pytest.fixture
def admin(organization: Any) -> Any:
    return MembershipFactory(organization=organization, role="admin").user


def as_person(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def invite(client: APIClient, organization: Any, email: str, role: str = "member") -> Any:
    return client.post(
        f"/api/v1/organizations/{organization.id}/invitations/",
        {"email": email, "role": role},
        format="json",
    )


def token_in(message: Any) -> str:
    found = re.search(r"Your invitation token:\n\n(\S+)\n", message.body)
    assert found, message.body
    return found.group(1)


def accept(client: APIClient, token: str, **extra: Any) -> Any:
    return client.post("/api/v1/invitations/accept/", {"token": token, **extra}, format="json")


def members_url(organization: Any, membership: Any = None) -> str:
    base = f"/api/v1/organizations/{organization.id}/members/"
    return f"{base}{membership.id}/" if membership is not None else base


# ------------------------------------------------------------------ invitations


def test_an_admin_invites_and_a_new_person_joins_with_a_new_account(
    organization: Any, admin: Any
) -> None:
    response = invite(as_person(admin), organization, "Ravi@Rao.example.in", "admin")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["email"], body["role"], body["status"]) == (
        "ravi@rao.example.in",
        "admin",
        "pending",
    )
    assert "token" not in body
    (message,) = mail.outbox
    assert message.to == ["ravi@rao.example.in"]
    assert "Rao Precision Works" in message.subject
    token = token_in(message)
    assert Invitation.objects.get().token_hash != token

    joined = accept(APIClient(), token, password=PASSWORD, first_name="Ravi")

    assert joined.status_code == 201, joined.content
    assert joined.json()["organization"]["id"] == str(organization.id)
    assert joined.json()["role"] == "admin"
    ravi = User.objects.get(email="ravi@rao.example.in")
    assert ravi.email_verified  # the token came to that address
    assert Membership.objects.get(user=ravi).role == "admin"
    assert login(APIClient(), "ravi@rao.example.in", PASSWORD).status_code == 201
    listed = as_person(admin).get(f"/api/v1/organizations/{organization.id}/invitations/")
    assert listed.json()["results"][0]["status"] == "accepted"


def test_an_existing_account_accepts_with_its_own_credentials(
    organization: Any, admin: Any
) -> None:
    person = UserFactory(email="meera@elsewhere.example.in", email_verified_at=None)
    invite(as_person(admin), organization, "meera@elsewhere.example.in")

    joined = accept(as_person(person), token_in(mail.outbox[0]))

    assert joined.status_code == 201, joined.content
    assert Membership.objects.get(user=person, organization=organization).role == "member"
    person.refresh_from_db()
    assert person.email_verified


def test_an_unverified_account_of_another_address_cannot_accept(
    organization: Any, admin: Any
) -> None:
    other = UserFactory(email="other@example.in", email_verified_at=None)
    invite(as_person(admin), organization, "invited@example.in")

    response = accept(as_person(other), token_in(mail.outbox[0]))

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert not Membership.objects.filter(user=other).exists()


def test_a_new_account_for_an_address_that_has_one_is_refused(
    organization: Any, admin: Any
) -> None:
    UserFactory(email="taken@example.in")
    invite(as_person(admin), organization, "taken@example.in")

    response = accept(APIClient(), token_in(mail.outbox[0]), password=PASSWORD)

    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "account_exists"


def test_a_new_account_needs_a_valid_password(organization: Any, admin: Any) -> None:
    invite(as_person(admin), organization, "new@example.in")
    token = token_in(mail.outbox[0])

    missing = accept(APIClient(), token)
    weak = accept(APIClient(), token, password="12345678")

    assert [e["field"] for e in missing.json()["errors"]] == ["password"]
    assert {e["field"] for e in weak.json()["errors"]} == {"password"}
    assert accept(APIClient(), token, password=PASSWORD).status_code == 201


def test_an_invitation_works_once(organization: Any, admin: Any) -> None:
    invite(as_person(admin), organization, "new@example.in")
    token = token_in(mail.outbox[0])
    accept(APIClient(), token, password=PASSWORD)

    again = accept(as_person(UserFactory()), token)

    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "token_used"


def test_an_expired_invitation_is_refused(organization: Any, admin: Any) -> None:
    invite(as_person(admin), organization, "new@example.in")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = accept(APIClient(), token_in(mail.outbox[0]), password=PASSWORD)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "token_expired"
    assert not User.objects.filter(email="new@example.in").exists()


def test_a_revoked_or_replaced_invitation_is_refused(organization: Any, admin: Any) -> None:
    client = as_person(admin)
    first = invite(client, organization, "new@example.in").json()
    invite(client, organization, "new@example.in", "admin")
    replaced, current = (token_in(m) for m in mail.outbox)

    assert accept(APIClient(), replaced, password=PASSWORD).json()["errors"][0]["code"] == (
        "token_invalid"
    )
    revoked = client.post(
        f"/api/v1/organizations/{organization.id}/invitations/{first['id']}/revoke/"
    )
    assert revoked.json()["status"] == "revoked"
    second = Invitation.objects.get(revoked_at__isnull=True)
    client.post(f"/api/v1/organizations/{organization.id}/invitations/{second.id}/revoke/")
    assert accept(APIClient(), current, password=PASSWORD).status_code == 400


def test_members_cannot_be_invited_twice_or_join_twice(organization: Any, admin: Any) -> None:
    member = MembershipFactory(organization=organization).user

    response = invite(as_person(admin), organization, member.email.upper())

    assert response.status_code == 409
    assert response.json()["code"] == "already_member"
    invite(as_person(admin), organization, "someone@example.in")
    assert accept(as_person(member), token_in(mail.outbox[0])).json()["code"] == "already_member"


def test_only_admins_and_operators_invite(organization: Any, admin: Any, operator: Any) -> None:
    member = MembershipFactory(organization=organization).user
    outsider = MembershipFactory(role="admin").user

    assert invite(as_person(member), organization, "x@example.in").status_code == 403
    assert invite(as_person(outsider), organization, "x@example.in").status_code == 404
    assert invite(as_person(operator), organization, "x@example.in").status_code == 201


def test_an_invitation_for_an_unknown_role_is_refused(organization: Any, admin: Any) -> None:
    response = invite(as_person(admin), organization, "x@example.in", "owner")

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["role"]


# ------------------------------------------------------------------ roles and removal


def test_an_admin_changes_roles_and_removes_members(organization: Any, admin: Any) -> None:
    membership = MembershipFactory(organization=organization)
    client = as_person(admin)

    promoted = client.patch(members_url(organization, membership), {"role": "admin"})
    assert promoted.status_code == 200, promoted.content
    assert promoted.json()["role"] == "admin"
    assert client.delete(members_url(organization, membership)).status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_members_list_their_organisation_but_change_nothing(organization: Any, admin: Any) -> None:
    membership = MembershipFactory(organization=organization)
    client = as_person(membership.user)
    admin_membership = Membership.objects.get(user=admin)

    listed = client.get(members_url(organization))
    assert {m["user"]["email"] for m in listed.json()["results"]} == {
        admin.email,
        membership.user.email,
    }
    assert (
        client.patch(members_url(organization, admin_membership), {"role": "member"}).status_code
        == 403
    )
    assert client.delete(members_url(organization, admin_membership)).status_code == 403


def test_a_member_may_leave(organization: Any, admin: Any) -> None:
    membership = MembershipFactory(organization=organization)

    response = as_person(membership.user).delete(members_url(organization, membership))

    assert response.status_code == 204


def test_the_last_admin_cannot_step_down_leave_or_be_removed(
    organization: Any, admin: Any, operator: Any
) -> None:
    only_admin = Membership.objects.get(user=admin)
    url = members_url(organization, only_admin)

    refusals = [
        as_person(admin).patch(url, {"role": "member"}),
        as_person(admin).delete(url),
        as_person(operator).delete(url),
    ]

    for response in refusals:
        assert response.status_code == 409
        assert response["Content-Type"] == PROBLEM
        assert response.json()["code"] == "last_admin"
        assert "at least one administrator" in response.json()["detail"]
    only_admin.refresh_from_db()
    assert only_admin.role == "admin"


def test_with_a_second_admin_the_first_may_leave(organization: Any, admin: Any) -> None:
    MembershipFactory(organization=organization, role="admin")
    own = Membership.objects.get(user=admin)

    assert as_person(admin).delete(members_url(organization, own)).status_code == 204


def test_other_organisations_see_nothing(organization: Any, admin: Any) -> None:
    outsider = as_person(MembershipFactory(role="admin").user)
    own = Membership.objects.get(user=admin)

    assert outsider.get(members_url(organization)).status_code == 404
    assert outsider.delete(members_url(organization, own)).status_code == 404
    assert outsider.get(f"/api/v1/organizations/{organization.id}/invitations/").status_code == 404


# ------------------------------------------------------------------ operators


def test_an_operator_creates_a_portal_issues_its_first_key_and_invites_its_admin(
    operator: Any,
) -> None:
    client = as_person(operator)

    created = client.post(
        "/api/v1/organizations/", {"name": "Gujarat MSME Portal", "kind": "portal"}
    )
    assert created.status_code == 201, created.content
    portal = created.json()
    key = client.post(
        f"/api/v1/organizations/{portal['id']}/api-keys/",
        {"name": "first key", "scopes": ["read", "write"]},
    )
    assert key.status_code == 201, key.content
    portal_client = APIClient()
    portal_client.credentials(HTTP_X_API_KEY=key.json()["key"])
    me = portal_client.get("/api/v1/me/").json()
    assert me["organizations"][0]["kind"] == "portal"

    invited = client.post(
        f"/api/v1/organizations/{portal['id']}/invitations/",
        {"email": "it@portal.example.in", "role": "admin"},
    )
    assert invited.status_code == 201
    joined = accept(APIClient(), token_in(mail.outbox[-1]), password=PASSWORD)
    assert joined.json()["organization"]["kind"] == "portal"
    assert joined.json()["role"] == "admin"


def test_only_operators_create_organisations(organization: Any, admin: Any) -> None:
    response = as_person(admin).post("/api/v1/organizations/", {"name": "X", "kind": "portal"})

    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
