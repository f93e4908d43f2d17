"""Writes for calls for collaboration: the call's lifecycle, NDA acknowledgements and
expressions of interest with the poster's decisions. Views validate; these decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from matching.collaboration import runs
from matching.collaboration.access import call_is_poster, nda_acknowledged_by, nda_digest
from matching.collaboration.choices import TRANSITIONS, CallStatus, InterestStatus, Party
from matching.collaboration.models import (
    CallMatch,
    CallRun,
    CollaborationCall,
    ExpressionOfInterest,
    NdaAcknowledgement,
)
from remag.accounts.caller import Caller
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization, User
from remag.errors import Conflict, InvalidInput, NotAllowed
from remag.webhooks import events
from remag.webhooks.choices import EventType
from suppliers.access import supplier_can_change
from suppliers.choices import SupplierStatus
from suppliers.models import Supplier

M2M_FIELDS = ("required_capabilities", "required_facilities", "preferred_facilities")
# Changing one of these on an open call rescores it.
CRITERIA_FIELDS = (*M2M_FIELDS, "topic", "summary", "latitude", "longitude")
EDITABLE = (CallStatus.DRAFT, CallStatus.OPEN)


@dataclass(frozen=True)
class Actor:
    caller: Caller
    user: User | None


# ------------------------------------------------------------------ calls


def _check(call: CollaborationCall) -> None:
    if call.timeframe_start and call.timeframe_end and call.timeframe_end < call.timeframe_start:
        raise InvalidInput("The timeframe ends before it starts.", field="timeframe_end")
    if call.requires_nda and not call.nda_text.strip():
        raise InvalidInput("A call that requires an NDA states its text.", field="nda_text")
    if (call.latitude is None) != (call.longitude is None):
        raise InvalidInput("Give both latitude and longitude, or neither.", field="longitude")
    if (
        call.response_deadline
        and call.timeframe_end
        and call.response_deadline > call.timeframe_end
    ):
        raise InvalidInput(
            "The response deadline falls after the collaboration's timeframe ends.",
            field="response_deadline",
        )


def _contact_check(call: CollaborationCall) -> None:
    """An open call states the contact its respondents receive on consent."""
    if call.status == CallStatus.OPEN and not call.contact_email.strip():
        raise InvalidInput(
            "An open call states the contact email shared with respondents on consent.",
            field="contact_email",
        )


def _apply(call: CollaborationCall, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if name not in M2M_FIELDS:
            setattr(call, name, value)
    _check(call)
    call.save()
    for name in M2M_FIELDS:
        if name in data:
            getattr(call, name).set(data[name])
    if not call.required_capabilities.exists():
        raise InvalidInput("Name at least one required capability.", field="required_capabilities")


@transaction.atomic
def call_create(
    *, owner: Organization, created_by: User | None, data: dict[str, Any]
) -> CollaborationCall:
    call = CollaborationCall(owner=owner, created_by=created_by)
    _apply(call, data)
    return call


@transaction.atomic
def call_update(
    *, call: CollaborationCall, data: dict[str, Any], by: User | None
) -> CollaborationCall:
    """Change a draft or open call; an open one is matched again when its criteria change."""
    call = CollaborationCall.objects.select_for_update().get(id=call.id)
    if call.status not in EDITABLE:
        raise Conflict(
            f"The call is {call.status}; only draft and open calls can be changed.",
            code="call_not_editable",
            current_status=call.status,
        )
    deadline = data.get("response_deadline")
    if deadline is not None and deadline < timezone.localdate():
        raise InvalidInput("The response deadline is in the past.", field="response_deadline")
    nda_before = nda_digest(call.nda_text) if call.requires_nda else None
    _apply(call, data)
    _contact_check(call)
    if call.status == CallStatus.OPEN and nda_before is not None:
        _nda_changed(call, nda_before)
    if call.status == CallStatus.OPEN and set(data) & set(CRITERIA_FIELDS):
        runs.call_run_create(call=call, trigger="update", triggered_by=by)
    return call


def _nda_changed(call: CollaborationCall, digest_before: str) -> None:
    """The poster changed (or dropped) an open call's NDA: the organisations that had
    acknowledged the old text hear that the details wait for a new acknowledgement (or
    are public now)."""
    if call.requires_nda and nda_digest(call.nda_text) == digest_before:
        return
    acknowledged = NdaAcknowledgement.objects.filter(call=call, text_sha256=digest_before)
    organizations = set(acknowledged.values_list("organization_id", flat=True))
    events.call_event(
        EventType.CALL_NDA_CHANGED, call, audience=[call.owner_id, *sorted(organizations, key=str)]
    )


def _move(call: CollaborationCall, allowed_from: tuple[str, ...], to: str, verb: str) -> Any:
    locked = CollaborationCall.objects.select_for_update().get(id=call.id)
    if locked.status not in allowed_from:
        raise Conflict(
            f"A {locked.status} call cannot be {verb}.",
            code="call_status_conflict",
            current_status=locked.status,
        )
    locked.status = to
    return locked


def _respondents(call: CollaborationCall) -> list[object]:
    audience: list[object] = []
    for interest in ExpressionOfInterest.objects.filter(call=call).select_related("supplier"):
        audience += respondent_audience(interest)
    return audience


@transaction.atomic
def call_open(*, call: CollaborationCall, by: User | None) -> tuple[CollaborationCall, CallRun]:
    """Open a draft: organisations may see it and answer; matching starts (on commit)."""
    call = _move(call, (CallStatus.DRAFT,), CallStatus.OPEN, "opened")
    if call.response_deadline is not None and call.response_deadline < timezone.localdate():
        raise InvalidInput(
            "The response deadline has passed; change it before opening.",
            field="response_deadline",
        )
    _contact_check(call)
    call.opened_at = timezone.now()
    call.save(update_fields=["status", "opened_at", "updated_at"])
    events.call_event(EventType.CALL_OPENED, call, audience=[call.owner_id])
    run, _ = runs.call_run_create(call=call, trigger="open", triggered_by=by)
    return call, run


@transaction.atomic
def call_close(*, call: CollaborationCall) -> CollaborationCall:
    """No new expressions of interest; the poster may still shortlist and select."""
    call = _move(call, (CallStatus.OPEN,), CallStatus.CLOSED, "closed")
    call.closed_at = timezone.now()
    call.save(update_fields=["status", "closed_at", "updated_at"])
    events.call_event(EventType.CALL_CLOSED, call, audience=[call.owner_id, *_respondents(call)])
    return call


def calls_close_due() -> list[str]:
    """Close the open calls whose response deadline has passed (beat runs this; each
    close is its own transaction and emits ``collaboration_call.closed``). The ids closed."""
    closed = []
    due = CollaborationCall.objects.filter(
        status=CallStatus.OPEN, response_deadline__lt=timezone.localdate()
    ).values_list("id", flat=True)
    for call_id in list(due):
        try:
            call_close(call=CollaborationCall(id=call_id))
        except Conflict:  # closed, cancelled or awarded meanwhile
            continue
        closed.append(str(call_id))
    return closed


@transaction.atomic
def call_cancel(*, call: CollaborationCall) -> CollaborationCall:
    call = _move(
        call,
        (CallStatus.DRAFT, CallStatus.OPEN, CallStatus.CLOSED),
        CallStatus.CANCELLED,
        "cancelled",
    )
    call.closed_at = timezone.now()
    call.save(update_fields=["status", "closed_at", "updated_at"])
    events.call_event(EventType.CALL_CANCELLED, call, audience=[call.owner_id, *_respondents(call)])
    return call


# ------------------------------------------------------------------ NDA


@transaction.atomic
def nda_acknowledge(
    *, call: CollaborationCall, organization: Organization, actor: Actor
) -> tuple[NdaAcknowledgement, bool]:
    """Record that ``organization`` acknowledged the call's current NDA text (who, when,
    the text's digest). Acknowledging again returns the first record: ``(ack, created)``."""
    call = CollaborationCall.objects.select_for_update().get(id=call.id)
    if not call.requires_nda:
        raise Conflict("This call requires no NDA.", code="nda_not_required")
    if call.owner_id == organization.id:
        raise InvalidInput("The poster does not acknowledge its own NDA.", field="organization")
    if organization.kind == OrganizationKind.OPERATOR:
        raise InvalidInput(
            "Operators read every call's details already; the operator organisation does "
            "not acknowledge NDAs (acknowledgements bind a party to the collaboration).",
            field="organization",
        )
    if call.status != CallStatus.OPEN:
        raise Conflict(
            f"The call is {call.status}; NDAs are acknowledged while it is open.",
            code="call_not_open",
            current_status=call.status,
        )
    digest = nda_digest(call.nda_text)
    existing = NdaAcknowledgement.objects.filter(
        call=call, organization=organization, text_sha256=digest
    ).first()
    if existing is not None:
        return existing, False
    ack = NdaAcknowledgement.objects.create(
        call=call,
        organization=organization,
        by_user=actor.user,
        by_api_key=actor.caller.api_key_id,
        acknowledged_at=timezone.now(),
        text_sha256=digest,
    )
    events.call_event(
        EventType.CALL_NDA_ACKNOWLEDGED,
        call,
        audience=[call.owner_id, organization.id],
        acknowledgement=ack,
    )
    return ack, True


