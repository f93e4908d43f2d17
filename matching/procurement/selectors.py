"""Reads of quotation requests, quotations and orders, limited to what the caller may
see, and the two records the deal leaves: the supplier's track record (deliveries) and
the buyer's payment record (payments).

Who sees what:

* a quotation request: the buyer's members, the invited SMEs' members (or their
  onboarding portal while unclaimed) and operators;
* a quotation: its SME always; the buyer (and operators) only once the quotations are
  unsealed (the deadline passed, or every invited SME answered), and never a withdrawn
  one; no SME ever sees another's;
* an order, its deliveries and payments: the buyer's and the supplier's side, operators.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from matching.models import Match
from matching.procurement.choices import MSMED_MAX_PAYMENT_DAYS, OrderStatus, QuotationStatus
from matching.procurement.models import Delivery, Order, Payment, Quotation, QuotationRequest
from matching.procurement.services import base_quantity, size_is_current_micro_small
from matching.selectors import match_visible_q
from remag.accounts.caller import Caller


def _supplier_side_q(caller: Caller, prefix: str) -> Q:
    """Rows whose supplier (at ``prefix``) the caller acts for."""
    ids = caller.organization_ids
    return Q(**{f"{prefix}owner_id__in": ids}) | Q(
        **{f"{prefix}onboarded_by_id__in": ids, f"{prefix}claimed_at__isnull": True}
    )


def quotation_request_list(*, caller: Caller) -> QuerySet[QuotationRequest]:
    queryset = QuotationRequest.objects.select_related("request")
    if caller.is_operator:
        return queryset
    invited = Match.objects.filter(quotation_requests=OuterRef("pk")).filter(
        _supplier_side_q(caller, "supplier__")
    )
    return queryset.filter(Q(request__owner_id__in=caller.organization_ids) | Exists(invited))


def unsealed_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}opened_at__isnull": False}) | Q(
        **{f"{prefix}deadline__lte": timezone.now()}
    )


def quotation_list(*, caller: Caller) -> QuerySet[Quotation]:
    """Quotations the caller may read (see the module's rules)."""
    queryset = Quotation.objects.select_related(
        "quotation_request__request", "match", "supplier"
    ).prefetch_related("attachments")
    opened = unsealed_q("quotation_request__") & ~Q(status=QuotationStatus.WITHDRAWN)
    if caller.is_operator:
        return queryset.filter(opened)
    own = _supplier_side_q(caller, "supplier__")
    buyer = Q(quotation_request__request__owner_id__in=caller.organization_ids) & opened
    return queryset.filter(own | buyer)


def quotations_of(*, rfq: QuotationRequest, caller: Caller) -> QuerySet[Quotation]:
    return quotation_list(caller=caller).filter(quotation_request=rfq)


def _sum_of(model: Any, field: str) -> Coalesce:
    total = (
        model.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(total), Value(Decimal(0)), output_field=DecimalField())


def order_list(*, caller: Caller) -> QuerySet[Order]:
    """Orders the caller may read, each with ``quantity_accepted`` and ``amount_paid``."""
    queryset = Order.objects.select_related("supplier").annotate(
        quantity_accepted=_sum_of(Delivery, "quantity_accepted"),
        amount_paid=_sum_of(Payment, "amount"),
    )
    if caller.is_operator:
        return queryset
    return queryset.filter(
        Q(buyer_id__in=caller.organization_ids) | _supplier_side_q(caller, "supplier__")
    )


def match_for_quoting(*, caller: Caller, match_id: Any) -> Match | None:
    """The match named in a quotation, if the caller may see it at all."""
    return (
        Match.objects.select_related("request", "supplier")
        .filter(match_visible_q(caller), id=match_id)
        .first()
    )


# ------------------------------------------------------------------ comparison


@dataclass(frozen=True)
class ComparisonRow:
    quotation: Quotation
    price_per_base_unit: Decimal
    base_unit: str
    total_price: Decimal
    is_lowest: bool
    micro_small: bool
    within_preference_band: bool
    payment_terms_within_msmed_limit: bool


BASE_UNITS = {"mass": "kg", "pieces": "piece", "tests": "test", "hours": "hour"}


def quotation_comparison(
    *, rfq: QuotationRequest, caller: Caller, band_percent: float
) -> list[ComparisonRow]:
    """The request's open quotations side by side, cheapest per base unit first.

    L1 is the lowest price per base unit (of the same kind of quantity); a micro or small
    enterprise (current classification) priced within ``band_percent`` above L1 is
    ``within_preference_band`` (the Public Procurement Policy for MSEs lets such a
    bidder match L1; for a private buyer it is information, not a rule).
    """
    quotations = list(
        quotations_of(rfq=rfq, caller=caller)
        .filter(
            status__in=(
                QuotationStatus.SUBMITTED,
                QuotationStatus.AWARDED,
                QuotationStatus.NOT_SELECTED,
            )
        )
        .select_related("match")
    )
    today = timezone.localdate()
    priced = []
    for quotation in quotations:
        dimension, factor = base_quantity(Decimal(1), quotation.unit)
        per_base = (quotation.unit_price / factor).quantize(Decimal("0.0001"))
        priced.append((quotation, dimension, per_base))
    lowest: dict[str, Decimal] = {}
    for _, dimension, per_base in priced:
        lowest[dimension] = min(lowest.get(dimension, per_base), per_base)
    band = Decimal(str(1 + band_percent / 100))
    rows = []
    for quotation, dimension, per_base in priced:
        micro_small = size_is_current_micro_small(quotation.supplier, day=today)
        is_lowest = per_base == lowest[dimension]
        rows.append(
            ComparisonRow(
                quotation=quotation,
                price_per_base_unit=per_base,
                base_unit=BASE_UNITS[dimension],
                total_price=(quotation.unit_price * quotation.quantity).quantize(Decimal("0.01")),
                is_lowest=is_lowest,
                micro_small=micro_small,
                within_preference_band=micro_small
                and not is_lowest
                and per_base <= lowest[dimension] * band,
                payment_terms_within_msmed_limit=(
                    not micro_small or quotation.payment_terms_days <= MSMED_MAX_PAYMENT_DAYS
                ),
            )
        )
    rows.sort(key=lambda r: (r.base_unit, r.price_per_base_unit, str(r.quotation.supplier_id)))
    return rows


# ------------------------------------------------------------------ the buyer's payment record


@dataclass(frozen=True)
class PaymentRecord:
    """How a buyer pays, from the orders its suppliers confirmed payments on."""

    orders_delivered: int
    orders_paid: int
    median_days_to_pay: float | None
    paid_within_terms_share: float | None
    micro_small_orders: int
    paid_within_45_days_share: float | None


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def payment_records(*, buyer_ids: Sequence[Any]) -> dict[str, PaymentRecord]:
    """The payment record of each buyer (by organisation id as text), in one query.

    Counted over delivered orders: the days to pay run from the day the ordered quantity
    was all accepted to the payment completing it (an advance counts as 0). An order
    delivered and unpaid past its terms (or past 45 days, for a micro or small
    supplier) counts as not paid within them, so waiting does not flatter the record.
    """
    today = timezone.localdate()
    rows = Order.objects.filter(
        buyer_id__in=list(buyer_ids), status__in=(OrderStatus.DELIVERED, OrderStatus.CLOSED)
    ).values_list(
        "buyer_id", "delivered_on", "paid_on", "payment_terms_days", "supplier_micro_small"
    )
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for buyer_id, *rest in rows.order_by():
        grouped[str(buyer_id)].append(tuple(rest))
    records = {}
    for buyer_id in map(str, buyer_ids):
        orders = grouped.get(buyer_id, [])
        days_paid, terms_hits, terms_total, mse_hits, mse_total = [], 0, 0, 0, 0
        for delivered_on, paid_on, terms, micro_small in orders:
            days = max(0, (paid_on - delivered_on).days) if paid_on else None
            waited = (today - delivered_on).days
            if days is not None:
                days_paid.append(days)
            if days is not None or waited > terms:
                terms_total += 1
                terms_hits += int(days is not None and days <= terms)
            if micro_small and (days is not None or waited > MSMED_MAX_PAYMENT_DAYS):
                mse_total += 1
                mse_hits += int(days is not None and days <= MSMED_MAX_PAYMENT_DAYS)
        records[buyer_id] = PaymentRecord(
            orders_delivered=len(orders),
            orders_paid=len(days_paid),
            median_days_to_pay=float(statistics.median(days_paid)) if days_paid else None,
            paid_within_terms_share=_share(terms_hits, terms_total),
            micro_small_orders=sum(1 for o in orders if o[3]),
            paid_within_45_days_share=_share(mse_hits, mse_total),
        )
    return records
