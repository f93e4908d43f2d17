"""remag.db.bulk_copy writes what bulk_create writes."""

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from remag.db import built, bulk_copy
from suppliers.models import Capability, Supplier, SupplierCapability, SupplierPlant
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


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (SupplierCapability, {"lead_time_days": 9, "grades": ["n42sh"]}),
        (SupplierPlant, {"name": "Hosur", "state": "TN", "latitude": 12.7}),
        (Supplier, {"legal_name": "Demo Magnets", "women_owned": True, "gstin": None}),
        (SupplierPlant.capabilities.through, {"supplierplant_id": 1, "capability_id": 2}),
    ],
)
def test_built_makes_what_the_constructor_makes(model: Any, values: dict[str, Any]) -> None:
    """remag.db.built: the same fields as ``model(**values)``, defaults included, each
    instance with its own computed defaults (a new id, a new list) and state."""
    made, fast, again = model(**values), built(model, **values), built(model, **values)
    expected, got = _fields(made), _fields(fast)
    per_instance = {
        f.attname
        for f in model._meta.concrete_fields
        if f.has_default() and callable(f.default) and f.attname not in values
    }
    assert {k: v for k, v in got.items() if k not in per_instance} == {
        k: v for k, v in expected.items() if k not in per_instance
    }
    for name in per_instance:
        assert type(got[name]) is type(expected[name])
        if isinstance(got[name], uuid.UUID):
            assert got[name] != getattr(again, name)
        elif isinstance(got[name], list | dict):
            assert got[name] is not getattr(again, name)
    assert fast._state.adding
    assert fast._state.db is None
    assert fast._state is not again._state


def test_built_refuses_an_unknown_field() -> None:
    with pytest.raises(TypeError, match="capability"):
        built(SupplierCapability, capability=None)  # by field name, not attname


def test_built_rows_are_written_as_constructed_ones() -> None:
    supplier = SupplierFactory()
    jet = Capability.objects.get(code="jet-milling")
    row = built(
        SupplierCapability,
        supplier_id=supplier.id,
        capability_id=jet.id,
        capacity_per_month=Decimal("5"),
        capacity_unit="kg_per_month",
        lead_time_days=3,
    )
    bulk_copy(SupplierCapability, [row])
    stored = SupplierCapability.objects.get(id=row.id)
    assert (stored.supplier_id, stored.capability_id, stored.lead_time_days) == (
        supplier.id,
        jet.id,
        3,
    )
    assert stored.grades == []
    assert stored.created_at == row.created_at
