"""Writes for quotations, awards, orders, deliveries and payments. Views validate the
shape of the input; these decide, and record the events in the same transaction.

Who may do what (docs/procurement.md has the whole table):

* the buyer (members of the request's organisation) asks for quotations, awards,
  records deliveries;
* the matched SME (its members, or its onboarding portal while unclaimed) quotes,
  revises, withdraws, attaches files and confirms payments;
* operators read (the admin shows everything) but decide nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from matching.choices import MatchStatus, Party, RequestStatus
from matching.models import Match, ProcurementRequest
from matching.procurement.choices import (
    MSMED_MAX_PAYMENT_DAYS,
    OrderStatus,
    PaymentTermsFlag,
    QuotationRequestStatus,
    QuotationStatus,
)
from matching.procurement.files import sniff_content_type
from matching.procurement.models import (
    TERMS_FIELDS,
    Delivery,
    Order,
    Payment,
    Quotation,
    QuotationAttachment,
    QuotationRequest,
    QuotationRevision,
)
from matching.services import Actor, match_transition, parties_of
from remag.errors import Conflict, InvalidInput, NotAllowed, Ref, TooLarge
from remag.webhooks import events
from remag.webhooks.choices import EventType
from suppliers.choices import QUANTITY_TO_BASE, layer_dimensions
from suppliers.classification import financial_year_of
from suppliers.models import Supplier

MAX_ATTACHMENTS = 10
ZERO = Decimal(0)


# ------------------------------------------------------------------ rules shared


def size_is_current_micro_small(supplier: Supplier, *, day: date) -> bool:
    """Micro or small by a classification of this financial year (or undated): the size
    the MSMED Act's payment rule protects for certain (as in matching.candidates)."""
    year = supplier.classification_year
    return supplier.enterprise_size in ("micro", "small") and (
        year is None or year >= financial_year_of(day)
    )


def size_is_stale_micro_small(supplier: Supplier, *, day: date) -> bool:
    return supplier.enterprise_size in ("micro", "small") and not size_is_current_micro_small(
        supplier, day=day
    )


def is_unsealed(rfq: QuotationRequest, *, now: datetime | None = None) -> bool:
    """Whether the buyer may read the quotations: the deadline has passed, or every
    invited SME had answered when the buyer opened them (``opened_at``)."""
    now = now or timezone.now()
    return rfq.opened_at is not None or rfq.deadline <= now


def base_quantity(quantity: Decimal, unit: str) -> tuple[str, Decimal]:
    dimension, factor = QUANTITY_TO_BASE[unit]
    return dimension, quantity * factor


def _require_party(caller: Any, match: Match, party: str, doing: str) -> None:
    if party not in parties_of(caller, match):
        who = "the buyer" if party == Party.BUYER else "the matched SME"
        raise NotAllowed(f"Only {who} may {doing}.")


# ------------------------------------------------------------------ quotation requests


@transaction.atomic
def quotation_request_create(
    *, request: ProcurementRequest, deadline: datetime, message: str, actor: Actor
) -> QuotationRequest:
    """Ask the request's interested SMEs for quotations by ``deadline``."""
    request = ProcurementRequest.objects.select_for_update().get(id=request.id)
    if not actor.caller.acts_for(request.owner_id):
        raise NotAllowed("Only the buyer may ask for quotations.")
    if request.status not in (RequestStatus.OPEN, RequestStatus.CLOSED):
        raise Conflict(
            f"A {request.status} request takes no quotations.", code="request_status_conflict"
        )
    existing = QuotationRequest.objects.filter(request=request).first()
    if existing is not None:
        raise Conflict(
            "Quotations were already asked for on this request.",
            code="quotation_request_exists",
            existing=Ref("quotation-request", existing.id),
        )
    if deadline <= timezone.now():
        raise InvalidInput("The deadline must be in the future.", field="deadline")
    invited = list(
        Match.objects.filter(request=request, status=MatchStatus.INTERESTED).select_related(
            "supplier"
        )
    )
    if not invited:
        raise Conflict(
            "No SME has answered interested yet: invite matches first.",
            code="no_interested_smes",
        )
    rfq = QuotationRequest.objects.create(
        request=request, deadline=deadline, message=message, created_by=actor.user
    )
    rfq.invited.set(invited)
    audience: list[object] = [request.owner_id]
    for match in invited:
        audience += events.supplier_audience(match.supplier)
    events.quotation_request_event(rfq, audience)
    return rfq


