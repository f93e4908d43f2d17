"""Write events with the change they describe (an outbox), and fan them out to webhooks.

Call :func:`emit` inside the service's transaction: the event, its audience and one
delivery per subscribed endpoint are written with the change or not at all, and the
deliveries are sent to the broker only after the commit. If the message is lost, the
sweep finds the pending delivery.

``PAYLOAD_SHAPES`` below is the one place each event type's payload is defined: the
builders and the OpenAPI schema (``remag/webhooks/api/serializers.py``) both use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
# The one statement of every event type's payload: the builders below and the OpenAPI
# schema (remag/webhooks/api/serializers.py builds one component per type from
# PAYLOAD_SHAPES) both read it, so a member added here is sent and documented at once.


@dataclass(frozen=True)
class Member:
    """One member of a payload: its JSON kind and where its value comes from.

    ``kind`` is ``uuid``, ``string``, ``integer``, ``number``, ``date``, ``datetime``,
    ``boolean`` or ``url``;
    ``source`` is the object's attribute when it is not the member's name; ``choices``
    lists the values a string may take.
    """

    kind: str
    source: str | None = None
    nullable: bool = False
    choices: tuple[str, ...] = ()


# An object referred to by an event: its members.
Shape = dict[str, Member]

SUPPLIER: Shape = {
    "id": Member("uuid"),
    "legal_name": Member("string"),
    "udyam_number": Member("string"),
    "state": Member("string"),
    "status": Member("string"),
}
REQUEST: Shape = {
    "id": Member("uuid"),
    "title": Member("string"),
    "layer": Member("string"),
    "status": Member("string"),
    "needed_by": Member("date", nullable=True),
}
RUN: Shape = {
    "id": Member("uuid"),
    "request": Member("uuid", source="request_id"),
    "status": Member("string"),
    "candidate_count": Member("integer"),
    "matched_count": Member("integer"),
    "error": Member("string"),
}
# A match event reaches the supplier too: its score is the public one, the score the
# supplier reads (matching.scoring.public_weights), never the buyer's ranking score.
MATCH: Shape = {
    "id": Member("uuid"),
    "request": Member("uuid", source="request_id"),
    "supplier": Member("uuid", source="supplier_id"),
    "status": Member("string"),
    "score": Member("number", source="public_score"),
}
IMPORT: Shape = {
    "id": Member("uuid"),
    "status": Member("string"),
    "rows_total": Member("integer"),
    "created_count": Member("integer"),
    "updated_count": Member("integer"),
    "unchanged_count": Member("integer"),
    "failed_count": Member("integer"),
}
# The deal after the match. No price, quantity or term of a quotation is ever in an
# event: a quotation event reaches the buyer while quotations are sealed, and an event
# has one payload for its whole audience (docs/procurement.md, "Events").
QUOTATION_REQUEST: Shape = {
    "id": Member("uuid"),
    "request": Member("uuid", source="request_id"),
    "status": Member("string"),
    "deadline": Member("datetime"),
}
QUOTATION: Shape = {
    "id": Member("uuid"),
    "quotation_request": Member("uuid", source="quotation_request_id"),
    "match": Member("uuid", source="match_id"),
    "supplier": Member("uuid", source="supplier_id"),
    "status": Member("string"),
    "revision": Member("integer"),
}
ORDER: Shape = {
    "id": Member("uuid"),
    "request": Member("uuid", source="request_id"),
    "match": Member("uuid", source="match_id"),
    "supplier": Member("uuid", source="supplier_id"),
    "status": Member("string"),
    "delivery_date": Member("date"),
}
DELIVERY: Shape = {
    "id": Member("uuid"),
    "delivered_on": Member("date"),
    "on_time": Member("boolean"),
}
PAYMENT: Shape = {"id": Member("uuid"), "received_on": Member("date")}
# Calls for collaboration: only what every signed-in caller may read of a call (never its
# confidential details); an interest names the call and the responding supplier (null
# for an R&D institution answering without one) and organisation.
CALL: Shape = {
    "id": Member("uuid"),
    "kind": Member("string"),
    "topic": Member("string"),
    "status": Member("string"),
    "response_deadline": Member("date", nullable=True),
}
CALL_RUN: Shape = {
    "id": Member("uuid"),
    "call": Member("uuid", source="call_id"),
    "status": Member("string"),
    "candidate_count": Member("integer"),
    "matched_count": Member("integer"),
    "error": Member("string"),
}
INTEREST: Shape = {
    "id": Member("uuid"),
    "call": Member("uuid", source="call_id"),
    "supplier": Member("uuid", source="supplier_id", nullable=True),
    "organization": Member("uuid", source="organization_id"),
    "status": Member("string"),
}
# A supplier's own match to a call (for the supplier's side: no other candidate's), with
# the score it reads: without the distance to the poster's location.
CALL_MATCH: Shape = {
    "id": Member("uuid"),
    "supplier": Member("uuid", source="supplier_id"),
    "score": Member("number", source="public_score"),
}
NDA: Shape = {
    "id": Member("uuid"),
    "call": Member("uuid", source="call_id"),
    "organization": Member("uuid", source="organization_id"),
    "acknowledged_at": Member("datetime"),
}
ENDPOINT: Shape = {"id": Member("uuid"), "url": Member("url")}
ORGANIZATION: Shape = {"id": Member("uuid"), "name": Member("string")}

# The magnet market (docs/magnets.md). A requirement event never names its buyer: its
# audience is the buyer itself; a pool event carries no member's identity.
MAGNET_OFFER: Shape = {
    "id": Member("uuid"),
    "title": Member("string"),
    "material": Member("string"),
    "status": Member("string"),
    "valid_until": Member("date", nullable=True),
}
MAGNET_REQUIREMENT: Shape = {
    "id": Member("uuid"),
    "title": Member("string"),
    "application": Member("string"),
    "grade": Member("string"),
    "status": Member("string"),
    "needed_from": Member("date"),
}
MAGNET_RUN: Shape = {
    "id": Member("uuid"),
    "direction": Member("string", choices=("requirement", "offer")),
    "requirement": Member("uuid", source="requirement_id", nullable=True),
    "offer": Member("uuid", source="offer_id", nullable=True),
    "status": Member("string"),
    "candidate_count": Member("integer"),
    "matched_count": Member("integer"),
    "error": Member("string"),
}
# To the buyer and the maker: the public score, the one the maker reads.
MAGNET_MATCH: Shape = {
    "id": Member("uuid"),
    "requirement": Member("uuid", source="requirement_id"),
    "offer": Member("uuid", source="offer_id"),
    "status": Member("string"),
    "score": Member("number", source="public_score"),
}
MAGNET_POOL: Shape = {
    "id": Member("uuid"),
    "grade": Member("string"),
    "shape": Member("string"),
    "delivery_state": Member("string"),
    "status": Member("string"),
    "member_count": Member("integer"),
    "quantity_kg_per_month": Member("number", source="quantity_kg_float"),
    "answered_offer": Member("uuid", source="answered_offer_id", nullable=True),
}

REASON = Member("string")
ANSWER = Member("string", choices=("interested", "declined"))

# Each event type's payload: an object (a Shape) or a plain member per top-level key.
PAYLOAD_SHAPES: dict[str, dict[str, Shape | Member]] = {
    EventType.SUPPLIER_CREATED: {"supplier": SUPPLIER},
    EventType.SUPPLIER_VERIFIED: {"supplier": SUPPLIER},
    EventType.SUPPLIER_SUSPENDED: {"supplier": SUPPLIER, "reason": REASON},
    EventType.SUPPLIER_CLAIMED: {
        "supplier": SUPPLIER,
        "claimed_by": ORGANIZATION,
        "method": Member("string", choices=("code", "operator")),
        "portal_access": Member("string", choices=("delegated", "ended")),
    },
    EventType.REQUEST_PUBLISHED: {"request": REQUEST},
    EventType.REQUEST_CLOSED: {"request": REQUEST},
    EventType.MATCH_RUN_SUCCEEDED: {"run": RUN},
    EventType.MATCH_RUN_FAILED: {"run": RUN},
    EventType.MATCH_SHORTLISTED: {"match": MATCH},
    EventType.MATCH_INVITED: {"match": MATCH},
    EventType.MATCH_RESPONDED: {"match": MATCH, "answer": ANSWER},
    EventType.MATCH_AWARDED: {"match": MATCH},
    EventType.QUOTATION_REQUESTED: {"quotation_request": QUOTATION_REQUEST},
    EventType.QUOTATION_SUBMITTED: {"quotation": QUOTATION},
    EventType.QUOTATION_REVISED: {"quotation": QUOTATION},
    EventType.QUOTATION_WITHDRAWN: {"quotation": QUOTATION},
    EventType.QUOTATION_NOT_SELECTED: {
        "quotation_request": QUOTATION_REQUEST,
        "match": MATCH,
        "reason": REASON,
    },
    EventType.ORDER_CREATED: {"order": ORDER},
    EventType.ORDER_DELIVERY_RECORDED: {"order": ORDER, "delivery": DELIVERY},
    EventType.ORDER_PAYMENT_RECORDED: {"order": ORDER, "payment": PAYMENT},
    EventType.CALL_OPENED: {"call": CALL},
    EventType.CALL_CLOSED: {"call": CALL},
    EventType.CALL_CANCELLED: {"call": CALL},
    EventType.CALL_AWARDED: {"call": CALL},
    EventType.CALL_MATCHED: {"call": CALL, "call_run": CALL_RUN},
    EventType.CALL_MATCH_FAILED: {"call": CALL, "call_run": CALL_RUN},
    EventType.CALL_MATCHED_YOU: {"call": CALL, "match": CALL_MATCH},
    EventType.CALL_NDA_CHANGED: {"call": CALL},
    EventType.CALL_NDA_ACKNOWLEDGED: {"call": CALL, "acknowledgement": NDA},
    EventType.INTEREST_SUBMITTED: {"call": CALL, "interest": INTEREST},
    EventType.INTEREST_WITHDRAWN: {"call": CALL, "interest": INTEREST},
    EventType.INTEREST_SHORTLISTED: {"call": CALL, "interest": INTEREST},
    EventType.INTEREST_SELECTED: {"call": CALL, "interest": INTEREST},
    EventType.INTEREST_DECLINED: {"call": CALL, "interest": INTEREST},
    EventType.INTEREST_CONTACT_SHARED: {"call": CALL, "interest": INTEREST},
    EventType.MAGNET_OFFER_PUBLISHED: {"magnet_offer": MAGNET_OFFER},
    EventType.MAGNET_OFFER_WITHDRAWN: {"magnet_offer": MAGNET_OFFER},
    EventType.MAGNET_OFFER_EXPIRED: {"magnet_offer": MAGNET_OFFER},
    EventType.MAGNET_REQUIREMENT_OPENED: {"magnet_requirement": MAGNET_REQUIREMENT},
    EventType.MAGNET_REQUIREMENT_CLOSED: {"magnet_requirement": MAGNET_REQUIREMENT},
    EventType.MAGNET_RUN_SUCCEEDED: {"magnet_run": MAGNET_RUN},
    EventType.MAGNET_RUN_FAILED: {"magnet_run": MAGNET_RUN},
    EventType.MAGNET_MATCH_INTERESTED: {"magnet_match": MAGNET_MATCH},
    EventType.MAGNET_MATCH_DISMISSED: {"magnet_match": MAGNET_MATCH},
    EventType.MAGNET_MATCH_ANSWERED: {
        "magnet_match": MAGNET_MATCH,
        "decision": Member("string", choices=("accepted", "declined")),
    },
    EventType.MAGNET_MATCH_OUTCOME: {
        "magnet_match": MAGNET_MATCH,
        "outcome": Member("string", choices=("good", "poor")),
    },
    EventType.MAGNET_MATCH_OFFER_ENDED: {
        "magnet_match": MAGNET_MATCH,
        "offer_status": Member("string", choices=("withdrawn", "expired")),
    },
    EventType.MAGNET_POOL_FORMED: {"magnet_pool": MAGNET_POOL},
    EventType.MAGNET_POOL_JOINED: {"magnet_pool": MAGNET_POOL},
    EventType.MAGNET_POOL_ANSWERED: {"magnet_pool": MAGNET_POOL},
    EventType.MAGNET_POOL_DISSOLVED: {"magnet_pool": MAGNET_POOL},
    EventType.IMPORT_FINISHED: {"import": IMPORT},
    EventType.WEBHOOK_DISABLED: {"endpoint": ENDPOINT, "reason": REASON},
    EventType.WEBHOOK_PING: {"endpoint": ENDPOINT},
}


def _value(member: Member, value: Any) -> Any:
    if value is None:
        return None
    if member.kind == "uuid":
        return str(value)
    if member.kind in ("date", "datetime"):
        return value.isoformat()
    return value


def object_payload(shape: Shape, obj: Any) -> dict[str, Any]:
    """``obj`` as the members of ``shape``."""
    return {
        name: _value(member, getattr(obj, member.source or name)) for name, member in shape.items()
    }


def supplier_payload(supplier: Any, **extra: Any) -> dict[str, Any]:
    return {"supplier": object_payload(SUPPLIER, supplier), **extra}


def supplier_audience(supplier: Any) -> list[object]:
    audience = [supplier.owner_id]
    if supplier.claimed_at is None and supplier.onboarded_by_id:
        audience.append(supplier.onboarded_by_id)
    return audience


def request_payload(request: Any) -> dict[str, Any]:
    return {"request": object_payload(REQUEST, request)}


def run_payload(run: Any) -> dict[str, Any]:
    return {"run": object_payload(RUN, run)}


def match_payload(match: Any, **extra: Any) -> dict[str, Any]:
    return {"match": object_payload(MATCH, match), **extra}


def quotation_request_payload(rfq: Any, **extra: Any) -> dict[str, Any]:
    return {"quotation_request": object_payload(QUOTATION_REQUEST, rfq), **extra}


def quotation_payload(quotation: Any, **extra: Any) -> dict[str, Any]:
    return {"quotation": object_payload(QUOTATION, quotation), **extra}


def order_payload(order: Any, **extra: Any) -> dict[str, Any]:
    return {"order": object_payload(ORDER, order), **extra}


def magnet_offer_payload(offer: Any) -> dict[str, Any]:
    return {"magnet_offer": object_payload(MAGNET_OFFER, offer)}


def magnet_requirement_payload(requirement: Any) -> dict[str, Any]:
    return {"magnet_requirement": object_payload(MAGNET_REQUIREMENT, requirement)}


def magnet_run_payload(run: Any) -> dict[str, Any]:
    return {"magnet_run": object_payload(MAGNET_RUN, run)}


def magnet_match_payload(match: Any, **extra: Any) -> dict[str, Any]:
    return {"magnet_match": object_payload(MAGNET_MATCH, match), **extra}


def magnet_pool_payload(pool: Any) -> dict[str, Any]:
    return {"magnet_pool": object_payload(MAGNET_POOL, pool)}


def import_payload(job: Any) -> dict[str, Any]:
    return {"import": object_payload(IMPORT, job)}


def call_payload(call: Any, **extra: Any) -> dict[str, Any]:
    return {"call": object_payload(CALL, call), **extra}


def endpoint_payload(endpoint: WebhookEndpoint, **extra: Any) -> dict[str, Any]:
    return {"endpoint": object_payload(ENDPOINT, endpoint), **extra}


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


def quotation_request_event(rfq: Any, audience: Iterable[object]) -> Event:
    """To the buyer and every invited SME: the call and its deadline (never who else)."""
    return emit(EventType.QUOTATION_REQUESTED, quotation_request_payload(rfq), audience=audience)


def quotation_event(event_type: str, quotation: Any, buyer_id: object, **extra: Any) -> Event:
    """To the quoting SME and the buyer: that it quoted, never what."""
    audience = [buyer_id, *supplier_audience(quotation.supplier)]
    return emit(event_type, quotation_payload(quotation, **extra), audience=audience)


def not_selected_event(rfq: Any, match: Any, *, reason: str) -> Event:
    """To one invited SME that was not awarded (and the buyer), with the buyer's reason."""
    audience = [match.request.owner_id, *supplier_audience(match.supplier)]
    payload = quotation_request_payload(rfq, match=object_payload(MATCH, match), reason=reason)
    return emit(EventType.QUOTATION_NOT_SELECTED, payload, audience=audience)


