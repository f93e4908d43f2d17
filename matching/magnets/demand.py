"""Aggregated demand: open magnet requirements summed by grade class, application, shape
and delivery state, in kg a month (pieces converted through each requirement's piece
mass), with counts. Never a buyer's identity (docs/magnets.md, "Aggregated demand")."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from matching.magnets.choices import RequirementStatus
from matching.magnets.models import MagnetRequirement

GROUPS = ("material", "grade", "temperature_class", "application", "shape", "delivery_state")
DEFAULT_GROUPS = ("material", "temperature_class", "application", "shape", "delivery_state")
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=16, decimal_places=3))


def demand_aggregate(
    *,
    group_by: Sequence[str] = DEFAULT_GROUPS,
    queryset: QuerySet[MagnetRequirement] | None = None,
) -> list[dict[str, Any]]:
    """One row per group of open requirements: the group's values, ``requirement_count``,
    ``buyer_count``, ``kg_per_month`` (every requirement, pieces converted) and
    ``pieces_per_month`` (the part asked for in pieces, as asked), largest first."""
    group_by = [g for g in GROUPS if g in group_by]
    if queryset is None:
        queryset = MagnetRequirement.objects.all()
    queryset = queryset.filter(status=RequirementStatus.OPEN)
    rows = (
        queryset.values(*group_by)
        .annotate(
            requirement_count=Count("id"),
            buyer_count=Count("owner_id", distinct=True),
            kg_per_month=Coalesce(Sum("quantity_kg_per_month"), ZERO),
            pieces_per_month=Coalesce(
                Sum("quantity_per_month", filter=Q(quantity_unit="pieces")), ZERO
            ),
        )
        .order_by("-kg_per_month", *group_by)
    )
    return [
        {name: row.get(name) for name in GROUPS}
        | {
            "requirement_count": row["requirement_count"],
            "buyer_count": row["buyer_count"],
            "kg_per_month": row["kg_per_month"],
            "tonnes_per_month": (row["kg_per_month"] / 1000).quantize(Decimal("0.001")),
            "pieces_per_month": row["pieces_per_month"],
        }
        for row in rows
    ]
