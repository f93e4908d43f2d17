"""Webhooks end to end: real HTTP on loopback, real workers on Redis and PostgreSQL."""

import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from remag.webhooks import events
from remag.webhooks.models import Delivery, Event, WebhookEndpoint
from tests.conftest import queues_of_test, wait_for
from tests.factories import MembershipFactory, OrganizationFactory
from tests.remag.webhook_receiver import Receiver, start_receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
WORKER_ENV = {"WEBHOOK_ALLOW_HTTP": "1", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}


def documented_verify() -> Any:
    """The receiver's `verify` exactly as docs/webhooks.md prints it."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    (code,) = [b for b in blocks if "def verify(" in b]
    namespace: dict[str, Any] = {"__name__": "docs_webhooks"}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace["verify"]


@pytest.fixture
def loopback(settings: Any) -> None:
    settings.REMAG_WEBHOOK_ALLOW_HTTP = True
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()


def endpoint_for(organization: Any, url: str, types: list[str]) -> WebhookEndpoint:
    from remag.webhooks import services

    return services.endpoint_create(organization=organization, url=url, event_types=types)


def test_a_published_request_is_delivered_and_verifies_with_the_documented_recipe(
    postgres: None, celery_worker_process: Any, loopback: None, receiver: Receiver
) -> None:
    from rest_framework.test import APIClient

    from suppliers.taxonomy import taxonomy_load

    taxonomy_load()
    buyer = MembershipFactory(organization=OrganizationFactory(kind="manufacturer"))
    endpoint = endpoint_for(buyer.organization, receiver.url, ["request.published"])
    celery_worker_process(**WORKER_ENV)
    client = APIClient()
    client.force_authenticate(buyer.user)
    created = client.post(
        "/api/v1/requests/",
        {
            "title": "Sintered N42 blocks",
            "layer": "components",
            "required_capabilities": ["sintering"],
            "delivery_state": "TN",
            "delivery_pin_code": "600032",
        },
        format="json",
    ).json()
    assert client.post(f"/api/v1/requests/{created['id']}/publish/").status_code == 200

    (got,) = receiver.wait_for(1)
    verify = documented_verify()
    signature = got.headers["Remag-Signature"]
    assert verify(endpoint.secret, signature, got.body)
    body = json.loads(got.body)
    assert body["type"] == "request.published"
    assert body["data"]["request"]["id"] == created["id"]
    assert got.headers["Remag-Event-Id"] == body["id"]
    # A tampered body, a wrong secret or an old timestamp fail the same recipe.
    assert not verify(endpoint.secret, signature, got.body.replace(b"N42", b"N52"))
    assert not verify("whsec_wrong", signature, got.body)
    t = int(signature.split(",")[0][2:])
    from remag.webhooks import signing

    old = signing.sign(got.body, [endpoint.secret], timestamp=t - 400)
    assert not verify(endpoint.secret, old, got.body)
    delivery = wait_for(
        lambda: Delivery.objects.filter(endpoint=endpoint, status="delivered").first()
    )
    assert delivery.attempt_records.count() == 1


def test_two_failures_then_success_make_three_attempts_and_one_delivery(
    postgres: None, celery_worker_process: Any, loopback: None, receiver: Receiver
) -> None:
    organization = OrganizationFactory(kind="portal")
    endpoint = endpoint_for(organization, receiver.url, ["supplier.created"])
    receiver.script = [500, 500]
    celery_worker_process(**WORKER_ENV, WEBHOOK_RETRY_DELAYS="0.3,0.3,0.3")
    event = events.emit("supplier.created", {"supplier": {}}, audience=[organization.id])
    delivery = wait_for(
        lambda: Delivery.objects.filter(event=event, status="delivered").first(), timeout=30
    )
    codes = list(delivery.attempt_records.values_list("status_code", flat=True))
    assert codes == [500, 500, 200]
    assert delivery.attempts == 3
    assert delivery.failures == 2
    time.sleep(1)  # nothing more arrives
    assert len(receiver.requests) == 3
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_an_endpoint_that_never_answers_is_disabled(
    postgres: None, celery_worker_process: Any, loopback: None, receiver: Receiver
) -> None:
    organization = OrganizationFactory(kind="portal")
    endpoint = endpoint_for(organization, receiver.url, ["supplier.created"])
    receiver.hang_seconds = 3
    celery_worker_process(
        **WORKER_ENV,
        WEBHOOK_TIMEOUT_SECONDS="0.5",
        WEBHOOK_RETRY_DELAYS="0.1",
        WEBHOOK_DISABLE_AFTER="2",
    )
    for _ in range(2):
        events.emit("supplier.created", {"supplier": {}}, audience=[organization.id])
    wait_for(lambda: not WebhookEndpoint.objects.get(id=endpoint.id).is_active, timeout=60)
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason.startswith("2 events in a row")
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    assert {d.status for d in deliveries} == {"failed"}
    for delivery in deliveries:
        errors = list(delivery.attempt_records.values_list("error", flat=True))
        assert len(errors) == 2
        assert all("timed out" in e or "Timeout" in e for e in errors), errors
    notice = Event.objects.get(type="webhook.disabled")
    assert notice.payload["endpoint"]["id"] == str(endpoint.id)
    # The organisation can read it; a third event goes nowhere.
    later = events.emit("supplier.created", {}, audience=[organization.id])
    assert not Delivery.objects.filter(event=later).exists()


def test_a_flushed_broker_loses_no_delivery(
    postgres: None,
    celery_worker_process: Any,
    loopback: None,
    receiver: Receiver,
    redis_client: Any,
    celery_test_queue: str,
) -> None:
    organization = OrganizationFactory(kind="portal")
    endpoint_for(organization, receiver.url, ["supplier.created"])
    event = events.emit("supplier.created", {"supplier": {}}, audience=[organization.id])
    # Committed, sent, and forgotten by the broker: this test's queues are emptied (not
    # the whole database, which tests running in parallel share).
    sent = sum(redis_client.llen(name) for name in queues_of_test(celery_test_queue))
    assert sent == 1
    redis_client.delete(*queues_of_test(celery_test_queue))
    celery_worker_process(**WORKER_ENV)
    time.sleep(1)
    assert receiver.requests == []
    call_command("sweep_webhook_deliveries", "--grace", "0")
    (got,) = receiver.wait_for(1)
    assert json.loads(got.body)["id"] == str(event.id)
    wait_for(lambda: Delivery.objects.filter(event=event, status="delivered").exists())


def test_the_sweep_leaves_leased_and_future_deliveries_alone(
    postgres: None, loopback: None, django_capture_on_commit_callbacks: Any
) -> None:
    from django.utils import timezone

    from remag.webhooks import services

    organization = OrganizationFactory(kind="portal")
    endpoint_for(organization, "http://127.0.0.1:9/hook", ["supplier.created"])
    made = [
        Delivery.objects.get(event=events.emit("supplier.created", {}, audience=[organization.id]))
        for _ in range(3)
    ]
    now = timezone.now()
    Delivery.objects.filter(id=made[1].id).update(heartbeat_at=now)
    Delivery.objects.filter(id=made[2].id).update(enqueued_at=now + timedelta(minutes=5))
    with django_capture_on_commit_callbacks():
        resent = services.deliveries_sweep(grace=timedelta(0))
    assert resent == [str(made[0].id)]
