"""The permission matrix of the registry and the taxonomy: every endpoint x every role,
from the same helper as matching's and webhooks' (tests/matrix.py). Which private
fields each role sees is in test_api.py's matrix; imports have their own tests."""

from collections.abc import Iterator
from typing import Any

import pytest

from suppliers.models import Supplier
from tests.conftest import client_with, shared_copy, shared_rows
from tests.factories import (
    APIKeyFactory,
    MembershipFactory,
    OrganizationFactory,
    SupplierFactory,
    UserTokenFactory,
)
from tests.matrix import Endpoint, assert_covers, call, matrix_cases
from tests.suppliers.test_api import payload

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "owner_member",
    "owner_write_key",
    "other_sme",
    "manufacturer",
    "portal_read_key",
    "portal_write_key",
    "operator",
)
EVERYONE = dict.fromkeys(ROLES, 200)


def changers(ok: int) -> dict[str, int]:
    """The owner's members and keys and operators change a supplier; others may not."""
    return dict.fromkeys(ROLES, 403) | {
        "anonymous": 401,
        "owner_member": ok,
        "owner_write_key": ok,
        "operator": ok,
    }


OPERATORS = dict.fromkeys(ROLES, 403) | {"anonymous": 401, "operator": 200}
TAXONOMY = {
    f"taxonomy-{name}": Endpoint("GET", f"/api/v1/taxonomy/{path}", EVERYONE, {"code": name})
    for name, path in (
        ("layers", "layers/"),
        ("capabilities", "capabilities/"),
        ("capability", "capabilities/{code}/"),
        ("certifications", "certifications/"),
        ("certification", "certifications/{code}/"),
        ("grades", "grades/"),
        ("grade", "grades/{code}/"),
    )
}
NEW = payload(udyam_number="UDYAM-MH-26-0099999", gstin=None)

ENDPOINTS = {
    "supplier-list": Endpoint("GET", "/api/v1/suppliers/", EVERYONE),
    # SMEs register their own; portals and operators on an SME's behalf.
    "supplier-create": Endpoint(
        "POST",
        "/api/v1/suppliers/",
        dict.fromkeys(ROLES, 201) | {"anonymous": 401, "manufacturer": 403, "portal_read_key": 403},
        body=NEW,
    ),
    "supplier-retrieve": Endpoint("GET", "/api/v1/suppliers/{id}/", EVERYONE),
    "supplier-update": Endpoint("PUT", "/api/v1/suppliers/{id}/", changers(200), body=payload()),
    "supplier-partial-update": Endpoint(
        "PATCH", "/api/v1/suppliers/{id}/", changers(200), body={"trade_name": "Changed"}
    ),
    "supplier-destroy": Endpoint("DELETE", "/api/v1/suppliers/{id}/", changers(204)),
    "supplier-verify": Endpoint("POST", "/api/v1/suppliers/{id}/verify/", OPERATORS),
    "supplier-suspend": Endpoint(
        "POST", "/api/v1/suppliers/{id}/suspend/", OPERATORS, body={"reason": "audit"}
    ),
    **TAXONOMY,
}


def test_the_matrix_covers_every_registry_and_taxonomy_endpoint() -> None:
    assert_covers(
        ENDPOINTS,
        "/api/v1/suppliers/",
        "/api/v1/taxonomy/",
        elsewhere=("/api/v1/suppliers/{id}/opportunities/", "/api/v1/suppliers/{id}/gaps/"),
    )


@pytest.fixture(scope="module")
def shared_stage(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[tuple[Any, dict[str, str | None]]]:
    """A supplier and a caller of each role, built once for the module (tests/conftest.py's
    shared_rows); each case runs in its own savepoint. Returns the supplier and each
    role's credentials."""
    with shared_rows(django_db_blocker):
        with django_db_blocker.unblock():
            supplier = SupplierFactory(udyam_number=payload()["udyam_number"])

            def person(organization: Any) -> str:
                user = MembershipFactory(organization=organization).user
                return f"Bearer {UserTokenFactory(user=user).raw_key}"

            def key(organization: Any, scopes: tuple[str, ...]) -> str:
                api_key = APIKeyFactory(organization=organization, scopes=list(scopes))
                return f"Api-Key {api_key.raw_key}"

            credentials = {
                "anonymous": None,
                "owner_member": person(supplier.owner),
                "owner_write_key": key(supplier.owner, ("read", "write")),
                "other_sme": person(OrganizationFactory(kind="sme")),
                "manufacturer": person(OrganizationFactory(kind="manufacturer")),
                "portal_read_key": key(OrganizationFactory(kind="portal"), ("read",)),
                "portal_write_key": key(OrganizationFactory(kind="portal"), ("read", "write")),
                "operator": person(OrganizationFactory(kind="operator")),
            }
        yield supplier, credentials


@pytest.fixture
def stage(
    request: pytest.FixtureRequest, shared_stage: tuple[Any, dict[str, str | None]]
) -> tuple[Any, dict[str, str | None]]:
    return shared_copy(request, shared_stage)


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(
    stage: tuple[Any, dict[str, str | None]], name: str, role: str, status: int
) -> None:
    supplier, credentials = stage
    before = Supplier.objects.values().get(id=supplier.id)
    count = Supplier.objects.count()

    context = {
        "id": supplier.id,
        "capability": "jet-milling",
        "certification": "iso-9001",
        "grade": "n52",
    }
    call(client_with(credentials[role]), ENDPOINTS[name], context, status)

    if status >= 400:  # a refusal changes nothing
        assert Supplier.objects.values().get(id=supplier.id) == before
        assert Supplier.objects.count() == count
