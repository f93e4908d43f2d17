"""Writes for procurement requests and the match lifecycle. Views validate; these decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from matching.choices import TRANSITIONS, MatchStatus, Party, RequestStatus, RunTrigger
from matching.models import Match, MatchRun, MatchTransition, ProcurementRequest
from matching.runs import match_run_create
from remag.accounts.caller import Caller
from remag.accounts.models import Organization, User
from remag.errors import Conflict, InvalidInput, NotAllowed
from remag.webhooks import events
from remag.webhooks.choices import EventType
from suppliers.access import supplier_can_change

M2M_FIELDS = (
    "required_capabilities",
    "required_certifications",
    "preferred_certifications",
    "grades",
)
# Changing one of these on an open request rescoring it.
CRITERIA_FIELDS = (
    *M2M_FIELDS,
    "title",
    "description",
    "layer",
    "grades_required",
    "materials",
    "quantity",
    "quantity_unit",
    "needed_by",
    "delivery_latitude",
    "delivery_longitude",
    "max_distance_km",
    "prefer_micro_small",
    "prefer_women_owned",
    "prefer_sc_st_owned",
    "weights",
)


# ------------------------------------------------------------------ requests


def _set_fields(request: ProcurementRequest, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if name not in M2M_FIELDS:
            setattr(request, name, value)


def _set_relations(request: ProcurementRequest, data: dict[str, Any]) -> None:
    for name in M2M_FIELDS:
        if name in data:
            getattr(request, name).set(data[name])


@transaction.atomic
def request_create(
    *, owner: Organization, created_by: User | None, data: dict[str, Any]
) -> ProcurementRequest:
    request = ProcurementRequest(owner=owner, created_by=created_by)
    _set_fields(request, data)
    request.save()
    _set_relations(request, data)
    return request


@transaction.atomic
def request_update(
    *, request: ProcurementRequest, data: dict[str, Any], by: User | None
) -> ProcurementRequest:
    """Change a draft or open request; an open one is rescored when its criteria change."""
    request = ProcurementRequest.objects.select_for_update().get(id=request.id)
    if not request.is_editable:
        raise Conflict(
            f"The request is {request.status}; only draft and open requests can be changed.",
            code="request_not_editable",
        )
    _set_fields(request, data)
    request.save()
    _set_relations(request, data)
    if request.status == RequestStatus.OPEN and set(data) & set(CRITERIA_FIELDS):
        match_run_create(request=request, trigger=RunTrigger.UPDATE, triggered_by=by)
    return request


def _move(
    request: ProcurementRequest, allowed_from: tuple[str, ...], to: str, verb: str
) -> ProcurementRequest:
    locked = ProcurementRequest.objects.select_for_update().get(id=request.id)
    if locked.status not in allowed_from:
        raise Conflict(
            f"A {locked.status} request cannot be {verb}.",
            code="request_status_conflict",
            current_status=locked.status,
        )
    locked.status = to
    return locked


@transaction.atomic
def request_publish(
    *, request: ProcurementRequest, by: User | None
) -> tuple[ProcurementRequest, MatchRun]:
    """Open a draft to suppliers and start matching it."""
    request = _move(request, (RequestStatus.DRAFT,), RequestStatus.OPEN, "published")
    if request.needed_by is not None and request.needed_by < timezone.localdate():
        raise InvalidInput(
            "The needed-by date has passed; change it before publishing.", field="needed_by"
        )
    request.published_at = timezone.now()
    request.save(update_fields=["status", "published_at", "updated_at"])
    events.request_event(EventType.REQUEST_PUBLISHED, request)
    run, _ = match_run_create(request=request, trigger=RunTrigger.PUBLISH, triggered_by=by)
    return request, run


@transaction.atomic
def request_close(*, request: ProcurementRequest) -> ProcurementRequest:
    """Stop taking suppliers; the matches stay for the buyer to finish the lifecycle."""
    request = _move(request, (RequestStatus.OPEN,), RequestStatus.CLOSED, "closed")
    request.closed_at = timezone.now()
    request.save(update_fields=["status", "closed_at", "updated_at"])
    events.request_event(EventType.REQUEST_CLOSED, request)
    return request


@transaction.atomic
def request_cancel(*, request: ProcurementRequest) -> ProcurementRequest:
    request = _move(
        request, (RequestStatus.DRAFT, RequestStatus.OPEN), RequestStatus.CANCELLED, "cancelled"
    )
    request.closed_at = timezone.now()
    request.save(update_fields=["status", "closed_at", "updated_at"])
    return request


# ------------------------------------------------------------------ the match lifecycle

# The lifecycle moves that portals hear about (``not_selected`` stays between the buyer
# and remag).
MATCH_EVENTS = {
    MatchStatus.SHORTLISTED: EventType.MATCH_SHORTLISTED,
    MatchStatus.INVITED: EventType.MATCH_INVITED,
    MatchStatus.INTERESTED: EventType.MATCH_RESPONDED,
    MatchStatus.DECLINED: EventType.MATCH_RESPONDED,
    MatchStatus.AWARDED: EventType.MATCH_AWARDED,
}


def parties_of(caller: Caller, match: Match) -> set[str]:
    """Which sides of ``match`` the caller acts for. Operators act for neither: they see
    every match but the decisions are the buyer's and the SME's."""
    parties = set()
    if caller.acts_for(match.request.owner_id):
        parties.add(Party.BUYER)
    supplier = match.supplier
    if caller.acts_for(supplier.owner_id) or (
        supplier_can_change(caller=caller, supplier=supplier) and not caller.is_operator
    ):
        parties.add(Party.SUPPLIER)
    return parties


@dataclass(frozen=True)
class Actor:
    caller: Caller
    user: User | None


def allowed_next(match: Match, parties: set[str]) -> list[str]:
    return [
        to for (frm, to), party in TRANSITIONS.items() if frm == match.status and party in parties
    ]


@transaction.atomic
def match_transition(
    *, match: Match, to_status: str, actor: Actor, note: str = "", by_award: bool = False
) -> Match:
    """Move ``match`` to ``to_status`` if the transition exists and the caller is the
    party it belongs to. Records who and when; an ``interested`` answer shares the SME's
    contact details with the buyer; an award marks the request awarded.

    Once the buyer has asked for quotations on the request, its matches are awarded or
    not selected only by the award of those quotations (``by_award``, from
    ``matching.procurement.services``): a direct transition would leave the quotations
    open and no order behind the award."""
    match = Match.objects.select_for_update().select_related("request", "supplier").get(id=match.id)
    if (
        not by_award
        and to_status in (MatchStatus.AWARDED, MatchStatus.NOT_SELECTED)
        and hasattr(match.request, "quotation_request")
    ):
        raise Conflict(
            "The buyer asked for quotations on this request: award them "
            "(POST /api/v1/quotation-requests/{id}/award/), which decides every invited match.",
            code="award_through_quotations",
        )
    party = TRANSITIONS.get((match.status, to_status))
    parties = parties_of(actor.caller, match)
    if party is None:
        raise Conflict(
            f"A match that is {match.status} cannot become {to_status}.",
            code="transition_not_allowed",
            current_status=match.status,
            allowed=allowed_next(match, parties),
        )
    if party not in parties:
        who = "the buyer" if party == Party.BUYER else "the invited SME"
        raise NotAllowed(f"Only {who} may move a match to {to_status}.")
    if match.request.status == RequestStatus.CANCELLED:
        raise Conflict("The request was cancelled.", code="request_cancelled")
    now = timezone.now()
    MatchTransition.objects.create(
        match=match,
        from_status=match.status,
        to_status=to_status,
        party=party,
        by_user=actor.user,
        by_api_key=actor.caller.api_key_id,
        by_organization_id=(
            match.request.owner_id if party == Party.BUYER else match.supplier.owner_id
        ),
        note=note[:500],
        at=now,
    )
    match.status = to_status
    match.status_changed_at = now
    fields = ["status", "status_changed_at", "updated_at"]
    if to_status == MatchStatus.INTERESTED:
        match.contact_shared_at = now
        fields.append("contact_shared_at")
    match.save(update_fields=fields)
    if to_status in MATCH_EVENTS:
        extra = (
            {"answer": to_status} if MATCH_EVENTS[to_status] == EventType.MATCH_RESPONDED else {}
        )
        events.match_event(MATCH_EVENTS[to_status], match, **extra)
    if to_status == MatchStatus.AWARDED and match.request.status in (
        RequestStatus.OPEN,
        RequestStatus.CLOSED,
    ):
        ProcurementRequest.objects.filter(id=match.request_id).update(
            status=RequestStatus.AWARDED, closed_at=match.request.closed_at or now, updated_at=now
        )
    return match


@transaction.atomic
def match_record_outcome(*, match: Match, outcome: str, actor: Actor) -> Match:
    """The buyer says how an awarded engagement went (kept with the match; the track record
    is scored from deliveries on orders since remag-2026.11.7)."""
    match = Match.objects.select_for_update().select_related("request", "supplier").get(id=match.id)
    if Party.BUYER not in parties_of(actor.caller, match):
        raise NotAllowed("Only the buyer records the outcome of an award.")
    if match.status != MatchStatus.AWARDED:
        raise Conflict(
            f"Only an awarded match has an outcome; this one is {match.status}.",
            code="not_awarded",
        )
    match.outcome = outcome
    match.save(update_fields=["outcome", "updated_at"])
    return match
