"""Webhook endpoints and deliveries: create, rotate, ping, attempt, redeliver, sweep.

A delivery is attempted by a worker holding a short lease on its row (so two workers
never send it at once), outside any transaction while the HTTP request runs, and its
outcome is recorded with the attempt. Only a 2xx answer marks it delivered. A failed
attempt is retried after the next delay of ``REMAG_WEBHOOK_RETRY_DELAYS`` (with ±20%
jitter); after the last one the delivery is ``failed``. An endpoint whose deliveries fail
every attempt for ``REMAG_WEBHOOK_DISABLE_AFTER`` events in a row is disabled and its
organisation gets a ``webhook.disabled`` event.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from remag import jobs
from remag.accounts.models import Organization
from remag.errors import Conflict
from remag.webhooks import events, signing, ssrf, transport
from remag.webhooks.choices import DeliveryStatus, EventType
from remag.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

USER_AGENT = "remag-webhooks/1"


def max_attempts() -> int:
    return 1 + len(settings.REMAG_WEBHOOK_RETRY_DELAYS)


# ------------------------------------------------------------------ endpoints


def endpoint_create(
    *, organization: Organization, url: str, event_types: list[str], description: str = ""
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        organization=organization,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        secret=signing.new_secret(),
    )


def endpoint_update(*, endpoint: WebhookEndpoint, data: dict[str, Any]) -> WebhookEndpoint:
    for name in ("url", "description"):
        if name in data:
            setattr(endpoint, name, data[name])
    if "event_types" in data:
        endpoint.event_types = sorted(set(data["event_types"]))
    if "is_active" in data and data["is_active"] != endpoint.is_active:
        endpoint.is_active = data["is_active"]
        if endpoint.is_active:  # re-enabled: a fresh start
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
    endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one stays valid for the grace period (both signatures sent)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(
            hours=settings.REMAG_WEBHOOK_SECRET_GRACE_HOURS
        )
        endpoint.secret = signing.new_secret()
        endpoint.save()
    return endpoint


def endpoint_secrets(endpoint: WebhookEndpoint) -> list[str]:
    valid = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timezone.now():
        valid.append(endpoint.previous_secret)
    return valid


def endpoint_ping(*, endpoint: WebhookEndpoint) -> Delivery:
    """Send a ``webhook.ping`` event to ``endpoint`` only; a disabled endpoint is refused."""
    if not endpoint.is_active:
        raise Conflict("The endpoint is disabled; re-enable it first.", code="disabled")
    event = events.emit(
        EventType.WEBHOOK_PING,
        events.endpoint_payload(endpoint),
        audience=[endpoint.organization_id],
        only_endpoint=endpoint,
    )
    return Delivery.objects.get(event=event, endpoint=endpoint)


# ------------------------------------------------------------------ delivering


def envelope(event: Event) -> bytes:
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "data": event.payload,
        },
        separators=(",", ":"),
    ).encode()


def delivery_attempt(*, delivery_id: object, holder: str = "") -> Delivery | None:
    """Make one attempt of a due delivery and record it. Safe to call at any time: a
    delivery that is finished, not yet due or held by another worker is left alone."""
    delivery = jobs.job_start(DELIVERY_JOB, job_id=delivery_id, holder=holder)
    if delivery is None:
        return None
    endpoint, event = delivery.endpoint, delivery.event
    body = envelope(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Remag-Event-Id": str(event.id),
        "Remag-Event-Type": event.type,
        "Remag-Delivery-Id": str(delivery.id),
        signing.SIGNATURE_HEADER: signing.sign(body, endpoint_secrets(endpoint)),
    }
    try:
        target = ssrf.check_url(endpoint.url)
    except ssrf.UnsafeURL as exc:
        answer = transport.Answer(None, "", 0, f"Refused: {exc}")
    else:
        answer = transport.post(
            target, body, headers, timeout=settings.REMAG_WEBHOOK_TIMEOUT_SECONDS
        )
    return _record(delivery.id, answer)


def _record(delivery_id: object, answer: transport.Answer) -> Delivery:
    """Record the attempt; a 2xx ends the delivery, anything else is a failed attempt
    (retried after the next delay, or the last one)."""
    with transaction.atomic():
        delivery = DELIVERY_JOB.locked(delivery_id)
        DeliveryAttempt.objects.create(
            delivery=delivery,
            at=timezone.now(),
            status_code=answer.status,
            duration_ms=answer.duration_ms,
            response_excerpt=answer.excerpt[:1000],
            error=answer.error[:500],
        )
        if delivery.is_finished:
            return delivery  # another worker finished it meanwhile
        if answer.status is not None and 200 <= answer.status < 300:
            jobs.job_succeed(DELIVERY_JOB, delivery)
            return delivery
        jobs.job_fail(
            DELIVERY_JOB, job_id=delivery.id, error=(answer.error or f"HTTP {answer.status}")
        )
    delivery.refresh_from_db()
    return delivery


def _delay(failures: int) -> float:
    """Seconds before the retry that follows the ``failures``-th failed attempt."""
    delays = settings.REMAG_WEBHOOK_RETRY_DELAYS
    base = float(delays[min(failures, len(delays)) - 1])
    return max(0.0, base * random.uniform(0.8, 1.2))  # noqa: S311 (jitter, not security)


def _delivery_finished(delivery: Delivery) -> None:
    if delivery.status == DeliveryStatus.DELIVERED:
        WebhookEndpoint.objects.filter(id=delivery.endpoint_id).update(consecutive_failures=0)
    else:
        _count_failure(delivery.endpoint)


def _endpoint_disabled(delivery: Delivery) -> str | None:
    return None if delivery.endpoint.is_active else "The endpoint is disabled."


def _count_failure(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(id=endpoint.id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db()
    threshold = settings.REMAG_WEBHOOK_DISABLE_AFTER
    if endpoint.is_active and endpoint.consecutive_failures >= threshold:
        reason = f"{endpoint.consecutive_failures} events in a row failed every attempt."
        endpoint.is_active = False
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = reason
        endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
        logger.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
        events.emit(
            EventType.WEBHOOK_DISABLED,
            events.endpoint_payload(endpoint, reason=reason),
            audience=[endpoint.organization_id],
        )


DELIVERY_JOB = jobs.JobKind(
    name="webhook delivery",
    model=Delivery,
    task_name=events.DELIVERY_TASK,
    queued_timeout=lambda: timedelta(seconds=settings.REMAG_WEBHOOK_SWEEP_GRACE_SECONDS),
    lease=lambda: timedelta(seconds=settings.REMAG_WEBHOOK_LEASE_SECONDS),
    max_failures=max_attempts,
    # A round of retries spans the delays; a worker lost in it may be replaced until then.
    budget=lambda: timedelta(seconds=1.5 * sum(settings.REMAG_WEBHOOK_RETRY_DELAYS) + 3600),
    backoff=_delay,
    on_finished=_delivery_finished,
    precheck=_endpoint_disabled,
    select_related=("endpoint", "event"),
)


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send the event again to the endpoint: a new round of attempts, starting now."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(id=delivery.id)
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.failures = 0
        delivery.enqueued_at = timezone.now()
        delivery.started_at = None
        delivery.heartbeat_at = None
        delivery.holder = ""
        delivery.finished_at = None
        delivery.save()
        jobs.job_send(DELIVERY_JOB, delivery.id)
    return delivery


def deliveries_sweep(*, grace: timedelta | None = None, limit: int = 1000) -> list[str]:
    """Send deliveries that are due (for longer than ``grace``) and not held: their
    message was lost, their worker died, or their retry was left to the sweep."""
    return jobs.jobs_sweep(DELIVERY_JOB, queued_after=grace, limit=limit)


def events_purge(*, older_than: timedelta) -> int:
    """Delete events (with their audience, deliveries and attempts) that occurred more
    than ``older_than`` ago. Returns the number of events deleted."""
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:  # in batches, so no statement holds locks for long
        ids = list(Event.objects.filter(occurred_at__lt=cutoff).values_list("id", flat=True)[:5000])
        if not ids:
            return deleted
        Event.objects.filter(id__in=ids).delete()
        deleted += len(ids)
