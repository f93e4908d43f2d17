"""Demo data: deterministic per seed, valid identifiers, some expired certificates."""

from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from remag.accounts.models import User
from suppliers.classification import financial_year_of, size_for
from suppliers.demo import seed_demo
from suppliers.models import Supplier, SupplierCertificate
from suppliers.states import UDYAM_STATE_CODES
from suppliers.validators import (
    check_gstin_embeds_pan,
    check_pan_holder,
    normalise_gstin,
    normalise_pan,
    normalise_pin_code,
    normalise_udyam,
)

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Supplier.objects.order_by("udyam_number").values_list(
            "udyam_number", "legal_name", "gstin", "pin_code", "state", "enterprise_size"
        )
    )


def test_same_seed_same_data() -> None:
    seed_demo(suppliers=60, seed=5)
    first = snapshot()
    Supplier.objects.all().delete()

    seed_demo(suppliers=60, seed=5)

    assert snapshot() == first


def everything() -> dict[str, list[tuple[Any, ...]]]:
    """What a seed wrote: every column of every table, ids and stamps aside (they differ
    on every run), each key to another row by that row's natural key."""
    from remag.accounts.models import Organization
    from suppliers.models import SupplierCapability, SupplierGstin, SupplierPlant

    stamps = {"id", "created_at", "updated_at", "claimed_at", "verified_at"}
    natural = {
        "owner": "owner__name",
        "supplier": "supplier__udyam_number",
        "capability": "capability__code",
        "certification": "certification__code",
        "suppliercertificate": "suppliercertificate__certificate_number",
        "supplierplant": "supplierplant__id",  # replaced below by its supplier and name
    }

    def rows(model: Any, *extra: str) -> list[tuple[Any, ...]]:
        names = [
            natural.get(f.name, f.attname) if f.is_relation else f.attname
            for f in model._meta.concrete_fields
            if f.name not in stamps
        ]
        if "supplierplant__id" in names:
            names.remove("supplierplant__id")
            names += ["supplierplant__supplier__udyam_number", "supplierplant__name"]
        return sorted(model.objects.values_list(*names, *extra), key=repr)

    return {
        "organizations": rows(Organization),
        "suppliers": rows(Supplier, "owner__kind"),
        "capabilities": rows(SupplierCapability),
        "certificates": rows(SupplierCertificate),
        "scopes": rows(SupplierCertificate.scope.through),
        "gstins": rows(SupplierGstin),
        "plants": rows(SupplierPlant),
        "plant_capabilities": rows(SupplierPlant.capabilities.through),
    }


def test_the_forked_producer_writes_what_the_in_process_one_writes(monkeypatch: Any) -> None:
    """On PostgreSQL a seed of more than one batch is built and formatted in a child
    process and written here (foreign keys checked as each batch lands); it stores
    exactly what building and writing in this process stores."""
    import suppliers.demo
    from remag.accounts.models import Organization

    produced = []
    real = suppliers.demo.produced_apart
    monkeypatch.setattr(
        suppliers.demo, "produced_apart", lambda make: produced.append(1) or real(make)
    )
    assert seed_demo(suppliers=90, seed=5, batch_size=20) == 90
    forked = everything()
    assert produced == ([1] if connection.vendor == "postgresql" else [])
    Supplier.objects.all().delete()
    Organization.objects.all().delete()

    monkeypatch.setattr(suppliers.demo, "can_produce_apart", lambda: False)
    seed_demo(suppliers=90, seed=5, batch_size=20)

    assert produced == ([1] if connection.vendor == "postgresql" else [])  # not again
    assert everything() == forked
    assert len(forked["suppliers"]) == 90
    assert all(forked[table] for table in ("capabilities", "certificates", "gstins", "plants"))


def test_a_write_that_fails_halfway_leaves_nothing_and_the_keys_deferred(
    monkeypatch: Any,
) -> None:
    """When writing fails in the forked path, the child is stopped, nothing of the seed
    stays, and the foreign keys are deferred again for the rest of the transaction."""
    import multiprocessing
    import uuid

    from django.db import IntegrityError, transaction

    import suppliers.demo
    from tests.factories import SupplierFactory

    calls = []
    real = suppliers.demo.copy_in

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 12:
            raise IntegrityError("disk full, say")
        real(*args, **kwargs)

    if connection.vendor != "postgresql":
        pytest.skip("the forked path is PostgreSQL's")
    monkeypatch.setattr(suppliers.demo, "copy_in", failing)
    supplier = SupplierFactory()

    with pytest.raises(IntegrityError, match="disk full"):
        seed_demo(suppliers=90, seed=5, batch_size=20)

    assert len(calls) == 12
    assert multiprocessing.active_children() == []  # the producer was stopped and reaped
    assert list(Supplier.objects.values_list("id", flat=True)) == [supplier.id]
    with transaction.atomic():
        # Deferred: a dangling key is not refused at its statement.
        Supplier.objects.filter(id=supplier.id).update(owner_id=uuid.uuid4())
        transaction.set_rollback(True)


