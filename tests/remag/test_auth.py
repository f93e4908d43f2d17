"""Personal tokens and organisation API keys: hashed at rest, revocable, expiring, scoped."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from remag.accounts.authentication import (
    OrganizationAPIKeyAuthentication,
    UserTokenAuthentication,
)
from remag.accounts.caller import _compute as caller_compute
from remag.accounts.caller import caller_for
from remag.accounts.models import Delegation, OrganizationAPIKey, User, UserToken
from tests.conftest import client_with
from tests.factories import (
    APIKeyFactory,
    MembershipFactory,
    OrganizationFactory,
    UserTokenFactory,
)

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def _stored_values(model: type, pk: object) -> list[str]:
    return [str(v) for v in model.objects.filter(pk=pk).values().get().values()]


def test_api_key_is_stored_only_as_a_hash() -> None:
    api_key = APIKeyFactory()
    prefix, _, secret = api_key.raw_key.partition(".")

    stored = _stored_values(OrganizationAPIKey, api_key.pk)
    assert all(secret not in value for value in stored)
    assert api_key.hashed_key.startswith("sha512$$")
    assert api_key.prefix == prefix


def test_personal_token_is_stored_only_as_a_hash() -> None:
    token = UserTokenFactory()
    _, _, secret = token.raw_key.partition(".")

    assert all(secret not in value for value in _stored_values(UserToken, token.pk))


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_valid_api_key_authenticates_as_its_organisation(header: str) -> None:
    api_key = APIKeyFactory(scopes=["read"])
    if header == "Authorization":
        client = client_with(f"Api-Key {api_key.raw_key}")
    else:
        client = client_with(HTTP_X_API_KEY=api_key.raw_key)

    response = client.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["authenticated_as"] == "api_key"
    assert body["organizations"][0]["id"] == str(api_key.organization.id)
    assert body["api_key"]["scopes"] == ["read"]


def test_revoked_api_key_gets_401() -> None:
    api_key = APIKeyFactory()
    api_key.revoked = True
    api_key.save()

    response = client_with(f"Api-Key {api_key.raw_key}").get(ME)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert "revoked" in response.json()["detail"]


def test_expired_api_key_gets_401() -> None:
    api_key = APIKeyFactory()
    OrganizationAPIKey.objects.filter(pk=api_key.pk).update(
        expiry_date=timezone.now() - timedelta(seconds=1)
    )

    response = client_with(f"Api-Key {api_key.raw_key}").get(ME)

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_api_key_with_wrong_secret_gets_401() -> None:
    api_key = APIKeyFactory()
    forged = f"{api_key.prefix}.{'x' * 32}"

    assert client_with(f"Api-Key {forged}").get(ME).status_code == 401


@pytest.mark.parametrize("raw", ["no-dot-here", ".", "abc.", "\u00e9\u00e9.x"])
def test_malformed_api_key_gets_401_not_500(raw: str) -> None:
    assert client_with(HTTP_X_API_KEY=raw).get(ME).status_code == 401


def test_key_of_deactivated_organisation_gets_401() -> None:
    api_key = APIKeyFactory()
    api_key.organization.is_active = False
    api_key.organization.save()

    assert client_with(f"Api-Key {api_key.raw_key}").get(ME).status_code == 401


def test_read_scoped_key_is_refused_on_a_write() -> None:
    api_key = APIKeyFactory(scopes=["read"])
    client = client_with(f"Api-Key {api_key.raw_key}")

    response = client.post(ME, {}, format="json")

    assert response.status_code == 403
    assert response.json()["type"].endswith("/permission-denied")
    assert "write" in response.json()["detail"]


def test_write_scoped_key_may_write_and_read() -> None:
    api_key = APIKeyFactory(scopes=["write"])
    client = client_with(f"Api-Key {api_key.raw_key}")

    assert client.get(ME).status_code == 200
    # /me has no POST: a write key gets past authentication and meets 405, not 403.
    assert client.post(ME, {}, format="json").status_code == 405


def test_personal_token_authenticates_as_the_user() -> None:
    token = UserTokenFactory()

    response = client_with(f"Bearer {token.raw_key}").get(ME)

    assert response.status_code == 200
    assert response.json()["user"]["username"] == token.user.username


def test_token_keyword_is_accepted_too() -> None:
    token = UserTokenFactory()

    assert client_with(f"Token {token.raw_key}").get(ME).status_code == 200


def test_revoked_or_expired_token_gets_401() -> None:
    revoked = UserTokenFactory()
    revoked.revoked = True
    revoked.save()
    expired = UserTokenFactory()
    UserToken.objects.filter(pk=expired.pk).update(expiry_date=timezone.now() - timedelta(days=1))

    assert client_with(f"Bearer {revoked.raw_key}").get(ME).status_code == 401
    assert client_with(f"Bearer {expired.raw_key}").get(ME).status_code == 401


def test_token_of_inactive_user_gets_401() -> None:
    token = UserTokenFactory()
    token.user.is_active = False
    token.user.save()

    assert client_with(f"Bearer {token.raw_key}").get(ME).status_code == 401


def test_session_authentication_works_for_the_browsable_api(org_admin: object) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.login(username=org_admin.username, password="a-long-test-password")

    assert client.get(ME).status_code == 200


def test_session_write_without_csrf_token_is_refused(org_admin: object) -> None:
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.login(username=org_admin.username, password="a-long-test-password")
    organization = org_admin.memberships.get().organization

    response = client.post(
        f"/api/v1/organizations/{organization.id}/api-keys/",
        {"name": "x", "scopes": ["read"]},
        format="json",
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not OrganizationAPIKey.objects.exists()


def test_last_used_is_recorded() -> None:
    api_key = APIKeyFactory(organization=OrganizationFactory(kind="portal"))
    assert api_key.last_used_at is None

    client_with(f"Api-Key {api_key.raw_key}").get(ME)

    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def _refused_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refuses the write of a credential's last use: a real failed
    statement (which aborts a PostgreSQL transaction), reported as SQLite's lock."""
    from django.db import DatabaseError, OperationalError
    from django.db.models import QuerySet

    real_update = QuerySet.update

    def locked(self: QuerySet, **kwargs: Any) -> int:
        if self.model is UserToken and "last_used_at" in kwargs:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT * FROM no_such_table")
            except DatabaseError as exc:
                raise OperationalError("database table is locked: accounts_usertoken") from exc
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", locked)


