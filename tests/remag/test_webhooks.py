"""Events and webhooks without a worker: the SSRF guard, signatures, the API and its
organisation scoping, and delivery attempts over real HTTP on loopback."""

import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from remag.webhooks import events, services, signing, ssrf
from remag.webhooks.models import Delivery, Event, WebhookEndpoint
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory
from tests.remag.webhook_receiver import Receiver, start_receiver

LOOPBACK = {
    "REMAG_WEBHOOK_ALLOW_HTTP": True,
    "REMAG_WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.1/32"],
}


@pytest.fixture
def loopback_allowed(settings: Any) -> None:
    for name, value in LOOPBACK.items():
        setattr(settings, name, value)
    settings.REMAG_WEBHOOK_RETRY_DELAYS = [0.0, 0.0]
    settings.REMAG_WEBHOOK_TIMEOUT_SECONDS = 2.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ------------------------------------------------------------------ the SSRF guard


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://0.0.0.0/hook", "non-public"),
        ("https://localhost/hook", "loopback"),  # a name that resolves to loopback
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("http://93.184.216.34/hook", "https"),
        ("https://user:pw@93.184.216.34/hook", "credentials"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
        ("https://93.184.216.34/h\u00fcck", "printable ASCII"),
        ("https://93.184.216.34/a\u0001b", "printable ASCII"),
        ("https://93.184.216.34/a\u007fb", "printable ASCII"),
        ("https://93.184.216.34/a b", "printable ASCII"),
        ("https://b\u00fccher.example/hook", "printable ASCII"),
    ],
)
def test_the_guard_refuses_unsafe_urls(settings: Any, url: str, words: str) -> None:
    settings.REMAG_WEBHOOK_ALLOW_HTTP = False
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(ssrf.UnsafeURL, match=words):
        ssrf.check_url(url)


def test_the_guard_accepts_a_public_address_and_the_allow_list(settings: Any) -> None:
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = []
    target = ssrf.check_url("https://93.184.216.34:8443/hook?x=1")
    assert (target.address, target.port, target.path) == ("93.184.216.34", 8443, "/hook?x=1")
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert ssrf.check_url("https://127.0.0.1/hook").address == "127.0.0.1"
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check_url("https://10.0.0.1/hook")


def test_a_name_is_checked_for_every_address_it_resolves_to(
    settings: Any, monkeypatch: Any
) -> None:
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = []

    real = socket.getaddrinfo

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host != "rebinding.example":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(ssrf.UnsafeURL, match="10.0.0.7, a private"):
        ssrf.check_url("https://rebinding.example/hook")


# ------------------------------------------------------------------ signatures


def test_signature_round_trip_tamper_and_age() -> None:
    body = b'{"id":"1"}'
    header = signing.sign(body, ["whsec_a"])
    assert signing.verify("whsec_a", header, body)
    assert not signing.verify("whsec_b", header, body)
    assert not signing.verify("whsec_a", header, body + b" ")
    old = signing.sign(body, ["whsec_a"], timestamp=int(time.time()) - 301)
    assert not signing.verify("whsec_a", old, body)
    both = signing.sign(body, ["whsec_new", "whsec_old"])
    assert signing.verify("whsec_new", both, body)
    assert signing.verify("whsec_old", both, body)
    assert not signing.verify("whsec_a", "garbage", body)


# ------------------------------------------------------------------ the API


@pytest.fixture
def portal(db: None) -> Any:
    return MembershipFactory(organization=OrganizationFactory(kind="portal"), role="admin")


def create_endpoint(user: Any, url: str, types: list[str] | None = None) -> Any:
    return client_for(user).post(
        "/api/v1/webhooks/endpoints/",
        {"url": url, "event_types": types or ["supplier.created"], "description": "test"},
        format="json",
    )


