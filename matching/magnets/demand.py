"""Aggregated demand: open magnet requirements summed by grade class, application, shape
and delivery state, in kg a month (pieces converted through each requirement's piece
mass), with counts. Never a buyer's identity (docs/magnets.md, "Aggregated demand").

A group with fewer than ``MIN_BUYERS`` distinct buyers would show one buyer's exact
quantity (its group values narrow it down to a few candidates): for everyone but
operators such groups are folded into one ``other`` row (all group values null), itself
omitted when it too has fewer than ``MIN_BUYERS`` buyers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from matching.magnets.choices import RequirementStatus
from matching.magnets.models import MagnetRequirement

GROUPS = ("material", "grade", "temperature_class", "application", "shape", "delivery_state")
DEFAULT_GROUPS = ("material", "temperature_class", "application", "shape", "delivery_state")
MIN_BUYERS = 3
ZERO = Decimal(0)


def _row(values: dict[str, Any], owners: set[Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    kg = sum((p["kg"] or ZERO for p in parts), ZERO)
    return {name: values.get(name) for name in GROUPS} | {
        "requirement_count": sum(p["requirements"] for p in parts),
        "buyer_count": len(owners),
        "kg_per_month": kg,
        "tonnes_per_month": (kg / 1000).quantize(Decimal("0.001")),
        "pieces_per_month": sum((p["pieces"] or ZERO for p in parts), ZERO),
        "other": False,
    }


def demand_aggregate(
    *,
    group_by: Sequence[str] = DEFAULT_GROUPS,
    queryset: QuerySet[MagnetRequirement] | None = None,
    min_buyers: int = 1,
) -> list[dict[str, Any]]:
    """One row per group of open requirements: the group's values, ``requirement_count``,
    ``buyer_count``, ``kg_per_month`` (every requirement, pieces converted) and
    ``pieces_per_month`` (the part asked for in pieces, as asked), largest first. Groups
    of fewer than ``min_buyers`` buyers are folded into a last row with ``other`` true
    (omitted when it has fewer than ``min_buyers`` buyers itself)."""
    group_by = [g for g in GROUPS if g in group_by]
    if queryset is None:
        queryset = MagnetRequirement.objects.all()
    queryset = queryset.filter(status=RequirementStatus.OPEN)
    # Per group and buyer (in SQL), then per group here: the distinct buyers of the
    # folded row are known exactly.
    parts = (
        queryset.values(*group_by, "owner_id")
        .annotate(
            requirements=Count("id"),
            kg=Sum("quantity_kg_per_month"),
            pieces=Sum("quantity_per_month", filter=Q(quantity_unit="pieces")),
        )
        .order_by()
    )
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for part in parts:
        groups.setdefault(tuple(part[g] for g in group_by), []).append(part)
    rows, folded, folded_owners = [], [], set()
    for key, members in groups.items():
        owners = {p["owner_id"] for p in members}
        if len(owners) >= min_buyers:
            rows.append(_row(dict(zip(group_by, key, strict=True)), owners, members))
        else:
            folded.extend(members)
            folded_owners |= owners
    rows.sort(key=lambda r: (-r["kg_per_month"], *(str(r[g]) for g in group_by)))
    if folded and len(folded_owners) >= min_buyers:
        rows.append(_row({}, folded_owners, folded) | {"other": True})
    return rows