def test_a_use_the_database_cannot_record_does_not_fail_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Parallel first calls of one credential all record its use at once; SQLite may
    refuse some for a table lock. The call goes on (no 500), its use unrecorded, and
    the transaction around it still works (the write ran in a savepoint)."""
    from django.db import transaction

    token = UserTokenFactory()
    _refused_use(monkeypatch)
    with transaction.atomic():
        response = client_with(f"Bearer {token.raw_key}").get(ME)
        assert response.status_code == 200, response.content
        assert UserToken.objects.filter(pk=token.pk).exists()  # the transaction still works
    token.refresh_from_db()
    assert token.last_used_at is None


@pytest.mark.django_db(transaction=True)
def test_a_use_refused_outside_a_transaction_does_not_fail_the_call_either(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As a deployment runs (autocommit, no transaction per request): the call answers,
    the connection keeps working, and the next caller may record the use."""
    token = UserTokenFactory()
    _refused_use(monkeypatch)
    assert not connection.in_atomic_block
    response = client_with(f"Bearer {token.raw_key}").get(ME)
    assert response.status_code == 200, response.content
    token.refresh_from_db()
    assert token.last_used_at is None
    monkeypatch.undo()
    assert client_with(f"Bearer {token.raw_key}").get(ME).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None  # the refused claim was given back


def test_a_burst_of_first_calls_records_the_use_once() -> None:
    """Parallel first calls each hold the credential with no last use: only the first
    to claim the period (an atomic cache add) writes it."""
    from django.test.utils import CaptureQueriesContext

    from remag.accounts.authentication import _touch

    token = UserTokenFactory()
    first, second = UserToken.objects.get(pk=token.pk), UserToken.objects.get(pk=token.pk)
    for obj, writes in ((first, 1), (second, 0)):
        with CaptureQueriesContext(connection) as queries:
            _touch(obj)
        assert sum(q["sql"].startswith("UPDATE") for q in queries.captured_queries) == writes
    assert first.last_used_at is not None
    assert second.last_used_at is None
    token.refresh_from_db()
    assert token.last_used_at == first.last_used_at