def test_identifiers_are_valid_and_data_is_varied() -> None:
    seed_demo(suppliers=200, seed=2)

    rows = snapshot()
    assert len(rows) == 200
    for udyam, _, gstin, pin, state, _ in rows:
        assert normalise_udyam(udyam) == udyam
        assert UDYAM_STATE_CODES[udyam.split("-")[1]].code == state
        assert normalise_pin_code(pin) == pin
        if gstin:
            assert normalise_gstin(gstin) == gstin
    assert len({state for *_, state, _ in rows}) >= 5
    assert any(udyam.startswith("UDYAM-KR-") for udyam, *_ in rows)  # Bengaluru
    pans = Supplier.objects.values_list("pan", "gstin", "legal_form", "legal_name")
    for pan, gstin, legal_form, legal_name in pans:
        assert normalise_pan(pan) == pan
        check_pan_holder(pan, legal_form=legal_form, legal_name=legal_name)
        if gstin:
            check_gstin_embeds_pan(gstin, pan)
    assert {legal_form for _, _, legal_form, _ in pans} >= {"private_limited", "proprietorship"}
    this_year = financial_year_of(date.today())  # noqa: DTZ011
    declared = Supplier.objects.exclude(investment_inr=None)
    assert declared.exists()
    for supplier in declared:
        assert supplier.classification_year == this_year
        assert supplier.enterprise_size == size_for(
            year=this_year,
            investment_inr=supplier.investment_inr,
            turnover_inr=supplier.turnover_inr,
        )
    assert Supplier.objects.filter(capabilities__isnull=True).count() == 0
    today = date.today()  # noqa: DTZ011
    assert any(not c.is_valid_on(today) for c in SupplierCertificate.objects.all())


def test_every_pin_code_belongs_to_the_cluster_district() -> None:
    """The PIN codes are of post offices in the cluster's district, not any number under
    the district's 3-digit prefix (which may not exist, or lie in another district)."""
    from suppliers.demo import CLUSTERS

    seed_demo(suppliers=300, seed=6)

    by_place = {(c.city, c.district, c.state): c for c in CLUSTERS}
    district_of_pin: dict[str, tuple[str, str]] = {}
    for cluster in CLUSTERS:
        for pin in cluster.pin_codes:
            assert normalise_pin_code(pin) == pin
            # One PIN code, one district (two clusters may share a district).
            assert district_of_pin.setdefault(pin, (cluster.district, cluster.state)) == (
                cluster.district,
                cluster.state,
            )
    seen = set()
    for city, district, state, pin in Supplier.objects.values_list(
        "city", "district", "state", "pin_code"
    ):
        cluster = by_place[(city, district, state)]
        assert pin in cluster.pin_codes, (city, pin)
        seen.add(pin)
    assert len(seen) > 20  # spread over many post offices, not one per cluster


def test_a_seed_cannot_be_used_twice() -> None:
    seed_demo(suppliers=5, seed=9)

    with pytest.raises(ValueError, match="already used"):
        seed_demo(suppliers=5, seed=9)
    assert Supplier.objects.count() == 5


def test_command_if_empty_and_accounts(capsys: Any) -> None:
    call_command("seed_demo", "--suppliers", "10", "--seed", "4", "--if-empty", "--with-accounts")
    call_command("seed_demo", "--suppliers", "10", "--seed", "4", "--if-empty", "--with-accounts")

    out = capsys.readouterr().out
    assert "created 10 demo suppliers" in out
    assert "demo data not loaded" in out
    assert Supplier.objects.count() == 10
    assert User.objects.get(username="demo-sme").memberships.get().organization.kind == "sme"


def test_issue_token_prints_a_working_token(capsys: Any, api_client: Any) -> None:
    call_command("seed_demo", "--suppliers", "0", "--with-accounts")
    capsys.readouterr()

    call_command("issue_token", "demo-portal")

    token = capsys.readouterr().out.strip()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/me/").json()["user"]["username"] == "demo-portal"


def test_the_readme_walkthrough_verifies_the_sme_it_registers(capsys: Any, api_client: Any) -> None:
    """README's curl walkthrough: demo-sme registers the sample supplier (pending, so never
    matched) and demo-operator verifies it; the same calls here."""
    import json

    from tests.conftest import ROOT, client_with

    readme = (ROOT / "README.md").read_text()
    assert "TOKEN_USER=demo-operator" in readme
    assert "/api/v1/suppliers/$NEW/verify/" in readme
    call_command("load_taxonomy")
    call_command("seed_demo", "--suppliers", "0", "--with-accounts")
    capsys.readouterr()

    def token(user: str) -> str:
        call_command("issue_token", user)
        return capsys.readouterr().out.strip()

    body = json.loads((ROOT / "docs/samples/register-supplier.json").read_text())
    sme = client_with(f"Bearer {token('demo-sme')}")
    registered = sme.post("/api/v1/suppliers/", body, format="json")
    assert registered.status_code == 201, registered.json()
    assert registered.json()["status"] == "pending"

    operator = client_with(f"Bearer {token('demo-operator')}")
    verified = operator.post(f"/api/v1/suppliers/{registered.json()['id']}/verify/")

    assert verified.status_code == 200, verified.json()
    assert verified.json()["status"] == "active"


def test_seeded_search_vectors_are_the_ones_refresh_computes() -> None:
    """Seeding writes each supplier with its search vector (SEARCH_VECTOR_SQL, in the
    COPY's own insert on PostgreSQL); refreshing them changes none, and a search finds
    a seeded supplier by its name."""
    from suppliers.services import search_vector_refresh

    seed_demo(suppliers=40, seed=3)
    seeded = dict(Supplier.objects.values_list("id", "search_vector"))
    assert all(vector for vector in seeded.values()) or connection.vendor != "postgresql"

    search_vector_refresh()

    assert dict(Supplier.objects.values_list("id", "search_vector")) == seeded
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        supplier = Supplier.objects.first()
        word = supplier.legal_name.split()[0]
        query = SearchQuery(word, config="english")
        assert Supplier.objects.filter(search_vector=query, id=supplier.id).exists()