# ------------------------------------------------------------------ expressions of interest


def respondent_audience(interest: ExpressionOfInterest) -> list[object]:
    """The responding side: the supplier's audience (its owner, and its onboarding portal
    until claimed), or the R&D institution that answered without a supplier profile."""
    if interest.supplier_id is None:
        return [interest.organization_id]
    return list(events.supplier_audience(interest.supplier))


def _interest_audience(interest: ExpressionOfInterest) -> list[object]:
    return [interest.call.owner_id, *respondent_audience(interest)]


def _interest_event(event_type: str, interest: ExpressionOfInterest) -> None:
    events.call_event(
        event_type, interest.call, audience=_interest_audience(interest), interest=interest
    )


@dataclass(frozen=True)
class Respondent:
    """Who answers: a supplier profile the caller manages, or (``supplier`` None) an R&D
    institution of the caller's, with the contact to share on consent."""

    supplier: Supplier | None = None
    organization: Organization | None = None
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""


def _respondent_check(call: CollaborationCall, respondent: Respondent, actor: Actor) -> Any:
    """The responding organisation's id, once the caller may answer for it."""
    supplier = respondent.supplier
    if supplier is None:
        organization = respondent.organization
        if organization is None or not actor.caller.acts_for(organization.id):
            raise InvalidInput("You do not answer for this organisation.", field="organization")
        if organization.kind != OrganizationKind.RESEARCH or not organization.is_active:
            raise InvalidInput(
                "Without a supplier profile, only an active R&D institution answers.",
                field="organization",
            )
        if not respondent.contact_email:
            raise InvalidInput(
                "An R&D institution answering states the contact to share.",
                field="contact_email",
            )
        if organization.id == call.owner_id:
            raise InvalidInput("The poster does not answer its own call.", field="organization")
        return organization.id
    if not supplier_can_change(caller=actor.caller, supplier=supplier) or (
        actor.caller.is_operator and not actor.caller.acts_for(supplier.owner_id)
    ):
        raise InvalidInput("You do not answer for this supplier.", field="supplier")
    if supplier.owner_id == call.owner_id:
        raise InvalidInput("The poster does not answer its own call.", field="supplier")
    if not supplier.is_active or supplier.status != SupplierStatus.ACTIVE:
        raise InvalidInput("Only an active, verified supplier may answer.", field="supplier")
    return supplier.owner_id


