"""remag.db.bulk_copy writes what bulk_create writes."""

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from remag.db import bulk_copy
from suppliers.models import Capability, SupplierCapability, SupplierPlant
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db


def _capability_row(supplier: Any, capability: Capability, n: int) -> SupplierCapability:
    return SupplierCapability(
        supplier=supplier,
        capability=capability,
        capacity_per_month=Decimal("12.500"),
        capacity_unit="kg_per_month",
        lead_time_days=7 + n,
        grades=["n42sh", f"n4{n}h"],
        materials=["NdFeB"],
        description=f"line {n}",
    )


def test_bulk_copy_stores_what_bulk_create_stores() -> None:
    before = timezone.now()
    supplier = SupplierFactory()
    jet, sintering = (
        Capability.objects.get(code="jet-milling"),
        Capability.objects.get(code="sintering"),
    )
    copied = [_capability_row(supplier, jet, 1)]
    created = [_capability_row(supplier, sintering, 2)]
    bulk_copy(SupplierCapability, copied)
    SupplierCapability.objects.bulk_create(created)

    one = SupplierCapability.objects.get(id=copied[0].id)
    other = SupplierCapability.objects.get(id=created[0].id)
    fields = ("capacity_per_month", "capacity_unit", "minimum_order", "materials")
    assert [getattr(one, f) for f in fields] == [getattr(other, f) for f in fields]
    assert one.grades == ["n42sh", "n41h"]
    assert one.lead_time_days == 8
    assert one.description == "line 1"
    assert before <= one.created_at <= timezone.now()
    assert one.updated_at >= one.created_at


def test_bulk_copy_leaves_auto_keys_to_the_database() -> None:
    supplier = SupplierFactory()
    plant = SupplierPlant.objects.create(supplier=supplier, name="Hosur", state="TN")
    through = SupplierPlant.capabilities.through
    codes = ["jet-milling", "sintering"]
    bulk_copy(
        through,
        [
            through(supplierplant_id=plant.id, capability_id=c.id)
            for c in Capability.objects.filter(code__in=codes)
        ],
    )
    assert sorted(plant.capabilities.values_list("code", flat=True)) == codes
    assert through.objects.filter(supplierplant=plant).count() == 2