@pytest.mark.django_db
def test_create_shows_the_secret_once(portal: Any, loopback_allowed: None) -> None:
    response = create_endpoint(portal.user, "http://127.0.0.1:9/hook")
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert secret.startswith("whsec_")
    assert WebhookEndpoint.objects.get().secret == secret
    detail = client_for(portal.user).get(f"/api/v1/webhooks/endpoints/{response.json()['id']}/")
    assert "secret" not in detail.json()
    listing = client_for(portal.user).get("/api/v1/webhooks/endpoints/").json()["results"]
    assert "secret" not in listing[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://10.0.0.5/hook", "event_types": ["supplier.created"]}, "url"),
        ({"url": "http://127.0.0.1:9/h", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1:9/h", "event_types": ["nope"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/h", "event_types": ["webhook.ping"]}, "event_types"),
        ({"url": "not a url", "event_types": ["supplier.created"]}, "url"),
        ({"url": "http://127.0.0.1:9/h\u00fc", "event_types": ["supplier.created"]}, "url"),
        ({"url": "http://127.0.0.1:9/a\u0001b", "event_types": ["supplier.created"]}, "url"),
        (
            {"url": "http://127.0.0.1:9/h", "event_types": ["supplier.created"] * 2},
            "event_types",
        ),
    ],
)
def test_bad_endpoints_name_the_field(
    portal: Any, loopback_allowed: None, body: dict, field: str
) -> None:
    response = client_for(portal.user).post("/api/v1/webhooks/endpoints/", body, format="json")
    assert response.status_code == 400
    assert any(e["field"].startswith(field) for e in response.json()["errors"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_http_refused_unless_allowed(portal: Any, settings: Any) -> None:
    settings.REMAG_WEBHOOK_ALLOW_HTTP = False
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    response = create_endpoint(portal.user, "http://127.0.0.1:9/hook")
    assert response.status_code == 400
    assert "https" in response.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_organisations_never_see_each_others_events_or_endpoints(
    portal: Any, loopback_allowed: None
) -> None:
    other = MembershipFactory(organization=OrganizationFactory(kind="portal"), role="admin")
    endpoint_id = create_endpoint(portal.user, "http://127.0.0.1:9/hook").json()["id"]
    mine = events.emit("supplier.created", {"supplier": {}}, audience=[portal.organization_id])
    theirs = events.emit("supplier.created", {"supplier": {}}, audience=[other.organization_id])
    delivery = Delivery.objects.get(event=mine)

    me, them = client_for(portal.user), client_for(other.user)
    assert [e["id"] for e in me.get("/api/v1/events/").json()["results"]] == [str(mine.id)]
    assert [e["id"] for e in them.get("/api/v1/events/").json()["results"]] == [str(theirs.id)]
    assert them.get(f"/api/v1/events/{mine.id}/").status_code == 404
    assert them.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/").status_code == 404
    assert them.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/").status_code == 404
    assert them.get(f"/api/v1/webhooks/deliveries/{delivery.id}/").status_code == 404
    assert them.post(f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver/").status_code == 404
    assert them.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/ping/").status_code == 404
    assert them.delete(f"/api/v1/webhooks/endpoints/{endpoint_id}/").status_code == 404
    # Only the audience's endpoints got a delivery.
    assert Delivery.objects.filter(event=theirs).count() == 0
    assert APIClient().get("/api/v1/events/").status_code == 401


@pytest.mark.django_db
def test_events_are_written_with_the_change_and_scoped(portal: Any) -> None:
    sme = OrganizationFactory(kind="sme")
    supplier = SupplierFactory(owner=sme, onboarded_by=portal.organization, claimed_at=None)
    from suppliers import services as supplier_services

    supplier_services.supplier_verify(supplier=supplier, by=None)
    event = Event.objects.get(type="supplier.verified")
    assert event.payload["supplier"]["id"] == str(supplier.id)
    seen = client_for(portal.user).get("/api/v1/events/?type=supplier.verified").json()
    assert [e["id"] for e in seen["results"]] == [str(event.id)]
    outsider = MembershipFactory(organization=OrganizationFactory(kind="portal")).user
    assert client_for(outsider).get("/api/v1/events/").json()["results"] == []


@pytest.mark.django_db
def test_event_filters_and_catch_up(portal: Any) -> None:
    org = portal.organization_id
    base = timezone.now() - timedelta(hours=1)
    made = [
        events.emit(t, {}, audience=[org], occurred_at=base + timedelta(minutes=i))
        for i, t in enumerate(["supplier.created", "request.published", "supplier.created"])
    ]
    client = client_for(portal.user)
    ids = lambda q: [e["id"] for e in client.get(f"/api/v1/events/?{q}").json()["results"]]  # noqa: E731
    assert ids("ordering=occurred_at") == [str(e.id) for e in made]
    assert ids("") == [str(e.id) for e in reversed(made)]
    assert ids(f"ordering=occurred_at&after={made[0].id}") == [str(made[1].id), str(made[2].id)]
    assert ids("type=request.published") == [str(made[1].id)]
    since = (base + timedelta(minutes=1)).isoformat().replace("+", "%2B")
    assert set(ids(f"since={since}")) == {str(made[1].id), str(made[2].id)}
    assert (
        client.get("/api/v1/events/?after=00000000-0000-0000-0000-000000000000").status_code == 400
    )
    assert client.get("/api/v1/events/?type=bogus").status_code == 400
    assert client.get("/api/v1/events/?since=yesterday").status_code == 400
    # Found by the schema fuzzer: offsets PostgreSQL refuses, and times that overflow UTC.
    for bad in ("0258-01-30T12:31:34.8%2B20:38", "0001-01-01T00:00%2B05:00"):
        response = client.get(f"/api/v1/events/?since={bad}")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "since"
    assert client.get("/api/v1/events/").status_code == 200  # the connection is still fine


# ------------------------------------------------------------------ delivering (no worker)


@pytest.mark.django_db
def test_a_delivery_is_signed_and_recorded(
    portal: Any, loopback_allowed: None, receiver: Receiver
) -> None:
    created = create_endpoint(portal.user, receiver.url).json()
    event = events.emit(
        "supplier.created", {"supplier": {"id": "x"}}, audience=[portal.organization_id]
    )
    delivery = Delivery.objects.get(event=event)
    services.delivery_attempt(delivery_id=delivery.id)
    (got,) = receiver.wait_for(1)
    assert got.headers["Remag-Event-Id"] == str(event.id)
    assert got.headers["Remag-Event-Type"] == "supplier.created"
    assert signing.verify(created["secret"], got.headers["Remag-Signature"], got.body)
    assert json.loads(got.body)["data"] == {"supplier": {"id": "x"}}
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    (attempt,) = delivery.attempt_records.all()
    assert attempt.status_code == 200
    assert attempt.response_excerpt == "status 200"
    # Done is done: another attempt sends nothing.
    assert services.delivery_attempt(delivery_id=delivery.id) is None
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_a_refused_address_at_delivery_time_is_an_attempt_not_a_request(
    portal: Any, loopback_allowed: None, receiver: Receiver, settings: Any
) -> None:
    create_endpoint(portal.user, receiver.url)
    event = events.emit("supplier.created", {}, audience=[portal.organization_id])
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = []  # "DNS changed": loopback no longer allowed
    delivery = services.delivery_attempt(delivery_id=Delivery.objects.get(event=event).id)
    assert delivery is not None
    assert delivery.status == "pending"
    assert "Refused" in delivery.attempt_records.get().error
    time.sleep(0.3)
    assert receiver.requests == []


@pytest.mark.django_db
def test_rotation_sends_both_signatures_during_the_grace_only(
    portal: Any, loopback_allowed: None, receiver: Receiver
) -> None:
    old_secret = create_endpoint(portal.user, receiver.url).json()["secret"]
    endpoint = WebhookEndpoint.objects.get()
    response = client_for(portal.user).post(
        f"/api/v1/webhooks/endpoints/{endpoint.id}/rotate-secret/"
    )
    new_secret = response.json()["secret"]
    assert new_secret != old_secret
    first = events.emit("supplier.created", {}, audience=[portal.organization_id])
    services.delivery_attempt(delivery_id=Delivery.objects.get(event=first).id)
    got = receiver.wait_for(1)[0]
    assert got.headers["Remag-Signature"].count("v1=") == 2
    assert signing.verify(new_secret, got.headers["Remag-Signature"], got.body)
    assert signing.verify(old_secret, got.headers["Remag-Signature"], got.body)

    WebhookEndpoint.objects.filter(id=endpoint.id).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    second = events.emit("supplier.created", {}, audience=[portal.organization_id])
    services.delivery_attempt(delivery_id=Delivery.objects.get(event=second).id)
    got = receiver.wait_for(2)[1]
    assert got.headers["Remag-Signature"].count("v1=") == 1
    assert signing.verify(new_secret, got.headers["Remag-Signature"], got.body)
    assert not signing.verify(old_secret, got.headers["Remag-Signature"], got.body)


@pytest.mark.django_db
def test_ping_and_redeliver(portal: Any, loopback_allowed: None, receiver: Receiver) -> None:
    endpoint_id = create_endpoint(portal.user, receiver.url).json()["id"]
    client = client_for(portal.user)
    response = client.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/ping/")
    assert response.status_code == 202
    delivery_id = response.json()["id"]
    assert response.json()["event"]["type"] == "webhook.ping"
    services.delivery_attempt(delivery_id=delivery_id)
    receiver.wait_for(1)
    response = client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/redeliver/")
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    services.delivery_attempt(delivery_id=delivery_id)
    receiver.wait_for(2)
    listed = client.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/").json()["results"]
    assert listed[0]["status"] == "delivered"
    assert len(listed[0]["attempts"]) == 2


@pytest.mark.django_db
def test_ping_and_redeliver_honour_idempotency_key(portal: Any, loopback_allowed: None) -> None:
    endpoint_id = create_endpoint(portal.user, "http://127.0.0.1:9/hook").json()["id"]
    client = client_for(portal.user)
    ping = f"/api/v1/webhooks/endpoints/{endpoint_id}/ping/"

    first = client.post(ping, HTTP_IDEMPOTENCY_KEY="ping-1")
    again = client.post(ping, HTTP_IDEMPOTENCY_KEY="ping-1")

    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Delivery.objects.filter(endpoint_id=endpoint_id).count() == 1
    redeliver = f"/api/v1/webhooks/deliveries/{first.json()['id']}/redeliver/"
    once = client.post(redeliver, HTTP_IDEMPOTENCY_KEY="again-1")
    twice = client.post(redeliver, HTTP_IDEMPOTENCY_KEY="again-1")
    assert once.status_code == twice.status_code == 202
    assert twice.headers["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_disabled_endpoint_gets_nothing_and_can_be_re_enabled(
    portal: Any, loopback_allowed: None
) -> None:
    endpoint_id = create_endpoint(portal.user, "http://127.0.0.1:9/hook").json()["id"]
    client = client_for(portal.user)
    url = f"/api/v1/webhooks/endpoints/{endpoint_id}/"
    assert client.patch(url, {"is_active": False}, format="json").status_code == 200
    event = events.emit("supplier.created", {}, audience=[portal.organization_id])
    assert not Delivery.objects.filter(event=event).exists()
    assert client.post(f"{url}ping/").status_code == 409
    WebhookEndpoint.objects.filter(id=endpoint_id).update(consecutive_failures=5)
    response = client.patch(url, {"is_active": True}, format="json")
    assert response.json()["is_active"] is True
    assert response.json()["consecutive_failures"] == 0
