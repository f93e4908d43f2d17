"""A match run's load reads its offers, certificates, plants and track records on a
connection of its own while the candidate query runs (``remag.db.Alongside``): on
PostgreSQL with the pool on, outside a transaction. What it loads is the same either way;
inside a transaction (where another connection would not see the caller's writes) it reads
everything in turn on the caller's connection."""

import threading
import time
from dataclasses import fields
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.db import DatabaseError, OperationalError, connection, connections, transaction
from django.utils import timezone

from matching import candidates
from matching.models import ProcurementRequest
from remag import db
from remag.accounts.models import Organization
from suppliers.demo import seed_demo
from suppliers.models import Capability, Certification, MaterialGrade, SupplierCertificate
from tests.conftest import taxonomy_load_fast

pytestmark = [pytest.mark.django_db(transaction=True)]

SPECS: list[dict[str, Any]] = [
    # Required and preferred certificates (one of them expiring before the needed-by
    # date for some), a delivery point, text.
    {
        "layer": "components",
        "capabilities": ["jet-milling", "hydrogen-decrepitation", "strip-casting"],
        "required": ["iso-9001"],
        "preferred": ["iatf-16949", "iso-14001"],
        "location": (13.08, 80.27),
        "description": "Jet milling and hydrogen decrepitation of NdFeB strip-cast alloy.",
        "needed_in": 400,
    },
    # A scoped accreditation (its scope's checks read apart too), a radius.
    {
        "layer": "testing",
        "capabilities": ["hysteresigraph-testing", "chemical-analysis"],
        "required": ["iso-iec-17025"],
        "preferred": ["iso-9001"],
        "location": (18.52, 73.85),
        "radius": 900,
        "description": "",
        "needed_in": 60,
    },
    # No certificates, no location, grades.
    {
        "layer": "components",
        "capabilities": ["sintering", "magnetising", "precision-grinding"],
        "required": [],
        "preferred": [],
        "location": None,
        "description": "Sintered N42 blocks.",
        "grades": 2,
        "needed_in": 30,
    },
]


def make_request(owner: Organization, spec: dict[str, Any]) -> ProcurementRequest:
    location = spec["location"]
    request = ProcurementRequest.objects.create(
        owner=owner,
        title="alongside",
        description=spec["description"],
        layer=spec["layer"],
        quantity=Decimal("500"),
        quantity_unit="kg",
        needed_by=timezone.localdate() + timedelta(days=spec["needed_in"]),
        delivery_state="TN",
        delivery_latitude=location[0] if location else None,
        delivery_longitude=location[1] if location else None,
        max_distance_km=spec.get("radius"),
        prefer_micro_small=True,
        status="open",
    )
    request.required_capabilities.set(Capability.objects.filter(code__in=spec["capabilities"]))
    request.required_certifications.set(Certification.objects.filter(code__in=spec["required"]))
    request.preferred_certifications.set(Certification.objects.filter(code__in=spec["preferred"]))
    if spec.get("grades"):
        request.grades.set(MaterialGrade.objects.order_by("code")[: spec["grades"]])
    return request


def same_values(a: Any, b: Any) -> bool:
    """Equal element by element, NaN equal to NaN (object arrays, so texts compare too)."""
    x, y = np.ravel(np.asarray(a, dtype=object)), np.ravel(np.asarray(b, dtype=object))
    return x.shape == y.shape and all(
        p == q or (p != p and q != q) for p, q in zip(x, y, strict=True)
    )


def assert_same_rows(one: candidates.Loaded, i: int, other: candidates.Loaded, j: int) -> None:
    """Row ``i`` of one batch and row ``j`` of the other hold the same values, column by
    column (a column absent from one is absent from both)."""
    for spec in fields(one.batch):
        a, b = getattr(one.batch, spec.name), getattr(other.batch, spec.name)
        if a is None or b is None:
            assert a is None, spec.name
            assert b is None, spec.name
            continue
        row_a, row_b = np.asarray(a, dtype=object)[i], np.asarray(b, dtype=object)[j]
        assert same_values(row_a, row_b), spec.name


def assert_same_batch(one: candidates.Loaded, other: candidates.Loaded) -> None:
    assert one.criteria == other.criteria
    assert sorted(one.batch.supplier_ids) == sorted(other.batch.supplier_ids)
    position = {sid: j for j, sid in enumerate(other.batch.supplier_ids)}
    for i, sid in enumerate(one.batch.supplier_ids):
        assert_same_rows(one, i, other, position[sid])


