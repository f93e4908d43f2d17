"""The supplier's track record from delivery outcomes, as plain numbers for scoring
(read by ``matching.candidates``; imports only models, so the candidate loader does not
pull in the services)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from matching.procurement.choices import OrderStatus
from matching.procurement.models import Delivery, Order

# ------------------------------------------------------------------ the supplier's track record

TRACK_RECORD_HALF_LIFE_DAYS = 365.0
TRACK_RECORD_HORIZON_DAYS = 3 * 365  # older deliveries weigh under 1/8: not read
RECENT_DAYS = 365


@dataclass
class DeliveryRecord:
    """A supplier's delivery history, ready for scoring: recency-weighted deliveries and
    the weighted sum of their quality, plus last-12-month counts for the explanation."""

    weight: float = 0.0
    quality: float = 0.0
    recent: int = 0
    recent_on_time: int = 0
    recent_delivered: Decimal = Decimal(0)
    recent_accepted: Decimal = Decimal(0)

    def add(self, *, age_days: int, on_time: bool, delivered: Decimal, accepted: Decimal) -> None:
        weight = math.pow(0.5, max(age_days, 0) / TRACK_RECORD_HALF_LIFE_DAYS)
        share = float(accepted / delivered) if delivered else 0.0
        self.weight += weight
        self.quality += weight * (0.5 * float(on_time) + 0.5 * share)
        if age_days <= RECENT_DAYS:
            self.recent += 1
            self.recent_on_time += int(on_time)
            self.recent_delivered += delivered
            self.recent_accepted += accepted

    @property
    def recent_accepted_share(self) -> float | None:
        if not self.recent_delivered:
            return None
        return float(self.recent_accepted / self.recent_delivered)


def delivery_records(
    *, supplier_ids: Iterable[str] | None, run_date: date
) -> dict[str, DeliveryRecord]:
    """Each supplier's delivery record as of ``run_date`` (by supplier id as text).

    Every delivery counts, weighted by ``0.5 ** (age / 365 days)``; its quality is half
    on time (by the order's delivery date) and half the share of its quantity accepted.
    An open order past its delivery date with quantity still to come counts as one late
    delivery with nothing accepted, so not delivering is not better than delivering late.
    """
    since = run_date - timedelta(days=TRACK_RECORD_HORIZON_DAYS)
    deliveries = Delivery.objects.filter(delivered_on__gte=since, delivered_on__lte=run_date)
    overdue = Order.objects.filter(status=OrderStatus.OPEN, delivery_date__lt=run_date)
    if supplier_ids is not None:
        ids = list(supplier_ids)
        deliveries = deliveries.filter(order__supplier_id__in=ids)
        overdue = overdue.filter(supplier_id__in=ids)
    records: dict[str, DeliveryRecord] = defaultdict(DeliveryRecord)
    for supplier_id, delivered_on, on_time, delivered, accepted in deliveries.values_list(
        "order__supplier_id", "delivered_on", "on_time", "quantity_delivered", "quantity_accepted"
    ).order_by():
        records[str(supplier_id)].add(
            age_days=(run_date - delivered_on).days,
            on_time=on_time,
            delivered=delivered,
            accepted=accepted,
        )
    # An order still overdue weighs as a delivery made today, whenever it was due: an
    # older debt must not fade while it stays unpaid in goods (never delivering must not
    # score better than delivering late).
    for supplier_id, _due in overdue.values_list("supplier_id", "delivery_date").order_by():
        records[str(supplier_id)].add(
            age_days=0, on_time=False, delivered=Decimal(0), accepted=Decimal(0)
        )
    return dict(records)
