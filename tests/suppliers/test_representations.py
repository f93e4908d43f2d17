"""Stored list representations (``suppliers.representations``): the list reads them when
they are current, every kind of write clears them (PostgreSQL triggers, whoever writes),
they expire with the day a date-dependent field turns and with the SQL's version, and a
refresh racing a write never stores what the write changed."""

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from remag.accounts.caller import ANONYMOUS
from suppliers import representations, selectors
from suppliers.classification import financial_year_of
from suppliers.models import (
    Capability,
    Certification,
    Supplier,
    SupplierGstin,
    SupplierPlant,
    SupplierRepresentation,
)
from tests.conftest import client_with
from tests.factories import (
    SupplierCapabilityFactory,
    SupplierCertificateFactory,
    SupplierFactory,
    gstin_for,
)

pytestmark = [pytest.mark.usefixtures("postgres")]

URL = "/api/v1/suppliers/"
MARK = "Tampered Stored Name"


def listed(supplier: Supplier) -> dict[str, Any]:
    items = client_with().get(URL, {"page_size": 50}).json()["results"]
    return next(item for item in items if item["id"] == str(supplier.id))


def tamper(supplier: Supplier) -> None:
    """Mark the stored text, so a list that reads it shows the mark (the representation
    table has no trigger: this write clears nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE suppliers_supplierrepresentation"
            " SET public = replace(public, %s, %s) WHERE supplier_id = %s",
            [supplier.legal_name, MARK, supplier.id],
        )
        assert cursor.rowcount == 1


@pytest.fixture
def supplier(db: None) -> Supplier:
    supplier = SupplierFactory(legal_name="Kaveri Sinter Works Pvt Ltd", state="TN")
    SupplierCapabilityFactory(supplier=supplier)
    certificate = SupplierCertificateFactory(
        supplier=supplier, certification=Certification.objects.get(code="iso-iec-17025")
    )
    certificate.scope.set(Capability.objects.filter(code="jet-milling"))
    plant = SupplierPlant.objects.create(supplier=supplier, name="Hosur", state="TN")
    plant.capabilities.set(Capability.objects.filter(code="jet-milling"))
    assert representations.representations_refresh([supplier.id]) == 1
    return supplier


@pytest.mark.django_db
def test_the_list_reads_the_stored_text(supplier: Supplier) -> None:
    tamper(supplier)
    assert listed(supplier)["legal_name"] == MARK
    detail = client_with().get(f"{URL}{supplier.id}/").json()
    assert detail["legal_name"] == "Kaveri Sinter Works Pvt Ltd"  # the detail never does


def _capability_renamed(supplier: Supplier) -> None:
    Capability.objects.filter(code="jet-milling").update(name="Jet milling (renamed)")


def _certification_renamed(supplier: Supplier) -> None:
    Certification.objects.filter(code="iso-iec-17025").update(edition="2027")


WRITES: dict[str, Callable[[Supplier], None]] = {
    "supplier saved": lambda s: Supplier.objects.filter(id=s.id).update(city="Hosur"),
    "capability added": lambda s: SupplierCapabilityFactory(
        supplier=s, capability=Capability.objects.get(code="sintering")
    ),
    "capability changed": lambda s: s.capabilities.update(lead_time_days=9),
    "capability removed": lambda s: s.capabilities.all().delete(),
    "certificate added": lambda s: SupplierCertificateFactory(supplier=s),
    "certificate changed": lambda s: s.certificates.update(certificate_number="X-1"),
    "scope changed": lambda s: s.certificates.get().scope.set(
        Capability.objects.filter(code="sintering")
    ),
    "gstin added": lambda s: SupplierGstin.objects.create(
        supplier=s, gstin=gstin_for("33", "AAKCK1234K"), state="TN", position=0
    ),
    "plant added": lambda s: SupplierPlant.objects.create(supplier=s, name="Chennai"),
    "plant capabilities changed": lambda s: s.plants.get().capabilities.clear(),
    "plant removed": lambda s: s.plants.all().delete(),
    "capability renamed": _capability_renamed,
    "certification renamed": _certification_renamed,
}


@pytest.mark.django_db
@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_clears_the_stored_text(supplier: Supplier, write: str) -> None:
    tamper(supplier)
    before = SupplierRepresentation.objects.get(supplier=supplier).gen

    WRITES[write](supplier)

    stored = SupplierRepresentation.objects.get(supplier=supplier)
    assert stored.gen > before
    assert stored.public is None
    assert stored.private is None
    item = listed(supplier)
    assert item["legal_name"] == "Kaveri Sinter Works Pvt Ltd"
    assert item == client_with().get(f"{URL}{supplier.id}/").json()
    # and the next refresh stores the new text
    assert representations.representations_refresh([supplier.id]) == 1
    assert listed(supplier) == item


@pytest.mark.django_db
def test_a_rename_of_another_capability_keeps_the_text(supplier: Supplier) -> None:
    Capability.objects.filter(code="sintering").update(name="Sintering (renamed)")
    assert SupplierRepresentation.objects.get(supplier=supplier).public is not None
    Capability.objects.filter(code="jet-milling").update(description="unchanged fields shown")
    assert SupplierRepresentation.objects.get(supplier=supplier).public is not None


@pytest.mark.django_db
def test_deleting_a_supplier_deletes_its_text(supplier: Supplier) -> None:
    supplier.delete()
    assert not SupplierRepresentation.objects.filter(supplier_id=supplier.id).exists()


@pytest.mark.django_db
def test_a_text_holds_until_a_certificate_turns(supplier: Supplier) -> None:
    today = timezone.localdate()
    supplier.certificates.update(valid_until=today + timedelta(days=2))
    starts = SupplierCertificateFactory(supplier=supplier, valid_from=today + timedelta(days=5))
    assert representations.representations_refresh([supplier.id]) == 1
    stored = SupplierRepresentation.objects.get(supplier=supplier)
    assert (stored.as_of, stored.fresh_until) == (today, today + timedelta(days=3))

    def read_on(day: date) -> str | None:
        queryset = Supplier.objects.filter(id=supplier.id)
        return (
            selectors.supplier_list_stored(
                queryset, caller=ANONYMOUS, url_prefix="http://testserver/", today=day
            )
            .values_list("representation", flat=True)
            .get()
        )

    assert read_on(today + timedelta(days=2)) is not None
    assert read_on(today + timedelta(days=3)) is None  # the lab certificate has lapsed
    assert read_on(today - timedelta(days=1)) is None  # built after that day
    assert supplier.id in representations.representations_stale(
        limit=10, today=today + timedelta(days=3)
    )
    # built on the later day, it holds until the next certificate starts
    assert representations.representations_refresh([supplier.id], today=today + timedelta(3)) == 1
    stored.refresh_from_db()
    assert stored.fresh_until == starts.valid_from


@pytest.mark.django_db
def test_a_text_holds_until_the_classification_turns_stale(db: None) -> None:
    today = timezone.localdate()
    year = financial_year_of(today)
    current = SupplierFactory(classification_year=year)
    stale = SupplierFactory(classification_year=year - 2)
    undated = SupplierFactory(classification_year=None)
    assert representations.representations_refresh([current.id, stale.id, undated.id]) == 3
    fresh_until = dict(SupplierRepresentation.objects.values_list("supplier_id", "fresh_until"))
    assert fresh_until == {current.id: date(year + 1, 4, 1), stale.id: None, undated.id: None}


@pytest.mark.django_db
def test_another_version_reads_as_stale(supplier: Supplier) -> None:
    tamper(supplier)
    SupplierRepresentation.objects.filter(supplier=supplier).update(version="older")
    assert listed(supplier)["legal_name"] == "Kaveri Sinter Works Pvt Ltd"
    assert representations.representations_stale(limit=10) == [supplier.id]
    assert representations.representations_sweep() == 1
    assert representations.representations_stale(limit=10) == []


def _dsn() -> str:
    settings = connection.settings_dict
    return (
        f"host={settings['HOST']} port={settings['PORT'] or 5432} dbname={settings['NAME']}"
        f" user={settings['USER']}"
    )


def _write_uncommitted(supplier: Supplier) -> psycopg.Connection:
    """A writer that adds a capability to ``supplier`` and holds its transaction open."""
    writer = psycopg.connect(_dsn())
    writer.execute(
        "INSERT INTO suppliers_suppliercapability (id, created_at, updated_at, supplier_id,"
        " capability_id, capacity_unit, grades, materials, description)"
        " VALUES (gen_random_uuid(), now(), now(), %s, %s, 'kg_per_month', '{}', '{}', '')",
        [supplier.id, Capability.objects.get(code="sintering").id],
    )
    return writer


def _refresh_in_thread(supplier: Supplier) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def refresh() -> None:
        from django.db import connections

        try:
            outcome.append(representations.representations_refresh([supplier.id]))
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=refresh)
    thread.start()
    return thread, outcome


def _wait_until_the_refresh_waits() -> None:
    with psycopg.connect(_dsn(), autocommit=True) as observer:
        for _ in range(400):
            waiting = observer.execute(
                # This database's sessions only: the suite's other process runs the same
                # test on a database of its own, on the same server.
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND query LIKE %s",
                ["%INSERT INTO suppliers_supplierrepresentation%"],
            ).fetchone()
            if waiting and waiting[0]:
                return
            threading.Event().wait(0.05)
    pytest.fail("the refresh never waited for the writer")


def _capabilities_listed(supplier: Supplier) -> list[str]:
    return [c["capability"] for c in listed(supplier)["capabilities"]]


@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_first_write_stores_nothing_stale(monkeypatch: Any) -> None:
    """A writer adds a capability to a supplier with no stored text yet and holds its
    transaction open; a refresh meanwhile (its snapshot without the capability) waits
    for it and must then store nothing: the text the write cleared stays cleared."""
    monkeypatch.setattr(representations, "LOCK_TIMEOUT_MS", 30_000)
    supplier = SupplierFactory()
    SupplierCapabilityFactory(supplier=supplier)
    SupplierRepresentation.objects.filter(supplier=supplier).delete()  # never stored
    writer = _write_uncommitted(supplier)
    try:
        thread, outcome = _refresh_in_thread(supplier)
        _wait_until_the_refresh_waits()
        writer.commit()
        thread.join(timeout=30)
    finally:
        writer.close()
    assert outcome == [0]
    assert SupplierRepresentation.objects.get(supplier=supplier).public is None
    assert representations.representations_refresh([supplier.id]) == 1
    assert _capabilities_listed(supplier) == ["jet-milling", "sintering"]


@pytest.mark.django_db(transaction=True)
def test_a_refresh_gives_way_to_a_write_in_progress() -> None:
    """A refresh never makes a writer wait for it, nor lose a deadlock to it: a text a
    writer holds is skipped, and a first text a writer is inserting is given up after
    ``LOCK_TIMEOUT_MS``; the next sweep stores both."""
    held = SupplierFactory()
    SupplierCapabilityFactory(supplier=held)
    assert representations.representations_refresh([held.id]) == 1
    fresh = SupplierFactory()
    SupplierCapabilityFactory(supplier=fresh)
    SupplierRepresentation.objects.filter(supplier=fresh).delete()  # never stored
    writers = [_write_uncommitted(held), _write_uncommitted(fresh)]
    try:
        assert representations.representations_refresh([held.id]) == 0  # skipped at once
        assert representations.representations_refresh([fresh.id]) == 0  # gave up waiting
        for writer in writers:
            writer.commit()
    finally:
        for writer in writers:
            writer.close()
    assert SupplierRepresentation.objects.get(supplier=held).public is None
    assert representations.representations_sweep() == 2
    assert _capabilities_listed(held) == ["jet-milling", "sintering"]
    assert _capabilities_listed(fresh) == ["jet-milling", "sintering"]


@pytest.mark.django_db
def test_the_sweep_deletes_texts_of_deleted_suppliers_and_runs_alone(supplier: Supplier) -> None:
    with connection.cursor() as cursor:  # a text left behind by a refresh racing a delete
        cursor.execute(
            "INSERT INTO suppliers_supplierrepresentation (supplier_id, gen, public)"
            " VALUES (gen_random_uuid(), 0, '{}')"
        )
    assert representations.representations_sweep() == 0
    assert list(SupplierRepresentation.objects.values_list("supplier_id", flat=True)) == [
        supplier.id
    ]
    SupplierRepresentation.objects.filter(supplier=supplier).update(version="older")
    with psycopg.connect(_dsn(), autocommit=True) as other:  # another sweep is running
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [representations._SWEEP_LOCK])
        assert representations.representations_sweep() == 0
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [representations._SWEEP_LOCK])
    assert representations.representations_sweep() == 1


@pytest.mark.django_db
def test_a_service_change_rebuilds_the_text_on_commit(
    supplier: Supplier, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    from suppliers import services

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.supplier_verify(supplier=supplier, by=None)
    assert callbacks  # the refresh was scheduled on commit, and ran
    stored = SupplierRepresentation.objects.get(supplier=supplier)
    assert stored.public is not None
    assert '"status":"active"' in stored.public
    assert listed(supplier) == client_with().get(f"{URL}{supplier.id}/").json()


@pytest.mark.django_db
def test_the_command_stores_every_stale_text(db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    suppliers = [SupplierFactory() for _ in range(3)]
    out = StringIO()
    call_command("refresh_representations", stdout=out)
    assert "3 supplier representations stored" in out.getvalue()
    assert set(
        SupplierRepresentation.objects.exclude(public=None).values_list("supplier_id", flat=True)
    ) == {s.id for s in suppliers}
