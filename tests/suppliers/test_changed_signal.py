"""Every path that changes a profile's matchable data or owner tells the other apps
(``suppliers.signals.supplier_changed``): a claim names the organisation that held it,
and so does the admin's form when it moves a profile to another owner."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib import admin
from django.test import RequestFactory

from suppliers import services
from suppliers.models import Supplier
from suppliers.signals import supplier_changed
from tests.factories import OrganizationFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> None:
        received.append({k: kwargs[k] for k in ("supplier_id", "reason", "previous_owner_id")})

    supplier_changed.connect(record, dispatch_uid="test.record")
    yield received
    supplier_changed.disconnect(dispatch_uid="test.record")


def test_a_claim_sends_the_change_with_the_placeholder_owner(sent: list[dict[str, Any]]) -> None:
    placeholder = OrganizationFactory(kind="sme")
    supplier = SupplierFactory(owner=placeholder, claimed_at=None)
    sme = OrganizationFactory(kind="sme")

    services.supplier_claim(supplier=supplier, organization=sme, method="code")

    assert sent == [
        {"supplier_id": supplier.id, "reason": "claimed", "previous_owner_id": placeholder.id}
    ]


@pytest.mark.parametrize("moved", [False, True])
def test_the_admin_form_sends_the_change(sent: list[dict[str, Any]], moved: bool) -> None:
    before = OrganizationFactory(kind="sme")
    supplier = SupplierFactory(owner=before)
    if moved:
        Supplier.objects.filter(id=supplier.id).update(owner=OrganizationFactory(kind="sme"))
    form = SimpleNamespace(
        instance=Supplier.objects.get(id=supplier.id),
        changed_data=["owner", "city"] if moved else ["city"],
        initial={"owner": before.id},
        save_m2m=lambda: None,
    )
    request = RequestFactory().post("/admin/suppliers/supplier/")
    request.user = UserFactory(is_staff=True, is_superuser=True)

    admin.site._registry[Supplier].save_related(request, form, [], change=True)

    assert sent == [
        {
            "supplier_id": supplier.id,
            "reason": "updated",
            "previous_owner_id": before.id if moved else None,
        }
    ]