@pytest.fixture
def registry(postgres: None) -> Organization:
    taxonomy_load_fast()
    seed_demo(suppliers=160, seed=11)
    return Organization.objects.create(name="Alongside Magnets", kind="manufacturer")


def test_a_load_read_alongside_is_the_load_read_in_turn(
    registry: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    real = candidates.Alongside

    def spy(work: Any) -> Any:
        started.append(work)
        return real(work)

    monkeypatch.setattr(candidates, "Alongside", spy)
    run_date = timezone.localdate()
    for spec in SPECS:
        request = make_request(registry, spec)
        assert db.can_read_alongside()
        alongside = candidates.load(request, run_date=run_date)
        assert len(started) == 1, "the whole request's side reads ran on a thread"
        with transaction.atomic():
            assert not db.can_read_alongside()
            in_turn = candidates.load(request, run_date=run_date)
        assert len(started) == 1, "inside a transaction nothing ran on a thread"
        assert len(alongside.batch) > 0
        assert_same_batch(alongside, in_turn)
        started.clear()


def test_certificate_masks_are_the_certificates_valid_on_the_day_and_through(
    registry: Organization,
) -> None:
    """The masks the load reads apart agree with the certificates themselves, checked here
    one certificate at a time (``SupplierCertificate.is_valid_on``): bit j set for a
    certificate of the j-th check's certification valid on its day and through its
    ``through``."""
    from suppliers.selectors import certificate_flag_masks

    day = timezone.localdate()
    iso, iatf = Certification.objects.filter(code__in=["iso-9001", "iatf-16949"]).order_by("code")
    checks = [
        (iatf.id, day, day + timedelta(days=400)),
        (iso.id, day, None),
        (iso.id, day, day + timedelta(days=400)),
    ]
    masks = certificate_flag_masks(checks)
    expected: dict[str, int] = {}
    for cert in SupplierCertificate.objects.filter(certification__in=[iso, iatf]):
        for j, (certification_id, on, through) in enumerate(checks):
            if cert.certification_id == certification_id and cert.is_valid_on(on, through=through):
                expected[str(cert.supplier_id)] = expected.get(str(cert.supplier_id), 0) | 1 << j
            else:
                expected.setdefault(str(cert.supplier_id), 0)
    assert masks == expected
    assert any(mask & 4 == 0 and mask & 2 for mask in masks.values()), (
        "some certificate is valid today but not through the needed-by date"
    )


@pytest.mark.parametrize("bits", [0, 1, 3])
def test_checks_beyond_the_masks_bits_stay_in_the_candidate_query(
    registry: Organization, monkeypatch: pytest.MonkeyPatch, bits: int
) -> None:
    """A request with more certificate checks than a mask has bits (62) asks the rest in
    the candidate query: the same batch whichever checks are read apart."""
    run_date = timezone.localdate()
    for spec in SPECS[:2]:
        request = make_request(registry, spec)
        expected = candidates.load(request, run_date=run_date)
        monkeypatch.setattr(candidates, "MAX_FLAG_CHECKS", bits)
        queryset, _, names, flagged = candidates.candidate_queryset(request, expected.criteria)
        assert len(flagged) == bits
        assert len(names) > 9 + int(spec["description"] != ""), "the rest are columns"
        assert_same_batch(candidates.load(request, run_date=run_date), expected)
        monkeypatch.undo()


def test_what_the_thread_raises_the_caller_gets(postgres: None) -> None:
    def failing() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    with pytest.raises(Exception, match="division by zero"):
        db.Alongside(failing).result()


def test_each_thread_hands_its_connection_back(postgres: None) -> None:
    """More runs than the pool holds connections: each thread's connection goes back to
    the pool when its work ends (else the pool would be exhausted and a run would wait
    for one until its timeout), and it is not the caller's."""

    def backend() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    mine = backend()
    pool = connection.settings_dict["OPTIONS"]["pool"]
    seen = {db.Alongside(backend).result() for _ in range(pool["max_size"] * 3)}
    assert mine not in seen
    assert len(seen) < pool["max_size"]


def test_without_a_second_connection_the_load_reads_in_turn(
    registry: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the thread gets no connection (the pool or the server full), the load reads
    its side rows on its own connection instead of failing the run."""

    class NoConnection:
        def __init__(self, work: Any) -> None:
            pass

        def result(self) -> None:
            raise OperationalError("connection pool timeout")

        def wait(self) -> None:
            pass

    request = make_request(registry, SPECS[0])
    run_date = timezone.localdate()
    expected = candidates.load(request, run_date=run_date)
    monkeypatch.setattr(candidates, "Alongside", NoConnection)
    assert_same_batch(candidates.load(request, run_date=run_date), expected)


def test_the_caller_reads_what_the_thread_has_not_begun_and_what_it_failed(
    registry: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller, once its candidate query has answered, takes the side reads the thread
    has not begun; a read that failed on the thread's connection is read again on the
    caller's. Here the thread's first read (the offers) waits, then fails as a pool with
    no connection to give does."""
    request = make_request(registry, SPECS[1])
    run_date = timezone.localdate()
    expected = candidates.load(request, run_date=run_date)
    caller = threading.current_thread()
    read_on: dict[str, list[bool]] = {}
    events: list[str] = []
    real = candidates._side_reads

    def watched(*args: Any, **kwargs: Any) -> dict[str, Any]:
        def watch(name: str, read: Any) -> Any:
            def run() -> Any:
                on_caller = threading.current_thread() is caller
                read_on.setdefault(name, []).append(on_caller)
                if not on_caller:
                    time.sleep(0.3)
                    events.append("thread failed")
                    raise OperationalError("connection pool timeout")
                events.append(name)
                return read()

            return run

        return {name: watch(name, read) for name, read in real(*args, **kwargs).items()}

    monkeypatch.setattr(candidates, "_side_reads", watched)
    assert db.can_read_alongside()
    assert_same_batch(candidates.load(request, run_date=run_date), expected)
    assert read_on.pop("offers") == [False, True], "failed on the thread, read again here"
    assert read_on == {
        "certificates": [True],
        "plants": [True],
        "records": [True],
        "grades": [True],
    }, "the caller took every read the thread had not begun"
    assert events == ["certificates", "plants", "records", "grades", "thread failed", "offers"], (
        "while the thread was still busy"
    )


@pytest.mark.parametrize(
    ("stats", "alongside"),
    [
        ({"pool_max": 4, "pool_size": 1, "pool_available": 0}, True),  # room to grow
        ({"pool_max": 4, "pool_size": 4, "pool_available": 1}, True),  # one free
        ({"pool_max": 4, "pool_size": 4, "pool_available": 0}, False),  # all taken
        ({"pool_max": 1, "pool_size": 1, "pool_available": 0}, False),  # a pool of one
    ],
)
def test_a_thread_reads_only_where_the_pool_has_room(
    postgres: None, monkeypatch: pytest.MonkeyPatch, stats: dict[str, int], alongside: bool
) -> None:
    """Else the thread would wait for a connection (the caller's own, with a pool of one)
    until the pool's timeout."""

    class Pool:
        def get_stats(self) -> dict[str, int]:
            return {"pool_min": 1, **stats}

    monkeypatch.setattr(type(connections["default"]), "pool", property(lambda self: Pool()))
    assert db.can_read_alongside() is alongside
    monkeypatch.delitem(connection.settings_dict["OPTIONS"], "pool")
    assert db.can_read_alongside() is False


def test_a_whole_load_agrees_with_loads_of_one_supplier(registry: Organization) -> None:
    """The whole request's side reads find their suppliers through the offers of the
    required capabilities; one supplier's (an opportunity refresh) by its id: each
    supplier's row is the same either way."""
    run_date = timezone.localdate()
    for spec in SPECS:
        request = make_request(registry, spec)
        whole = candidates.load(request, run_date=run_date)
        ids = list(whole.batch.supplier_ids)
        assert ids
        for supplier_id in ids[:: max(1, len(ids) // 12)]:
            one = candidates.load(request, run_date=run_date, supplier_ids=[supplier_id])
            assert list(one.batch.supplier_ids) == [supplier_id]
            assert_same_rows(whole, ids.index(supplier_id), one, 0)


def _thread_runs(monkeypatch: pytest.MonkeyPatch) -> list[db.Alongside[Any]]:
    made: list[db.Alongside[Any]] = []
    real = candidates.Alongside

    def spy(work: Any) -> Any:
        made.append(real(work))
        return made[-1]

    monkeypatch.setattr(candidates, "Alongside", spy)
    return made


def test_a_side_read_cut_off_by_the_statement_timeout_fails_the_load(
    registry: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read the statement timeout cancelled is not read again in turn (it would only
    take as long again): the load fails, and the job machine retries the run."""
    made = _thread_runs(monkeypatch)

    def slow(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 20")
            cursor.execute("SELECT pg_sleep(2)")

    monkeypatch.setattr(candidates, "delivery_records", slow)
    request = make_request(registry, SPECS[0])
    with pytest.raises(OperationalError, match="statement timeout"):
        candidates.load(request, run_date=timezone.localdate())
    assert len(made) == 1
    assert not made[0]._thread.is_alive()


def test_when_the_candidate_query_fails_the_thread_is_waited_for(
    registry: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _thread_runs(monkeypatch)
    real = candidates.fetch_rows

    def failing_in_the_caller(queryset: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            raise DatabaseError("the candidate query failed")
        time.sleep(0.2)  # the thread still reading when the caller fails
        return real(queryset)

    monkeypatch.setattr(candidates, "fetch_rows", failing_in_the_caller)
    request = make_request(registry, SPECS[0])
    with pytest.raises(DatabaseError, match="the candidate query failed"):
        candidates.load(request, run_date=timezone.localdate())
    assert len(made) == 1
    assert not made[0]._thread.is_alive()


def test_scoped_certificate_masks_are_the_certificates_checks(registry: Organization) -> None:
    """An accreditation's checks read apart (its scope covering the request, its scope
    ignored, no scope stated, valid today) agree with the same checks asked of each
    supplier by ``certificate_valid_exists``, the EXISTS the candidate query asks on
    SQLite: bit j of a supplier's mask is the j-th EXISTS."""
    from suppliers.models import Supplier, SupplierCapability
    from suppliers.selectors import (
        CertificateCheck,
        certificate_flag_masks,
        certificate_valid_exists,
    )

    day = timezone.localdate()
    through = day + timedelta(days=60)
    lab = Certification.objects.get(code="iso-iec-17025")
    covering = tuple(
        Capability.objects.filter(
            code__in=["hysteresigraph-testing", "chemical-analysis"]
        ).values_list("id", flat=True)
    )
    # Certificates of every kind the checks tell apart: one whose scope covers only a
    # capability its holder does not offer, one stating no scope, one that expires
    # before the needed-by date.
    holders = list(
        Supplier.objects.filter(certificates__certification=lab).distinct().order_by("id")[:3]
    )
    assert len(holders) == 3, "the demo registry holds accreditations"
    unoffered = Capability.objects.filter(layer="testing").exclude(
        id__in=SupplierCapability.objects.filter(supplier=holders[0]).values("capability_id")
    )
    SupplierCertificate.objects.filter(supplier__in=holders[:2], certification=lab).update(
        valid_from=day - timedelta(days=100), valid_until=day + timedelta(days=400)
    )
    holders[0].certificates.get(certification=lab).scope.set(unoffered[:1])
    holders[1].certificates.get(certification=lab).scope.clear()
    holders[2].certificates.filter(certification=lab).update(
        valid_from=day - timedelta(days=10), valid_until=day + timedelta(days=5)
    )
    checks = [
        CertificateCheck(lab.id, day, through, covering),
        CertificateCheck(lab.id, day, through),
        CertificateCheck(lab.id, day, through, scope_stated=False),
        CertificateCheck(lab.id, day, None, covering),
        CertificateCheck(lab.id, day, None, scope_stated=True),
    ]
    masks = certificate_flag_masks(checks)
    exists = Supplier.objects.annotate(
        **{
            f"check_{j}": certificate_valid_exists(
                certification_id=check.certification_id,
                day=check.day,
                through=check.through,
                covering=check.covering,
                scope_stated=check.scope_stated,
            )
            for j, check in enumerate(checks)
        }
    ).values_list("id", *(f"check_{j}" for j in range(len(checks))))
    expected = {
        str(sid): sum(1 << j for j, held in enumerate(flags) if held) for sid, *flags in exists
    }
    assert {sid: mask for sid, mask in masks.items() if mask} == {
        sid: mask for sid, mask in expected.items() if mask
    }
    assert set(masks) <= set(expected)
    # The cases above tell the checks apart.
    by_holder = [masks.get(str(holder.id), 0) for holder in holders]
    assert by_holder[0] & 0b11 == 0b10, "valid, its scope covers nothing the request asks"
    assert by_holder[1] & 0b111 == 0b110, "valid, no scope stated"
    assert by_holder[2] & 0b1111 in (0b1000, 0), "valid today only"
    assert any(mask & 1 for mask in masks.values()), "some accreditation covers the request"
