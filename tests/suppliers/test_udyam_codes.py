"""Udyam state codes as the Udyam portal writes them: Karnataka's numbers read
UDYAM-KR-, no number reads UDYAM-DH-; a typed KA (or a pre-2023 ISO code) is read as the
real code, through the API and in the rows stored before (migration 0005)."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from suppliers import imports
from suppliers.models import Supplier
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory
from tests.suppliers.test_api import URL, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def sme_member(db: Any) -> Any:
    return MembershipFactory(organization=OrganizationFactory(kind="sme"), role="admin").user


def register(client: Any, udyam_number: str) -> Any:
    return client.post(URL, payload(udyam_number=udyam_number, gstin=None, state="KA"))


def test_a_real_karnataka_number_is_accepted(user_client: Any, sme_member: Any) -> None:
    response = register(user_client(sme_member), "UDYAM-KR-03-0278313")

    assert response.status_code == 201, response.json()
    assert response.json()["udyam_number"] == "UDYAM-KR-03-0278313"


def test_a_karnataka_number_typed_with_ka_is_stored_with_kr(
    user_client: Any, sme_member: Any
) -> None:
    response = register(user_client(sme_member), "udyam-ka-03-0278313")

    assert response.status_code == 201, response.json()
    assert response.json()["udyam_number"] == "UDYAM-KR-03-0278313"
    assert Supplier.objects.get().udyam_number == "UDYAM-KR-03-0278313"


def test_the_same_number_typed_with_ka_is_a_duplicate(user_client: Any, sme_member: Any) -> None:
    SupplierFactory(udyam_number="UDYAM-KR-03-0278313")

    response = register(user_client(sme_member), "UDYAM-KA-03-0278313")

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "udyam_number"


def test_dh_is_refused_naming_the_field(user_client: Any, sme_member: Any) -> None:
    response = register(user_client(sme_member), "UDYAM-DH-01-0002992")

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "udyam_number"
    assert "UDYAM-DD-" in error["message"]
    assert not Supplier.objects.exists()


@pytest.mark.parametrize("code", ["DD", "DN"])
def test_both_real_codes_of_dadra_daman_diu_are_kept_as_given(
    user_client: Any, sme_member: Any, code: str
) -> None:
    response = register(user_client(sme_member), f"UDYAM-{code}-01-0002992")

    assert response.status_code == 201, response.json()
    assert response.json()["udyam_number"] == f"UDYAM-{code}-01-0002992"


# ------------------------------------------------------------------ the data migration

BEFORE = [("suppliers", "0004_job_machine")]
AFTER = [("suppliers", "0005_udyam_state_codes")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate the test database to ``targets``; returns the apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


# Outside a test transaction: migrating back and forth alters tables holding new rows.
@pytest.mark.django_db(transaction=True)
def test_the_migration_rewrites_stored_numbers_without_loss(back_to_latest: None) -> None:
    apps = migrate(BEFORE)
    organization = apps.get_model("accounts", "Organization").objects.create(name="SME", kind="sme")
    historical = apps.get_model("suppliers", "Supplier")

    def make(udyam_number: str, state: str) -> Any:
        return historical.objects.create(
            owner=organization,
            legal_name=f"Works {udyam_number}",
            udyam_number=udyam_number,
            enterprise_size="small",
            state=state,
            pin_code="560058",
        ).id

    karnataka = make("UDYAM-KA-03-0091212", "KA")
    odisha = make("UDYAM-OR-19-0064755", "OD")
    # Both spellings of one Telangana number were accepted before: nothing is dropped,
    # the alias stays and is flagged as a possible duplicate for an operator.
    real = make("UDYAM-TS-20-0013532", "TS")
    alias = make("UDYAM-TG-20-0013532", "TS")
    untouched = make("UDYAM-MH-26-0012345", "MH")

    apps = migrate(AFTER)

    rows = {row.id: row for row in apps.get_model("suppliers", "Supplier").objects.all()}
    assert len(rows) == 5
    assert rows[karnataka].udyam_number == "UDYAM-KR-03-0091212"
    assert rows[karnataka].state == "KA"  # the address keeps its ISO code
    assert rows[karnataka].legal_name == "Works UDYAM-KA-03-0091212"
    assert rows[odisha].udyam_number == "UDYAM-OD-19-0064755"
    assert rows[real].udyam_number == "UDYAM-TS-20-0013532"
    assert rows[alias].udyam_number == "UDYAM-TG-20-0013532"
    assert rows[alias].possible_duplicate_of_id == real
    assert rows[untouched].udyam_number == "UDYAM-MH-26-0012345"


def test_a_reimported_ka_row_updates_the_profile_stored_with_kr(key_client: Any) -> None:
    portal = OrganizationFactory(kind="portal")
    SupplierFactory(udyam_number="UDYAM-KR-03-0091212", onboarded_by=portal, claimed_at=None)
    content = (
        b"udyam_number,legal_name,enterprise_size,state,pin_code\n"
        b"UDYAM-KA-03-0091212,Peenya Magnetic Test Laboratory,medium,KA,560058\n"
    )
    response = key_client(portal).post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("s.csv", content)},
        format="multipart",
    )
    assert response.status_code == 202, response.json()

    job = imports.import_job_execute(job_id=response.json()["id"])

    assert (job.updated_count, job.failed_count) == (1, 0), list(
        job.row_errors.values_list("field", "message")
    )
    (supplier,) = Supplier.objects.filter(udyam_number__startswith="UDYAM-K")
    assert supplier.udyam_number == "UDYAM-KR-03-0091212"
    assert supplier.legal_name == "Peenya Magnetic Test Laboratory"
