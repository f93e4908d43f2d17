"""Write events with the change they describe (an outbox), and fan them out to webhooks.

Call :func:`emit` inside the service's transaction: the event, its audience and one
delivery per subscribed endpoint are written with the change or not at all, and the
deliveries are sent to the broker only after the commit. If the message is lost, the
sweep finds the pending delivery.

The payload builders below are the one place each event type's shape is defined; the
OpenAPI schema documents the same shapes (``remag/webhooks/api/serializers.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from remag.jobs import send_on_commit
from remag.webhooks.choices import EventType
from remag.webhooks.models import Delivery, Event, EventAudience, WebhookEndpoint

# The task that attempts a delivery (remag/webhooks/tasks.py), sent by name.
DELIVERY_TASK = "webhooks.delivery_attempt"


def emit(
    event_type: str,
    payload: dict[str, Any],
    *,
    audience: Iterable[object | None],
    occurred_at: datetime | None = None,
    only_endpoint: WebhookEndpoint | None = None,
) -> Event:
    """Record an event for ``audience`` (organisation ids; None entries are ignored) and
    queue its deliveries to their active endpoints subscribed to ``event_type`` (or only
    to ``only_endpoint``)."""
    organizations = sorted({str(o) for o in audience if o is not None})
    now = occurred_at or timezone.now()
    with transaction.atomic():
        event = Event.objects.create(type=event_type, occurred_at=now, payload=payload)
        EventAudience.objects.bulk_create(
            EventAudience(event=event, organization_id=org, occurred_at=now)
            for org in organizations
        )
        if only_endpoint is not None:
            endpoints = [only_endpoint]
        else:
            endpoints = [
                endpoint
                for endpoint in WebhookEndpoint.objects.filter(
                    organization_id__in=organizations, is_active=True
                )
                if endpoint.subscribes_to(event_type)
            ]
        deliveries = Delivery.objects.bulk_create(
            Delivery(endpoint=endpoint, event=event, enqueued_at=now) for endpoint in endpoints
        )
        for delivery in deliveries:
            send_on_commit(DELIVERY_TASK, delivery.id)
    return event


# ------------------------------------------------------------------ payloads


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def supplier_payload(supplier: Any, **extra: Any) -> dict[str, Any]:
    return {
        "supplier": {
            "id": str(supplier.id),
            "legal_name": supplier.legal_name,
            "udyam_number": supplier.udyam_number,
            "state": supplier.state,
            "status": supplier.status,
        },
        **extra,
    }


def supplier_audience(supplier: Any) -> list[object]:
    audience = [supplier.owner_id]
    if supplier.claimed_at is None and supplier.onboarded_by_id:
        audience.append(supplier.onboarded_by_id)
    return audience


def request_payload(request: Any) -> dict[str, Any]:
    return {
        "request": {
            "id": str(request.id),
            "title": request.title,
            "layer": request.layer,
            "status": request.status,
            "needed_by": _iso(request.needed_by),
        }
    }


def run_payload(run: Any) -> dict[str, Any]:
    return {
        "run": {
            "id": str(run.id),
            "request": str(run.request_id),
            "status": run.status,
            "candidate_count": run.candidate_count,
            "matched_count": run.matched_count,
            "error": run.error,
        }
    }


def match_payload(match: Any, **extra: Any) -> dict[str, Any]:
    return {
        "match": {
            "id": str(match.id),
            "request": str(match.request_id),
            "supplier": str(match.supplier_id),
            "status": match.status,
            "score": match.score,
        },
        **extra,
    }


def import_payload(job: Any) -> dict[str, Any]:
    return {
        "import": {
            "id": str(job.id),
            "status": job.status,
            "rows_total": job.rows_total,
            "created_count": job.created_count,
            "updated_count": job.updated_count,
            "unchanged_count": job.unchanged_count,
            "failed_count": job.failed_count,
        }
    }


def endpoint_payload(endpoint: WebhookEndpoint, **extra: Any) -> dict[str, Any]:
    return {"endpoint": {"id": str(endpoint.id), "url": endpoint.url}, **extra}


# ------------------------------------------------------------------ the domain's events


def supplier_event(event_type: str, supplier: Any, **extra: Any) -> Event:
    return emit(
        event_type, supplier_payload(supplier, **extra), audience=supplier_audience(supplier)
    )


def request_event(event_type: str, request: Any) -> Event:
    return emit(event_type, request_payload(request), audience=[request.owner_id])


def run_event(run: Any, owner_id: object) -> Event:
    event_type = (
        EventType.MATCH_RUN_SUCCEEDED if run.status == "succeeded" else EventType.MATCH_RUN_FAILED
    )
    return emit(event_type, run_payload(run), audience=[owner_id])


def match_event(event_type: str, match: Any, **extra: Any) -> Event:
    audience = [match.request.owner_id]
    if event_type != EventType.MATCH_SHORTLISTED:  # a shortlist is the buyer's own business
        audience += supplier_audience(match.supplier)
    return emit(event_type, match_payload(match, **extra), audience=audience)


def import_event(job: Any) -> Event:
    return emit(EventType.IMPORT_FINISHED, import_payload(job), audience=[job.owner_id])