# ------------------------------------------------------------------ quotations


@dataclass(frozen=True)
class QuotationInput:
    unit_price: Decimal
    quantity: Decimal
    unit: str
    lead_time_days: int
    valid_until: date
    payment_terms_days: int
    delivery_terms: str = ""
    notes: str = ""


def _check_open_for_quotes(rfq: QuotationRequest, *, now: datetime) -> None:
    if rfq.status != QuotationRequestStatus.OPEN:
        raise Conflict("The quotations were already awarded.", code="quotation_request_closed")
    if rfq.deadline <= now:
        raise Conflict(
            f"The deadline ({rfq.deadline.isoformat()}) has passed; no more quotations, "
            "revisions or withdrawals.",
            code="quotation_late",
            deadline=rfq.deadline.isoformat(),
        )
    if rfq.opened_at is not None:
        raise Conflict(
            "Every invited SME answered and the buyer has opened the quotations; they can "
            "no longer change.",
            code="quotations_opened",
        )


def _check_may_quote(match: Match) -> None:
    """Only a match still ``interested`` quotes (not one the buyer has set aside), and
    only on a request that is not cancelled."""
    if match.request.status == RequestStatus.CANCELLED:
        raise Conflict("The request was cancelled.", code="request_cancelled")
    if match.status != MatchStatus.INTERESTED:
        raise Conflict(
            f"The match is {match.status}; only an interested match quotes.",
            code="match_not_interested",
            current_status=match.status,
        )


def _check_terms(data: QuotationInput, match: Match, rfq: QuotationRequest, *, today: date) -> None:
    request = match.request
    dimension, _ = QUANTITY_TO_BASE[data.unit]
    if request.quantity_unit:
        wanted = QUANTITY_TO_BASE[request.quantity_unit][0]
        if dimension != wanted:
            raise InvalidInput(
                f"The request is for a quantity in {request.quantity_unit}; quote in a unit "
                f"of the same kind ({wanted}).",
                field="unit",
            )
    elif dimension not in layer_dimensions(request.layer):
        raise InvalidInput(f"{data.unit} does not fit the {request.layer} layer.", field="unit")
    if data.valid_until < max(today, timezone.localdate(rfq.deadline)):
        raise InvalidInput(
            "The quotation must stay valid at least until the deadline "
            f"({timezone.localdate(rfq.deadline).isoformat()}).",
            field="valid_until",
        )
    if data.payment_terms_days > MSMED_MAX_PAYMENT_DAYS and size_is_current_micro_small(
        match.supplier, day=today
    ):
        raise InvalidInput(
            f"The MSMED Act caps payment terms for micro and small enterprises at "
            f"{MSMED_MAX_PAYMENT_DAYS} days; offer {MSMED_MAX_PAYMENT_DAYS} or fewer.",
            field="payment_terms_days",
            code="msmed_payment_terms",
        )


def _revision(quotation: Quotation, data: QuotationInput, actor: Actor, now: datetime) -> None:
    for name in TERMS_FIELDS:
        setattr(quotation, name, getattr(data, name))
    quotation.submitted_at = now
    quotation.save()
    QuotationRevision.objects.create(
        quotation=quotation,
        number=quotation.revision,
        submitted_at=now,
        by_user=actor.user,
        by_api_key=actor.caller.api_key_id,
        **{name: getattr(data, name) for name in TERMS_FIELDS},
    )


def all_answered(rfq: QuotationRequest) -> bool:
    invited = set(rfq.invited.values_list("id", flat=True))
    answered = set(
        Quotation.objects.filter(quotation_request=rfq).values_list("match_id", flat=True)
    )
    return invited <= answered


@transaction.atomic
def quotation_request_open(*, rfq: QuotationRequest, caller: Any) -> QuotationRequest:
    """The buyer opens the quotations before the deadline once every invited SME has
    answered (quoted, or quoted and withdrawn): from then on they are frozen. Called
    when the buyer reads them; does nothing for anyone else, nor before everyone
    answered, nor after the deadline (which opens them anyway)."""
    if not (caller.acts_for(rfq.request.owner_id) or caller.is_operator):
        return rfq
    if rfq.opened_at is not None or rfq.deadline <= timezone.now():
        return rfq
    locked = QuotationRequest.objects.select_for_update().get(id=rfq.id)
    if locked.opened_at is None and all_answered(locked):
        locked.opened_at = timezone.now()
        locked.save(update_fields=["opened_at", "updated_at"])
    rfq.opened_at = locked.opened_at
    return rfq


