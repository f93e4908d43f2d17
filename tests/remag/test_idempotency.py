"""Idempotency-Key on creates: replay, refusal on reuse, expiry, per-caller scope."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from remag.accounts.models import OrganizationAPIKey
from remag.api.models import IdempotencyRecord
from tests.factories import MembershipFactory, UserTokenFactory

BODY = {"name": "portal key", "scopes": ["read"]}


@pytest.fixture
def setup(db: None, user_client: Any) -> tuple[Any, str, Any]:
    membership = MembershipFactory(role="admin")
    url = f"/api/v1/organizations/{membership.organization.id}/api-keys/"
    return user_client(membership.user), url, membership


def test_replay_returns_first_response_and_creates_once(setup: tuple[Any, str, Any]) -> None:
    client, url, _ = setup

    first = client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == second.status_code == 201
    assert OrganizationAPIKey.objects.count() == 1
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    replayed = second.json()
    original = first.json()
    # The secret is never stored, so a replay cannot show it again; all else is identical.
    assert replayed.pop("key") is None
    assert original.pop("key")
    assert replayed == original


def test_key_order_and_whitespace_do_not_make_a_different_body(
    setup: tuple[Any, str, Any],
) -> None:
    client, url, _ = setup

    client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="k-2")
    again = client.post(
        url,
        data='{ "scopes": ["read"],   "name": "portal key" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert again.status_code == 201
    assert OrganizationAPIKey.objects.count() == 1


def test_same_key_different_body_is_refused(setup: tuple[Any, str, Any]) -> None:
    client, url, _ = setup
    client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="k-3")

    response = client.post(url, {**BODY, "name": "other"}, HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/problems/idempotency-key-reused"
    assert OrganizationAPIKey.objects.count() == 1


def test_same_key_on_another_endpoint_is_refused(setup: tuple[Any, str, Any]) -> None:
    client, url, _ = setup
    client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="k-4")

    response = client.post("/api/v1/me/tokens/", {"name": "t"}, HTTP_IDEMPOTENCY_KEY="k-4")

    assert response.status_code == 422


def test_failed_request_is_not_remembered(setup: tuple[Any, str, Any]) -> None:
    client, url, _ = setup

    failed = client.post(url, {"name": "k"}, HTTP_IDEMPOTENCY_KEY="k-5")
    fixed = client.post(url, {"name": "k", "scopes": ["read"]}, HTTP_IDEMPOTENCY_KEY="k-5")

    assert failed.status_code == 400
    assert fixed.status_code == 201
    assert OrganizationAPIKey.objects.count() == 1


def test_expired_key_can_be_used_again(setup: tuple[Any, str, Any]) -> None:
    client, url, _ = setup
    client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="k-6")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="k-6")

    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert OrganizationAPIKey.objects.count() == 2


def test_keys_are_remembered_for_24_hours(setup: tuple[Any, str, Any]) -> None:
    client, url, _ = setup
    before = timezone.now()

    client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="k-7")

    record = IdempotencyRecord.objects.get()
    assert (
        timedelta(hours=23, minutes=59)
        < record.expires_at - before
        <= timedelta(hours=24, seconds=5)
    )


def test_keys_are_scoped_to_the_caller(setup: tuple[Any, str, Any], user_client: Any) -> None:
    client, url, membership = setup
    colleague = MembershipFactory(role="admin", organization=membership.organization).user

    client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="shared")
    theirs = user_client(colleague).post(url, BODY, HTTP_IDEMPOTENCY_KEY="shared")

    assert theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert OrganizationAPIKey.objects.count() == 2


@pytest.mark.parametrize("bad_key", ["x" * 256, "has space", "caf\u00e9"])
def test_malformed_key_is_refused_naming_the_header(
    setup: tuple[Any, str, Any], bad_key: str
) -> None:
    client, url, _ = setup

    response = client.post(url, BODY, HTTP_IDEMPOTENCY_KEY=bad_key)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert OrganizationAPIKey.objects.count() == 0


def test_purge_deletes_only_expired_records(setup: tuple[Any, str, Any]) -> None:
    from remag.api.idempotency import idempotency_keys_purge

    client, url, _ = setup
    client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="keep")
    client.post(url, {**BODY, "name": "b"}, HTTP_IDEMPOTENCY_KEY="drop")
    IdempotencyRecord.objects.filter(key="drop").update(expires_at=timezone.now())

    assert idempotency_keys_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["keep"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_once(postgres: None) -> None:
    """Two requests racing with the same key: one creates, the other replays it."""
    from rest_framework.test import APIClient

    membership = MembershipFactory(role="admin")
    token = UserTokenFactory(user=membership.user)
    url = f"/api/v1/organizations/{membership.organization.id}/api-keys/"
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.raw_key}")
        barrier.wait()
        try:
            statuses.append(client.post(url, BODY, HTTP_IDEMPOTENCY_KEY="race").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [201, 201, 201, 201]
    assert OrganizationAPIKey.objects.count() == 1


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("APIKeyCreated", "key"),
        ("UserTokenCreated", "token"),
        ("WebhookEndpointWithSecret", "secret"),
    ],
)
def test_the_schema_admits_the_null_secret_of_a_replay(component: str, field: str) -> None:
    """A replay gives a secret shown once as null (above): the schema says so, or a
    client generated from it refuses the replay it asked for."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["components"]["schemas"][component]["properties"][field]["nullable"] is True
