"""The registry works through the admin: pages render, actions verify and suspend."""

from typing import Any

import pytest
from django.test import Client

from suppliers.models import Supplier
from tests.factories import SupplierCapabilityFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in() -> tuple[Client, Any]:
    user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client, user


@pytest.mark.parametrize(
    "path",
    [
        "/admin/suppliers/supplier/",
        "/admin/suppliers/capability/",
        "/admin/suppliers/certification/",
        "/admin/suppliers/materialgrade/",
        "/admin/suppliers/importjob/",
        "/admin/accounts/organization/",
        "/admin/accounts/organizationapikey/",
    ],
)
def test_admin_pages_render(admin_client_logged_in: tuple[Client, Any], path: str) -> None:
    client, _ = admin_client_logged_in
    SupplierCapabilityFactory()

    assert client.get(path).status_code == 200


def test_supplier_change_page_renders(admin_client_logged_in: tuple[Client, Any]) -> None:
    client, _ = admin_client_logged_in
    supplier = SupplierCapabilityFactory().supplier

    assert client.get(f"/admin/suppliers/supplier/{supplier.id}/change/").status_code == 200


def test_admin_actions_verify_and_suspend(admin_client_logged_in: tuple[Client, Any]) -> None:
    client, user = admin_client_logged_in
    first, second = SupplierFactory(status="pending"), SupplierFactory(status="active")

    client.post(
        "/admin/suppliers/supplier/",
        {"action": "verify", "_selected_action": [str(first.id)]},
    )
    client.post(
        "/admin/suppliers/supplier/",
        {"action": "suspend", "_selected_action": [str(second.id)]},
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.verified_by) == ("active", user)
    assert second.status == "suspended"
    assert Supplier.objects.count() == 2


def test_schema_documents_every_supplier_filter(client: Client) -> None:
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    parameters = {p["name"] for p in schema["paths"]["/api/v1/suppliers/"]["get"]["parameters"]}

    assert {
        "q", "layer", "capability", "capability_all", "certification", "state", "enterprise_size",
        "status", "women_owned", "sc_st_owned", "min_capacity", "capacity_for", "capacity_unit",
        "ordering", "cursor", "page_size",
    } <= parameters  # fmt: skip