def _locked_rfq_of(match: Match) -> QuotationRequest:
    rfq = QuotationRequest.objects.select_for_update().filter(request_id=match.request_id).first()
    if rfq is None or not rfq.invited.filter(id=match.id).exists():
        raise Conflict(
            "The buyer has not asked this match for a quotation.", code="quotation_not_requested"
        )
    return rfq


@transaction.atomic
def quotation_submit(*, match: Match, data: QuotationInput, actor: Actor) -> Quotation:
    """The matched SME quotes on its match (once; then it revises)."""
    match = Match.objects.select_related("request", "supplier").get(id=match.id)
    _require_party(actor.caller, match, Party.SUPPLIER, "quote on this match")
    rfq = _locked_rfq_of(match)
    now = timezone.now()
    _check_open_for_quotes(rfq, now=now)
    _check_may_quote(match)
    existing = Quotation.objects.filter(match=match).first()
    if existing is not None:
        raise Conflict(
            "This match already has a quotation: post a revision of it.",
            code="quotation_exists",
            existing=Ref("quotation", existing.id),
        )
    _check_terms(data, match, rfq, today=timezone.localdate(now))
    quotation = Quotation(
        quotation_request=rfq, match=match, supplier=match.supplier, revision=1, submitted_at=now
    )
    _revision(quotation, data, actor, now)
    events.quotation_event(EventType.QUOTATION_SUBMITTED, quotation, match.request.owner_id)
    return quotation


def _locked_quotation(quotation: Quotation) -> tuple[Quotation, QuotationRequest]:
    rfq = QuotationRequest.objects.select_for_update().get(id=quotation.quotation_request_id)
    quotation = (
        Quotation.objects.select_for_update()
        .select_related("match__request", "match__supplier", "supplier")
        .get(id=quotation.id)
    )
    return quotation, rfq


@transaction.atomic
def quotation_revise(*, quotation: Quotation, data: QuotationInput, actor: Actor) -> Quotation:
    """A new revision before the deadline (of a withdrawn quotation too: it is submitted
    again). Every revision is kept."""
    quotation, rfq = _locked_quotation(quotation)
    _require_party(actor.caller, quotation.match, Party.SUPPLIER, "revise this quotation")
    now = timezone.now()
    _check_open_for_quotes(rfq, now=now)
    _check_may_quote(quotation.match)
    _check_terms(data, quotation.match, rfq, today=timezone.localdate(now))
    quotation.revision += 1
    quotation.status = QuotationStatus.SUBMITTED
    quotation.withdrawn_at = None
    _revision(quotation, data, actor, now)
    events.quotation_event(EventType.QUOTATION_REVISED, quotation, quotation.match.request.owner_id)
    return quotation


@transaction.atomic
def quotation_withdraw(*, quotation: Quotation, actor: Actor) -> Quotation:
    quotation, rfq = _locked_quotation(quotation)
    _require_party(actor.caller, quotation.match, Party.SUPPLIER, "withdraw this quotation")
    now = timezone.now()
    _check_open_for_quotes(rfq, now=now)
    if quotation.status != QuotationStatus.SUBMITTED:
        raise Conflict(f"The quotation is {quotation.status}.", code="quotation_not_submitted")
    quotation.status = QuotationStatus.WITHDRAWN
    quotation.withdrawn_at = now
    quotation.save(update_fields=["status", "withdrawn_at", "updated_at"])
    events.quotation_event(
        EventType.QUOTATION_WITHDRAWN, quotation, quotation.match.request.owner_id
    )
    return quotation