@transaction.atomic
def interest_submit(
    *,
    call: CollaborationCall,
    respondent: Respondent,
    message: str,
    proposed_approach: str,
    actor: Actor,
) -> ExpressionOfInterest:
    """A supplier the caller manages, or an R&D institution of the caller's without a
    supplier profile, answers an open call (matched or not). A call that requires an NDA
    needs the responding organisation to have acknowledged it first."""
    call = CollaborationCall.objects.select_for_update().get(id=call.id)
    organization_id = _respondent_check(call, respondent, actor)
    supplier = respondent.supplier
    if call.status != CallStatus.OPEN:
        raise Conflict(
            f"The call is {call.status}; only open calls take expressions of interest.",
            code="call_not_open",
            current_status=call.status,
        )
    if call.response_deadline is not None and call.response_deadline < timezone.localdate():
        raise Conflict("The response deadline has passed.", code="deadline_passed")
    if call.requires_nda and not nda_acknowledged_by(call=call, organization_ids=[organization_id]):
        raise Conflict(
            "This call requires its NDA to be acknowledged (POST .../nda/) by the "
            "responding organisation first.",
            code="nda_required",
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            interest = ExpressionOfInterest.objects.create(
                call=call,
                supplier=supplier,
                organization_id=organization_id,
                match=(
                    CallMatch.objects.filter(call=call, supplier=supplier).first()
                    if supplier is not None
                    else None
                ),
                message=message,
                proposed_approach=proposed_approach,
                contact_name=respondent.contact_name if supplier is None else "",
                contact_email=respondent.contact_email if supplier is None else "",
                contact_phone=respondent.contact_phone if supplier is None else "",
                submitted_at=now,
                status_changed_at=now,
                created_by=actor.user,
            )
    except IntegrityError:
        who = "supplier" if supplier is not None else "organisation"
        raise Conflict(
            f"This {who} already expressed interest in the call.", code="interest_exists"
        ) from None
    _interest_event(EventType.INTEREST_SUBMITTED, interest)
    return interest


INTEREST_EVENTS = {
    InterestStatus.SHORTLISTED: EventType.INTEREST_SHORTLISTED,
    InterestStatus.SELECTED: EventType.INTEREST_SELECTED,
    InterestStatus.DECLINED: EventType.INTEREST_DECLINED,
    InterestStatus.WITHDRAWN: EventType.INTEREST_WITHDRAWN,
}


def parties_of(caller: Caller, interest: ExpressionOfInterest) -> set[str]:
    """Which sides the caller acts for (operators see everything but decide nothing)."""
    parties = set()
    if caller.acts_for(interest.call.owner_id):
        parties.add(Party.POSTER)
    supplier = interest.supplier
    if caller.acts_for(interest.organization_id) or (
        supplier is not None
        and supplier_can_change(caller=caller, supplier=supplier)
        and not caller.is_operator
    ):
        parties.add(Party.RESPONDENT)
    return parties


@transaction.atomic
def interest_transition(
    *, interest: ExpressionOfInterest, to_status: str, actor: Actor, note: str = ""
) -> ExpressionOfInterest:
    """Move an expression of interest. The poster shortlists, selects or declines; the
    respondent withdraws. A shortlist or a selection is the poster's consent: with the
    respondent's (its expression of interest) contact details are shared both ways. A
    selection marks the call awarded."""
    interest = (
        ExpressionOfInterest.objects.select_for_update(of=("self",))
        .select_related("call", "supplier")
        .get(id=interest.id)
    )
    party = TRANSITIONS.get((interest.status, to_status))
    parties = parties_of(actor.caller, interest)
    if party is None:
        raise Conflict(
            f"An expression of interest that is {interest.status} cannot become {to_status}.",
            code="transition_not_allowed",
            current_status=interest.status,
        )
    if party not in parties:
        who = "the poster" if party == Party.POSTER else "the respondent"
        raise NotAllowed(f"Only {who} may move an expression of interest to {to_status}.")
    call = CollaborationCall.objects.select_for_update().get(id=interest.call_id)
    if call.status in (CallStatus.CANCELLED, CallStatus.DRAFT):
        raise Conflict(f"The call is {call.status}.", code="call_status_conflict")
    # One partner per call: once an expression of interest is selected (the call
    # awarded), nobody else is shortlisted or selected; the others may still be declined
    # or withdraw.
    if to_status in (InterestStatus.SHORTLISTED, InterestStatus.SELECTED) and (
        call.status == CallStatus.AWARDED
        or ExpressionOfInterest.objects.filter(call=call, status=InterestStatus.SELECTED).exists()
    ):
        raise Conflict(
            "The call is awarded: one expression of interest is already selected.",
            code="call_already_awarded",
            current_status=call.status,
        )
    now = timezone.now()
    interest.status = to_status
    interest.status_changed_at = now
    if note:
        interest.decision_note = note[:500]
    shares = (
        to_status in (InterestStatus.SHORTLISTED, InterestStatus.SELECTED)
        and interest.contact_shared_at is None
    )
    if shares:
        interest.contact_shared_at = now
    interest.save()
    interest.call = call
    _interest_event(INTEREST_EVENTS[to_status], interest)
    if shares:
        _interest_event(EventType.INTEREST_CONTACT_SHARED, interest)
    if to_status == InterestStatus.SELECTED and call.status in (CallStatus.OPEN, CallStatus.CLOSED):
        call.status = CallStatus.AWARDED
        call.closed_at = call.closed_at or now
        call.save(update_fields=["status", "closed_at", "updated_at"])
        events.call_event(
            EventType.CALL_AWARDED, call, audience=[call.owner_id, *_respondents(call)]
        )
    return interest


def call_owner_check(*, caller: Caller, call: CollaborationCall) -> None:
    if not call_is_poster(caller=caller, call=call):
        raise NotAllowed("Only the poster's members may do this.")