def test_a_tokens_caller_is_read_with_the_token(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    """The person's memberships come in the token's own query: the caller they make is
    the one read separately, deactivated organisations left out, roles and kinds kept."""
    token = UserTokenFactory()
    user = token.user
    UserToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    MembershipFactory(user=user, organization=OrganizationFactory(kind="manufacturer"))
    MembershipFactory(user=user, organization=OrganizationFactory(kind="sme"), role="admin")
    portal = OrganizationFactory(kind="portal")
    MembershipFactory(user=user, organization=portal)
    MembershipFactory(user=user, organization=OrganizationFactory(kind="portal", is_active=False))
    in_force, _revoked, _grantor_gone, _to_inactive = _delegations_around(portal, user)
    request = Request(APIRequestFactory().get(ME, HTTP_AUTHORIZATION=f"Bearer {token.raw_key}"))

    # The delegations to the person's organisations (which every supplier list's rules
    # ask for) come in the same query, on PostgreSQL.
    queries = 1 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(queries):
        authenticated, _ = UserTokenAuthentication().authenticate(request)
        request.user = authenticated
        caller = caller_for(request)
        delegating = caller.delegating_organization_ids

    expected = caller_compute(User.objects.get(pk=user.pk))
    assert caller == expected
    assert delegating == expected.delegating_organization_ids == {in_force.grantor_id}
    assert len(caller.organization_ids) == 3
    assert len(caller.admin_organization_ids) == 1
    assert caller.organization_kinds == {"manufacturer", "sme", "portal"}


def _delegations_around(grantee: Any, member: Any = None) -> list[Delegation]:
    """A delegation in force to ``grantee``, one revoked, one from a deactivated
    grantor, and one to an organisation ``member`` belongs to that is deactivated."""
    gone = OrganizationFactory(kind="sme", is_active=False)
    inactive_grantee = OrganizationFactory(kind="portal", is_active=False)
    if member is not None:
        MembershipFactory(user=member, organization=inactive_grantee)
    return [
        Delegation.objects.create(grantor=OrganizationFactory(kind="sme"), grantee=grantee),
        Delegation.objects.create(
            grantor=OrganizationFactory(kind="sme"), grantee=grantee, revoked_at=timezone.now()
        ),
        Delegation.objects.create(grantor=gone, grantee=grantee),
        Delegation.objects.create(
            grantor=OrganizationFactory(kind="sme"), grantee=inactive_grantee
        ),
    ]


def test_an_api_keys_caller_reads_its_delegations_with_the_key(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    api_key = APIKeyFactory()
    OrganizationAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    in_force, *_ = _delegations_around(api_key.organization)
    request = Request(APIRequestFactory().get(ME, HTTP_X_API_KEY=api_key.raw_key))

    queries = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(queries):
        authenticated, _ = OrganizationAPIKeyAuthentication().authenticate(request)
        request.user = authenticated
        delegating = caller_for(request).delegating_organization_ids

    assert delegating == {in_force.grantor_id}
    assert (
        delegating == caller_compute(authenticated.__class__(api_key)).delegating_organization_ids
    )


def test_a_tokens_caller_with_no_memberships_acts_for_nobody() -> None:
    token = UserTokenFactory()
    request = Request(APIRequestFactory().get(ME, HTTP_AUTHORIZATION=f"Token {token.raw_key}"))

    request.user, _ = UserTokenAuthentication().authenticate(request)
    caller = caller_for(request)

    assert caller.is_authenticated
    assert caller.organization_ids == frozenset()
    assert not caller.is_operator


def test_an_operators_token_makes_an_operator() -> None:
    token = UserTokenFactory()
    MembershipFactory(user=token.user, organization=OrganizationFactory(kind="operator"))

    response = client_with(f"Bearer {token.raw_key}").get(ME)

    assert response.status_code == 200
    assert response.json()["is_operator"] is True


def test_a_sessions_caller_is_read_with_the_user(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    """A session's user comes with their memberships and the delegations to their
    organisations in one query (remag.accounts.backends), making the caller a separate
    read would: deactivated organisations left out, roles and kinds kept."""
    from django.contrib.auth import get_user
    from django.test import Client

    user = UserTokenFactory().user
    MembershipFactory(user=user, organization=OrganizationFactory(kind="manufacturer"))
    portal = OrganizationFactory(kind="portal")
    MembershipFactory(user=user, organization=portal, role="admin")
    MembershipFactory(user=user, organization=OrganizationFactory(kind="sme", is_active=False))
    in_force, *_ = _delegations_around(portal, user)
    client = Client()
    client.force_login(user)
    request = Request(APIRequestFactory().get(ME))
    request.session = client.session

    # The session, then the user with what the caller needs; elsewhere than on
    # PostgreSQL the caller reads its memberships and delegations itself.
    queries = 2 if connection.vendor == "postgresql" else 4
    with django_assert_num_queries(queries):
        request.user = get_user(request)
        caller = caller_for(request)
        delegating = caller.delegating_organization_ids

    expected = caller_compute(User.objects.get(pk=user.pk))
    assert caller == expected
    assert delegating == expected.delegating_organization_ids == {in_force.grantor_id}
    assert caller.organization_kinds == {"manufacturer", "portal"}
    assert caller.admin_organization_ids == {portal.id}


def test_a_session_sees_a_membership_ended_since_the_last_request(org_admin: Any) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(org_admin)
    assert client.get(ME).json()["organizations"]

    org_admin.memberships.all().delete()

    assert client.get(ME).json()["organizations"] == []


def test_sessions_signed_in_before_the_memberships_backend_stay_signed_in(
    org_admin: Any,
) -> None:
    """A session made by Django's own backend (before an upgrade) still authenticates,
    and makes the same caller."""
    from rest_framework.test import APIClient

    old, new = APIClient(), APIClient()
    old.force_login(org_admin, backend="django.contrib.auth.backends.ModelBackend")
    new.force_login(org_admin)

    assert old.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    assert new.session["_auth_user_backend"] == "remag.accounts.backends.MembershipsBackend"
    assert old.get(ME).status_code == new.get(ME).status_code == 200
    assert old.get(ME).json() == new.get(ME).json()


def test_a_sessions_user_made_inactive_is_signed_out(org_admin: Any) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(org_admin)
    User.objects.filter(pk=org_admin.pk).update(is_active=False)

    assert client.get(ME).status_code in (401, 403)


def test_a_wrong_password_is_checked_once(org_admin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """New sign-ins are the memberships backend's alone: a wrong password fails there and
    is not checked (hashed) again by Django's backend listed after it."""
    from django.contrib.auth import authenticate

    checked: list[str] = []
    check_password = User.check_password

    def spy(self: User, raw_password: str) -> bool:
        checked.append(raw_password)
        return check_password(self, raw_password)

    monkeypatch.setattr(User, "check_password", spy)

    assert authenticate(username=org_admin.username, password="not-the-password") is None
    assert checked == ["not-the-password"]
    signed_in = authenticate(username=org_admin.username, password="a-long-test-password")
    assert signed_in == org_admin
    assert signed_in.backend == "remag.accounts.backends.MembershipsBackend"


class ByNameBackend:
    """A backend that takes another kind of credential (as an SSO backend would)."""

    def authenticate(self, request: Any, name: str | None = None, **kwargs: Any) -> Any:
        return User.objects.filter(username=name).first() if name else None

    def get_user(self, user_id: Any) -> Any:
        return User.objects.filter(pk=user_id).first()


def test_other_credentials_reach_the_backends_listed_after(org_admin: Any, settings: Any) -> None:
    from django.contrib.auth import authenticate

    settings.AUTHENTICATION_BACKENDS = [
        "remag.accounts.backends.MembershipsBackend",
        "tests.remag.test_auth.ByNameBackend",
    ]

    assert authenticate(name=org_admin.username) == org_admin
    assert authenticate(username=org_admin.username, password="wrong") is None