@transaction.atomic
def attachment_add(
    *, quotation: Quotation, filename: str, content: bytes, actor: Actor
) -> QuotationAttachment:
    """Attach a PDF, PNG or JPEG to a quotation while it can still change. The type is
    told from the bytes; the file goes to the default storage."""
    quotation, rfq = _locked_quotation(quotation)
    _require_party(actor.caller, quotation.match, Party.SUPPLIER, "attach files to it")
    _check_open_for_quotes(rfq, now=timezone.now())
    limit = settings.REMAG_QUOTATION_ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise TooLarge(
            f"The file is {len(content)} bytes; attachments may be at most {limit}.",
            max_bytes=limit,
        )
    if not content:
        raise InvalidInput("The file is empty.", field="file")
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise InvalidInput(
            "Attach a PDF, PNG or JPEG file (its content says it is none of them).",
            field="file",
            code="unsupported_file_type",
        )
    if quotation.attachments.count() >= MAX_ATTACHMENTS:
        raise Conflict(
            f"A quotation has at most {MAX_ATTACHMENTS} attachments.", code="too_many_attachments"
        )
    attachment = QuotationAttachment(
        id=uuid.uuid4(),
        quotation=quotation,
        filename=(filename or "attachment")[:255],
        content_type=content_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    # The file is written first: a failure after it leaves a stray file in storage,
    # never a row without its file.
    attachment.file.save(attachment.filename, ContentFile(content), save=False)
    attachment.save()
    return attachment


# ------------------------------------------------------------------ award


@dataclass(frozen=True)
class AwardItem:
    quotation_id: Any
    quantity: Decimal
    delivery_date: date | None = None


DEFAULT_NOT_SELECTED_REASON = "The buyer awarded other quotations."


@transaction.atomic
def award_make(
    *, rfq: QuotationRequest, items: list[AwardItem], reason: str, actor: Actor
) -> list[Order]:
    """Award one or several quotations (a split award); each becomes an order. The other
    invited SMEs are told they were not selected, with ``reason``; the request closes.

    The quantities (in each quotation's unit) add up to at most the requested quantity.
    An order to a micro or small enterprise (current classification) with payment terms
    over 45 days is refused; one to a supplier whose micro or small classification is of
    a past financial year is placed and flagged (docs/procurement.md).
    """
    rfq = QuotationRequest.objects.select_for_update().select_related("request").get(id=rfq.id)
    request = rfq.request
    if not actor.caller.acts_for(request.owner_id):
        raise NotAllowed("Only the buyer may award.")
    if rfq.status != QuotationRequestStatus.OPEN:
        raise Conflict("The quotations were already awarded.", code="quotation_request_closed")
    now = timezone.now()
    today = timezone.localdate(now)
    quotation_request_open(rfq=rfq, caller=actor.caller)
    if not is_unsealed(rfq, now=now):
        raise Conflict(
            "The quotations are sealed until the deadline "
            f"({rfq.deadline.isoformat()}) or until every invited SME has answered.",
            code="quotations_sealed",
        )
    if not items:
        raise InvalidInput("Award at least one quotation.", field="awards")
    ids = [str(item.quotation_id) for item in items]
    if len(set(ids)) != len(ids):
        raise InvalidInput("A quotation is awarded twice.", field="awards")
    quotations = {
        str(q.id): q
        for q in Quotation.objects.select_for_update()
        .select_related("match__request", "match__supplier", "supplier")
        .filter(quotation_request=rfq, id__in=ids)
    }
    total_base = ZERO
    for n, item in enumerate(items):
        quotation = quotations.get(str(item.quotation_id))
        where = f"awards[{n}]"
        if quotation is None:
            raise InvalidInput("Not a quotation of this request.", field=f"{where}.quotation")
        if quotation.status != QuotationStatus.SUBMITTED:
            raise Conflict(
                f"Quotation {quotation.id} is {quotation.status}.", code="quotation_not_submitted"
            )
        if quotation.valid_until < today:
            raise Conflict(
                f"Quotation {quotation.id} expired on {quotation.valid_until.isoformat()}.",
                code="quotation_expired",
            )
        if item.quantity <= 0:
            raise InvalidInput("Must be greater than 0.", field=f"{where}.quantity")
        if item.quantity > quotation.quantity:
            raise InvalidInput(
                f"The quotation offers {quotation.quantity} {quotation.unit}.",
                field=f"{where}.quantity",
                code="award_above_offer",
            )
        if item.delivery_date is not None and item.delivery_date < today:
            raise InvalidInput("The delivery date is in the past.", field=f"{where}.delivery_date")
        if quotation.payment_terms_days > MSMED_MAX_PAYMENT_DAYS and size_is_current_micro_small(
            quotation.supplier, day=today
        ):
            raise Conflict(
                f"{quotation.supplier.legal_name} is a micro or small enterprise: the MSMED Act "
                f"caps payment terms at {MSMED_MAX_PAYMENT_DAYS} days, and this quotation asks "
                f"{quotation.payment_terms_days}. Ask the SME to revise, or award another.",
                code="msmed_payment_terms",
                max_payment_terms_days=MSMED_MAX_PAYMENT_DAYS,
            )
        total_base += base_quantity(item.quantity, quotation.unit)[1]
    if request.quantity is not None and request.quantity_unit:
        requested = base_quantity(request.quantity, request.quantity_unit)[1]
        if total_base > requested:
            raise InvalidInput(
                f"The awarded quantities add up to more than the {request.quantity} "
                f"{request.quantity_unit} requested.",
                field="awards",
                code="award_above_quantity",
            )

    orders = []
    for item in items:
        quotation = quotations[str(item.quotation_id)]
        match = match_transition(
            match=quotation.match, to_status=MatchStatus.AWARDED, actor=actor, by_award=True
        )
        quotation.status = QuotationStatus.AWARDED
        quotation.save(update_fields=["status", "updated_at"])
        stale = size_is_stale_micro_small(quotation.supplier, day=today)
        order = Order.objects.create(
            quotation=quotation,
            match=match,
            request=request,
            buyer_id=request.owner_id,
            supplier=quotation.supplier,
            unit_price=quotation.unit_price,
            quantity=item.quantity,
            unit=quotation.unit,
            delivery_date=item.delivery_date or today + timedelta(days=quotation.lead_time_days),
            payment_terms_days=quotation.payment_terms_days,
            delivery_terms=quotation.delivery_terms,
            supplier_micro_small=size_is_current_micro_small(quotation.supplier, day=today),
            payment_terms_flag=(
                PaymentTermsFlag.SIZE_UNVERIFIED
                if stale and quotation.payment_terms_days > MSMED_MAX_PAYMENT_DAYS
                else PaymentTermsFlag.NONE
            ),
        )
        events.order_event(EventType.ORDER_CREATED, order)
        orders.append(order)

    reason = reason.strip() or DEFAULT_NOT_SELECTED_REASON
    rfq.status = QuotationRequestStatus.AWARDED
    rfq.awarded_at = now
    rfq.award_reason = reason[:500]
    rfq.save(update_fields=["status", "awarded_at", "award_reason", "updated_at"])
    awarded = {q.match_id for q in quotations.values()}
    for match in rfq.invited.select_related("request", "supplier").exclude(id__in=awarded):
        if match.status in (MatchStatus.INTERESTED, MatchStatus.INVITED, MatchStatus.SHORTLISTED):
            match_transition(
                match=match,
                to_status=MatchStatus.NOT_SELECTED,
                actor=actor,
                note=reason,
                by_award=True,
            )
        Quotation.objects.filter(match=match, status=QuotationStatus.SUBMITTED).update(
            status=QuotationStatus.NOT_SELECTED, updated_at=now
        )
        match.refresh_from_db(fields=["status"])
        # Every other invited SME, whether it quoted or not, hears it with the reason.
        events.not_selected_event(rfq, match, reason=reason)
    ProcurementRequest.objects.filter(id=request.id).update(
        status=RequestStatus.AWARDED, closed_at=request.closed_at or now, updated_at=now
    )
    return orders


# ------------------------------------------------------------------ deliveries and payments


def order_accepted_quantity(order: Order) -> Decimal:
    return order.deliveries.aggregate(total=Sum("quantity_accepted"))["total"] or ZERO


def order_paid_amount(order: Order) -> Decimal:
    return order.payments.aggregate(total=Sum("amount"))["total"] or ZERO


def _locked_order(order: Order) -> Order:
    return (
        Order.objects.select_for_update()
        .select_related("match__request", "match__supplier", "supplier")
        .get(id=order.id)
    )


def _close_if_paid(order: Order) -> None:
    """A delivered order whose payments reach the accepted value is closed; ``paid_on``
    is the date of the latest payment (before the delivery date for an advance)."""
    if order.status != OrderStatus.DELIVERED:
        return
    due = order_accepted_quantity(order) * order.unit_price
    if order_paid_amount(order) >= due:
        order.status = OrderStatus.CLOSED
        order.paid_on = (
            order.payments.order_by("-received_on").values_list("received_on", flat=True).first()
        )


@dataclass(frozen=True)
class DeliveryInput:
    delivered_on: date
    quantity_delivered: Decimal
    quantity_accepted: Decimal
    quantity_rejected: Decimal
    quality_note: str = ""


@transaction.atomic
def delivery_record(*, order: Order, data: DeliveryInput, actor: Actor) -> Delivery:
    """The buyer records a delivery; the order is delivered once the accepted quantity
    reaches the ordered one."""
    order = _locked_order(order)
    _require_party(actor.caller, order.match, Party.BUYER, "record deliveries")
    if order.status != OrderStatus.OPEN:
        raise Conflict(
            f"The order is {order.status}: it takes no more deliveries.", code="order_not_open"
        )
    today = timezone.localdate()
    if data.delivered_on > today:
        raise InvalidInput("The delivery date is in the future.", field="delivered_on")
    if data.delivered_on < timezone.localdate(order.created_at):
        raise InvalidInput("The order was placed after this date.", field="delivered_on")
    if data.quantity_accepted > data.quantity_delivered:
        raise InvalidInput(
            "More accepted than delivered.",
            field="quantity_accepted",
            code="accepted_above_delivered",
        )
    if data.quantity_rejected < 0 or (
        data.quantity_accepted + data.quantity_rejected != data.quantity_delivered
    ):
        raise InvalidInput(
            "Accepted and rejected quantities must add up to the quantity delivered.",
            field="quantity_accepted",
        )
    accepted = order_accepted_quantity(order)
    if accepted + data.quantity_accepted > order.quantity:
        raise InvalidInput(
            f"{accepted} of the {order.quantity} {order.unit} ordered were already accepted; "
            "this delivery would accept more than ordered.",
            field="quantity_accepted",
            code="delivery_above_order",
        )
    delivery = Delivery.objects.create(
        order=order,
        on_time=data.delivered_on <= order.delivery_date,
        recorded_by=actor.user,
        **{name: getattr(data, name) for name in DeliveryInput.__dataclass_fields__},
    )
    if accepted + data.quantity_accepted == order.quantity:
        order.status = OrderStatus.DELIVERED
        order.delivered_on = data.delivered_on
        _close_if_paid(order)
        order.save(update_fields=["status", "delivered_on", "paid_on", "updated_at"])
    events.order_event(
        EventType.ORDER_DELIVERY_RECORDED, order, delivery=(events.DELIVERY, delivery)
    )
    _refresh_track_record(order.supplier_id)
    return delivery


def _refresh_track_record(supplier_id: object) -> None:
    """The supplier's open opportunities are rescored with its new track record."""
    from matching.receivers import schedule_opportunities_refresh

    schedule_opportunities_refresh(supplier_id=supplier_id)


@transaction.atomic
def payment_record(
    *, order: Order, received_on: date, amount: Decimal, reference: str, actor: Actor
) -> Payment:
    """The SME confirms a payment received; the order closes once delivered and paid."""
    order = _locked_order(order)
    _require_party(actor.caller, order.match, Party.SUPPLIER, "confirm payments")
    if order.status == OrderStatus.CLOSED:
        raise Conflict("The order is already paid in full.", code="order_closed")
    if amount <= 0:
        raise InvalidInput("Must be greater than 0.", field="amount")
    if received_on > timezone.localdate():
        raise InvalidInput("The date is in the future.", field="received_on")
    if received_on < timezone.localdate(order.created_at):
        raise InvalidInput("The order was placed after this date.", field="received_on")
    # Payments add up to the order's value at most (advances included): more would be a
    # typing error, and the row lock above makes parallel payments count each other's.
    value = (order.quantity * order.unit_price).quantize(Decimal("0.01"))
    left = value - order_paid_amount(order)
    if amount > left:
        raise InvalidInput(
            f"At most {max(left, Decimal(0))} remains unpaid of the order's value, {value}.",
            field="amount",
        )
    payment = Payment.objects.create(
        order=order, received_on=received_on, amount=amount, reference=reference,
        recorded_by=actor.user,
    )  # fmt: skip
    _close_if_paid(order)
    order.save(update_fields=["status", "paid_on", "updated_at"])
    events.order_event(EventType.ORDER_PAYMENT_RECORDED, order, payment=(events.PAYMENT, payment))
    return payment
