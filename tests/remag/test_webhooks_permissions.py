"""The permission matrix of events and webhooks: every endpoint x every role
(tests/matrix.py). Endpoints, deliveries and events belong to organisations: only their
members and keys see them (operators too see only their own); a read-only key reads."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from remag.webhooks import events, services
from remag.webhooks.models import Delivery, WebhookEndpoint
from tests.factories import MembershipFactory, OrganizationFactory
from tests.matrix import Endpoint, assert_covers, call, matrix_cases

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "member", "read_key", "write_key", "other_org", "operator")
HOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["supplier.created"]}


def own(ok: int, *, read_key: int | None = None) -> dict[str, int]:
    """The organisation's own resource: its members and keys; others get a 404, a read
    key a 403 for a change."""
    return {
        "anonymous": 401,
        "member": ok,
        "read_key": ok if read_key is None else read_key,
        "write_key": ok,
        "other_org": 404,
        "operator": 404,
    }


def change(ok: int) -> dict[str, int]:
    return own(ok, read_key=403)


SIGNED_IN = dict.fromkeys(ROLES, 200) | {"anonymous": 401}
ENDPOINT = {"id": "endpoint"}

ENDPOINTS = {
    "event-list": Endpoint("GET", "/api/v1/events/", SIGNED_IN),
    "event-retrieve": Endpoint("GET", "/api/v1/events/{id}/", own(200), {"id": "event"}),
    "endpoint-list": Endpoint("GET", "/api/v1/webhooks/endpoints/", SIGNED_IN),
    # Anyone signed in may create an endpoint for its own organisation.
    "endpoint-create": Endpoint(
        "POST",
        "/api/v1/webhooks/endpoints/",
        dict.fromkeys(ROLES, 201) | {"anonymous": 401, "read_key": 403},
        body=HOOK,
    ),
    "endpoint-retrieve": Endpoint("GET", "/api/v1/webhooks/endpoints/{id}/", own(200), ENDPOINT),
    "endpoint-update": Endpoint(
        "PUT", "/api/v1/webhooks/endpoints/{id}/", change(200), ENDPOINT, body=HOOK
    ),
    "endpoint-partial-update": Endpoint(
        "PATCH",
        "/api/v1/webhooks/endpoints/{id}/",
        change(200),
        ENDPOINT,
        body={"description": "changed"},
    ),
    "endpoint-destroy": Endpoint(
        "DELETE", "/api/v1/webhooks/endpoints/{id}/", change(204), ENDPOINT
    ),
    "endpoint-rotate-secret": Endpoint(
        "POST", "/api/v1/webhooks/endpoints/{id}/rotate-secret/", change(200), ENDPOINT
    ),
    "endpoint-ping": Endpoint(
        "POST", "/api/v1/webhooks/endpoints/{id}/ping/", change(202), ENDPOINT
    ),
    "endpoint-deliveries": Endpoint(
        "GET", "/api/v1/webhooks/endpoints/{id}/deliveries/", own(200), ENDPOINT
    ),
    "delivery-retrieve": Endpoint(
        "GET", "/api/v1/webhooks/deliveries/{id}/", own(200), {"id": "delivery"}
    ),
    "delivery-redeliver": Endpoint(
        "POST", "/api/v1/webhooks/deliveries/{id}/redeliver/", change(202), {"id": "delivery"}
    ),
}


def test_the_matrix_covers_every_events_and_webhooks_endpoint() -> None:
    assert_covers(ENDPOINTS, "/api/v1/events/", "/api/v1/webhooks/")


@pytest.fixture
def loopback(settings: Any) -> None:
    settings.REMAG_WEBHOOK_ALLOW_HTTP = True
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]


def user_client(organization: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(organization=organization).user)
    return client


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(
    loopback: None, key_client: Any, name: str, role: str, status: int
) -> None:
    portal = OrganizationFactory(kind="portal")
    endpoint = services.endpoint_create(organization=portal, **HOOK)
    event = events.emit("supplier.created", {"supplier": {}}, audience=[portal.id])
    delivery = Delivery.objects.get(event=event, endpoint=endpoint)
    context = {"endpoint": endpoint.id, "event": event.id, "delivery": delivery.id}
    clients = {
        "anonymous": APIClient(),
        "member": user_client(portal),
        "read_key": key_client(portal, ("read",)),
        "write_key": key_client(portal, ("read", "write")),
        "other_org": user_client(OrganizationFactory(kind="portal")),
        "operator": user_client(OrganizationFactory(kind="operator")),
    }
    before = WebhookEndpoint.objects.values().get(id=endpoint.id)
    deliveries = Delivery.objects.count()

    call(clients[role], ENDPOINTS[name], context, status)

    if status >= 400:  # a refusal changes nothing
        assert WebhookEndpoint.objects.values().get(id=endpoint.id) == before
        assert Delivery.objects.count() == deliveries
