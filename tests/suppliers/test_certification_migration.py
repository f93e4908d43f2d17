"""Migrations suppliers 0011 and matching 0003 on crafted rows: NABL certificates merge
into ISO/IEC 17025 without loss, requests follow, and the taxonomy digests are redone so
``load_taxonomy`` still tells untouched rows from operators' edits."""

import importlib
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("suppliers", "0014_certification_kind_edition_scope"),
    ("matching", "0005_request_grades_required"),
]
AFTER = [
    ("suppliers", "0015_certifications_nabl_into_17025"),
    ("matching", "0006_requests_nabl_into_17025"),
]
migration = importlib.import_module("suppliers.migrations.0015_certifications_nabl_into_17025")


def old_row(code: str, name: str, category: str, description: str = "") -> dict[str, Any]:
    """A certification as the previous release loaded it (digest over its old fields)."""
    values = {"name": name, "description": description, "category": category}
    return {"code": code, "shipped_hash": migration.digest(values), **values}


@pytest.mark.django_db(transaction=True)
def test_nabl_merges_into_17025_without_loss(back_to_latest: None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Certification = apps.get_model("suppliers", "Certification")
    Certification.objects.all().delete()  # the shipped taxonomy the fixture loaded
    Certificate = apps.get_model("suppliers", "SupplierCertificate")
    organization = apps.get_model("accounts", "Organization").objects.create(name="S", kind="sme")
    Supplier = apps.get_model("suppliers", "Supplier")
    nabl = Certification.objects.create(**old_row("nabl", "NABL accreditation", "laboratory"))
    lab = Certification.objects.create(**old_row("iso-iec-17025", "ISO/IEC 17025", "laboratory"))
    Certification.objects.create(**old_row("iso-9001", "ISO 9001", "quality"))
    edited = old_row("iso-14001", "ISO 14001", "environment")
    Certification.objects.create(**{**edited, "name": "ISO 14001 (curated)"})

    def supplier(n: int) -> Any:
        return Supplier.objects.create(
            owner=organization,
            legal_name=f"Lab {n}",
            udyam_number=f"UDYAM-KR-03-{n:07d}",
            enterprise_size="small",
            state="KA",
            pin_code="560058",
        )

    def cert(holder: Any, certification: Any, number: str, until: date, body: str = "") -> Any:
        return Certificate.objects.create(
            supplier=holder,
            certification=certification,
            certificate_number=number,
            issuing_body=body,
            valid_from=date(2024, 4, 1),
            valid_until=until,
        ).id

    both, only_nabl, only_lab, two_labs = supplier(1), supplier(2), supplier(3), supplier(4)
    longer = cert(both, nabl, "TC-1", date(2027, 3, 31), "NABL")
    shorter = cert(both, lab, "TC-1A", date(2026, 12, 31), "TUV India")
    alone = cert(only_nabl, nabl, "TC-2", date(2027, 1, 31), "TUV India")
    foreign = cert(only_lab, lab, "AC-3", date(2027, 1, 31), "A2LA")
    pair_nabl = cert(two_labs, nabl, "TC-4", date(2026, 6, 30))
    pair_lab = cert(two_labs, lab, "tc-4 ", date(2026, 9, 30))
    second_lab = cert(two_labs, lab, "TC-5", date(2026, 9, 30), "NABL")

    Request = apps.get_model("matching", "ProcurementRequest")
    buyer = apps.get_model("accounts", "Organization").objects.create(name="B", kind="manufacturer")

    def request(required: list[Any], preferred: list[Any]) -> Any:
        row = Request.objects.create(owner=buyer, title="T", layer="testing", delivery_state="KA")
        row.required_certifications.set(required)
        row.preferred_certifications.set(preferred)
        return row.id

    requires_nabl = request([nabl], [])
    prefers_nabl = request([], [nabl])
    prefers_nabl_requires_lab = request([lab], [nabl])
    requires_nabl_prefers_lab = request([nabl], [lab])
    apps.get_model("matching", "NearMiss").objects.create(
        request_id=requires_nabl,
        supplier=only_lab,
        constraint="certification:nabl",
        reason="needs a valid nabl certificate",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Certification = apps.get_model("suppliers", "Certification")
    Certificate = apps.get_model("suppliers", "SupplierCertificate")
    rows = {c.id: c for c in Certificate.objects.select_related("certification")}

    # Merged: the longer validity and its number kept, body NABL; the other absorbed.
    assert longer in rows
    assert shorter not in rows
    assert (rows[longer].certification.code, rows[longer].certificate_number) == (
        "iso-iec-17025",
        "TC-1",
    )
    assert rows[longer].issuing_body == "NABL"
    # NABL alone: re-pointed with body NABL (what the code meant).
    assert (rows[alone].certification.code, rows[alone].issuing_body) == ("iso-iec-17025", "NABL")
    # Another body's 17025 alone is left as it was.
    assert rows[foreign].issuing_body == "A2LA"
    # Paired by number (case and spaces aside); a tie on validity keeps the 17025 row.
    assert pair_nabl not in rows
    assert rows[pair_lab].valid_until == date(2026, 9, 30)
    assert rows[pair_lab].issuing_body == "NABL"
    assert rows[second_lab].certification.code == "iso-iec-17025"
    # No supplier lost its accreditation; only the duplicates went.
    assert len(rows) == 5
    assert {c.certification.code for c in rows.values()} == {"iso-iec-17025"}
    assert Certificate.objects.filter(supplier_id=two_labs.id).count() == 2

    # The taxonomy: nabl retired; untouched rows re-digested over the new fields.
    nabl = Certification.objects.get(code="nabl")
    assert nabl.is_active is False
    lab = Certification.objects.get(code="iso-iec-17025")
    assert (lab.kind, lab.scoped, lab.edition) == ("accreditation", True, "ISO/IEC 17025:2017")
    fields = migration.NEW_FIELDS
    for code in ("iso-9001", "iso-iec-17025", "nabl"):
        row = Certification.objects.get(code=code)
        assert migration.digest({f: getattr(row, f) for f in fields}) == row.shipped_hash, code
    curated = Certification.objects.get(code="iso-14001")
    assert curated.edition == "ISO 14001:2015"
    assert migration.digest({f: getattr(curated, f) for f in fields}) != curated.shipped_hash

    # Requests follow; a certification stays listed in one place (required wins).
    Request = apps.get_model("matching", "ProcurementRequest")

    def codes(request_id: Any) -> tuple[list[str], list[str]]:
        row = Request.objects.get(id=request_id)
        return (
            sorted(row.required_certifications.values_list("code", flat=True)),
            sorted(row.preferred_certifications.values_list("code", flat=True)),
        )

    assert codes(requires_nabl) == (["iso-iec-17025"], [])
    assert codes(prefers_nabl) == ([], ["iso-iec-17025"])
    assert codes(prefers_nabl_requires_lab) == (["iso-iec-17025"], [])
    assert codes(requires_nabl_prefers_lab) == (["iso-iec-17025"], [])
    near = apps.get_model("matching", "NearMiss").objects.get()
    assert near.constraint == "certification:iso-iec-17025"


@pytest.mark.django_db(transaction=True)
def test_the_loader_after_the_migration_updates_untouched_rows_only(back_to_latest: None) -> None:
    """The migration and ``load_taxonomy`` agree: after the re-digest, a load brings the
    new wording to untouched rows and reports the operator-edited one as kept."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Certification = apps.get_model("suppliers", "Certification")
    Certification.objects.all().delete()  # the shipped taxonomy the fixture loaded
    Certification.objects.create(**old_row("iso-9001", "ISO 9001", "quality", "Quality."))
    edited = old_row("as9100", "AS9100", "quality", "Aerospace.")
    Certification.objects.create(**{**edited, "description": "Aerospace (curated)."})
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from suppliers.models import Certification as Current
    from suppliers.taxonomy import taxonomy_load

    report = taxonomy_load()

    assert "certifications:iso-9001" in report.updated
    assert report.kept_operator_edits == ["certifications:as9100"]
    assert Current.objects.get(code="iso-9001").edition == "ISO 9001:2015"
    assert Current.objects.get(code="as9100").description == "Aerospace (curated)."
    assert Current.objects.get(code="as9100").edition == "AS9100D"
    assert taxonomy_load().updated == []