def order_event(event_type: str, order: Any, **extra: Any) -> Event:
    """To the order's two parties."""
    audience = [order.buyer_id, *supplier_audience(order.supplier)]
    payload = order_payload(
        order, **{name: object_payload(shape, obj) for name, (shape, obj) in extra.items()}
    )
    return emit(event_type, payload, audience=audience)


def magnet_offer_event(event_type: str, offer: Any) -> Event:
    """To the maker."""
    return emit(event_type, magnet_offer_payload(offer), audience=[offer.owner_id])


def magnet_requirement_event(event_type: str, requirement: Any) -> Event:
    """To the buyer."""
    return emit(
        event_type, magnet_requirement_payload(requirement), audience=[requirement.owner_id]
    )


def magnet_run_event(run: Any, owner_id: object) -> Event:
    """To the owner of the run's requirement or offer."""
    event_type = (
        EventType.MAGNET_RUN_SUCCEEDED if run.status == "succeeded" else EventType.MAGNET_RUN_FAILED
    )
    return emit(event_type, magnet_run_payload(run), audience=[owner_id])


def magnet_match_event(event_type: str, match: Any, **extra: Any) -> Event:
    """To the buyer and the maker (the buyer's interest is what shares its identity); a
    dismissal is the buyer's own business."""
    audience = [match.requirement.owner_id]
    if event_type != EventType.MAGNET_MATCH_DISMISSED:
        audience.append(match.offer.owner_id)
    return emit(event_type, magnet_match_payload(match, **extra), audience=audience)


def magnet_pool_event(event_type: str, pool: Any, audience: Iterable[object]) -> Event:
    """To the members' buyers (and the answering maker): the pool, never who is in it."""
    return emit(event_type, magnet_pool_payload(pool), audience=audience)


def import_event(job: Any) -> Event:
    return emit(EventType.IMPORT_FINISHED, import_payload(job), audience=[job.owner_id])


def call_event(event_type: str, call: Any, *, audience: Iterable[object], **extra: Any) -> Event:
    """A call for collaboration's event: the call's public members, and ``extra`` objects
    by payload key (``call_run=...``, ``interest=...``, ``acknowledgement=...``,
    ``match=...``)."""
    shapes = PAYLOAD_SHAPES[event_type]
    objects = {name: object_payload(shapes[name], obj) for name, obj in extra.items()}  # type: ignore[arg-type]
    return emit(event_type, call_payload(call, **objects), audience=audience)
