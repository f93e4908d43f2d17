"""Several GSTINs and plants per supplier (docs/registry.md, *GSTINs* and *Plants*):
every GSTIN embeds the PAN, none is held twice in the registry, `gstin` stays the primary,
plants offer some of the supplier's capabilities; through the API, the import, the demo
and migration 0011."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from suppliers import imports
from suppliers.demo import seed_demo
from suppliers.models import ImportJob, Supplier, SupplierGstin, SupplierPlant
from suppliers.states import state_of_gstin
from suppliers.validators import check_gstin_embeds_pan, normalise_gstin
from tests.conftest import client_with
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory, gstin_for
from tests.suppliers.test_api import URL, payload

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
PAN = "AAKCD1234K"  # Deccan Magnetics Private Limited
MH, TN, KA = gstin_for("27", PAN), gstin_for("33", PAN), gstin_for("29", PAN)
PLANTS = [
    {"name": "Hosur", "city": "Hosur", "district": "Krishnagiri", "state": "TN",
     "pin_code": "635109", "latitude": 12.74, "longitude": 77.83,
     "address_line": "SIPCOT Phase II", "capabilities": ["sintering"]},
    {"name": "Chakan", "city": "Chakan", "state": "MH", "latitude": 18.76, "longitude": 73.86},
]  # fmt: skip


@pytest.fixture
def client(user_client: Any) -> Any:
    member = MembershipFactory(organization=OrganizationFactory(kind="sme"), role="admin").user
    return user_client(member)


def register(client: Any, **overrides: Any) -> Any:
    return client.post(URL, payload(**overrides), format="json")


def errors_of(response: Any) -> dict[str, dict[str, Any]]:
    return {e["field"]: e for e in response.json().get("errors", [])}


# ----------------------------------------------------------- GSTINs


def test_several_gstins_are_stored_the_first_primary(client: Any) -> None:
    response = register(
        client,
        gstin=None,
        gstins=[{"gstin": MH.lower(), "label": "Chakan works"}, {"gstin": TN, "label": "Hosur"}],
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["gstin"] == MH
    assert body["pan"] == PAN  # taken from the first GSTIN
    assert [(g["gstin"], g["state"], g["state_name"]) for g in body["gstins"]] == [
        (MH, "MH", "Maharashtra"),
        (TN, "TN", "Tamil Nadu"),
    ]
    supplier = Supplier.objects.get()
    assert supplier.gstin == MH
    assert list(supplier.gstins.values_list("gstin", "position", "label")) == [
        (MH, 0, "Chakan works"),
        (TN, 1, "Hosur"),
    ]


def test_a_gstin_not_embedding_the_pan_is_refused_naming_it(client: Any) -> None:
    other = gstin_for("33", "AAKCD9999K")

    response = register(client, pan=PAN, gstins=[{"gstin": MH}, {"gstin": other}], gstin=None)

    assert response.status_code == 400
    error = errors_of(response)["gstins[1].gstin"]
    assert error["pointer"] == "#/gstins/1/gstin"
    assert "AAKCD9999K" in error["message"]
    assert not Supplier.objects.exists()


def test_gstins_must_all_carry_one_pan_when_none_is_given(client: Any) -> None:
    response = register(
        client, gstin=None, gstins=[{"gstin": MH}, {"gstin": gstin_for("33", "AAKCX1234K")}]
    )

    assert response.status_code == 400
    assert "gstins[1].gstin" in errors_of(response)


def test_gstin_given_with_gstins_must_be_the_first(client: Any) -> None:
    response = register(client, gstin=TN, gstins=[{"gstin": MH}, {"gstin": TN}])

    assert response.status_code == 400
    assert "gstin" in errors_of(response)


def test_a_gstin_listed_twice_is_refused(client: Any) -> None:
    response = register(client, gstin=None, gstins=[{"gstin": MH}, {"gstin": MH.lower()}])

    assert response.status_code == 400
    assert "gstins" in errors_of(response)


def test_a_malformed_gstin_in_the_list_is_named(client: Any) -> None:
    response = register(client, gstin=None, gstins=[{"gstin": MH}, {"gstin": TN[:-1] + "0"}])

    assert response.status_code == 400
    assert "gstins[1].gstin" in errors_of(response)


def test_a_gstin_another_supplier_holds_is_409_naming_the_field(client: Any) -> None:
    # A profile stored before PANs were unique: its GSTIN, without the PAN.
    holder = SupplierFactory(gstin=None, pan=None)
    SupplierGstin.objects.create(supplier=holder, gstin=TN, state="TN", position=0)

    response = register(client, gstin=None, gstins=[{"gstin": MH}, {"gstin": TN}])

    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["field"] == "gstins[1].gstin"
    assert body["errors"][0]["pointer"] == "#/gstins/1/gstin"
    assert body["existing"]["id"] == str(holder.id)
    assert Supplier.objects.count() == 1


def test_the_primary_gstin_another_supplier_holds_is_409_on_gstin(client: Any) -> None:
    holder = SupplierFactory(gstin=MH, pan=None)

    response = register(client)  # payload's gstin is MH

    assert response.status_code == 409
    assert response.json()["field"] == "gstin"
    assert response.json()["existing"]["id"] == str(holder.id)


def test_a_known_pan_under_another_udyam_number_is_409_not_500(client: Any) -> None:
    first = register(client, pan=PAN)
    assert first.status_code == 201, first.json()

    second = register(client, udyam_number="UDYAM-TN-12-0000099", gstin=None, pan=PAN)

    assert second.status_code == 409
    assert second.json()["field"] == "pan"
    assert second.json()["existing"]["id"] == first.json()["id"]
    other = register(client, udyam_number="UDYAM-TN-12-0000098", gstin=None, pan="AAKCD5555K")
    assert other.status_code == 201
    # Changing a profile's PAN to one already registered is a 409 too.
    response = client.patch(f"{URL}{other.json()['id']}/", {"pan": PAN}, format="json")
    assert response.status_code == 409
    assert response.json()["field"] == "pan"


def test_writing_gstin_alone_replaces_the_primary_and_keeps_the_others(client: Any) -> None:
    created = register(client, gstin=None, gstins=[{"gstin": MH}, {"gstin": TN}]).json()
    url = f"{URL}{created['id']}/"

    # A listed GSTIN becomes the primary.
    body = client.patch(url, {"gstin": TN}, format="json").json()
    assert [g["gstin"] for g in body["gstins"]] == [TN, MH]
    assert body["gstin"] == TN
    # A new one replaces the primary.
    body = client.patch(url, {"gstin": KA}, format="json").json()
    assert [g["gstin"] for g in body["gstins"]] == [KA, MH]
    # Null removes the primary; the next is promoted.
    body = client.patch(url, {"gstin": None}, format="json").json()
    assert [g["gstin"] for g in body["gstins"]] == [MH]
    assert body["gstin"] == MH
    # Not embedding the PAN: named as `gstin`.
    response = client.patch(url, {"gstin": gstin_for("29", "AAKCD9999K")}, format="json")
    assert response.status_code == 400
    assert "gstin" in errors_of(response)
    assert Supplier.objects.get().gstin == MH


def test_sending_gstins_replaces_the_list(client: Any) -> None:
    created = register(client, gstin=None, gstins=[{"gstin": MH}, {"gstin": TN}]).json()
    url = f"{URL}{created['id']}/"

    body = client.patch(url, {"gstins": [{"gstin": KA, "label": "Bengaluru"}]}, format="json")

    assert body.status_code == 200, body.json()
    assert [(g["gstin"], g["label"]) for g in body.json()["gstins"]] == [(KA, "Bengaluru")]
    assert body.json()["gstin"] == KA
    emptied = client.patch(url, {"gstins": []}, format="json").json()
    assert emptied["gstins"] == []
    assert emptied["gstin"] is None
    assert emptied["pan"] == PAN  # the PAN stays
    assert not SupplierGstin.objects.exists()


def test_a_new_pan_must_fit_the_stored_gstins(client: Any) -> None:
    created = register(client, gstin=None, gstins=[{"gstin": MH}, {"gstin": TN}]).json()

    response = client.patch(f"{URL}{created['id']}/", {"pan": "AAKCD5555K"}, format="json")

    assert response.status_code == 400
    assert "pan" in errors_of(response)


def test_gstins_are_private(client: Any) -> None:
    created = register(client, gstin=None, gstins=[{"gstin": MH}, {"gstin": TN}]).json()

    public = client_with().get(f"{URL}{created['id']}/").json()

    assert "gstins" not in public
    assert "gstin" not in public
    assert len(client.get(f"{URL}{created['id']}/").json()["gstins"]) == 2


# ----------------------------------------------------------- plants


def test_plants_are_stored_and_their_address_is_private(client: Any) -> None:
    response = register(client, plants=PLANTS)

    assert response.status_code == 201, response.json()
    hosur = response.json()["plants"][1]  # ordered by name: Chakan, Hosur
    assert hosur["name"] == "Hosur"
    assert hosur["capabilities"] == ["sintering"]
    assert hosur["state_name"] == "Tamil Nadu"
    assert hosur["address_line"] == "SIPCOT Phase II"
    public = client_with().get(f"{URL}{response.json()['id']}/").json()
    assert public["plants"][1]["city"] == "Hosur"
    assert public["plants"][1]["latitude"] == 12.74
    assert "address_line" not in public["plants"][1]
    chakan = SupplierPlant.objects.get(name="Chakan")
    assert not chakan.capabilities.exists()  # offers everything


def test_a_plant_may_offer_only_the_suppliers_capabilities(client: Any) -> None:
    plants = [{**PLANTS[0], "capabilities": ["sintering", "hysteresigraph-testing"]}]

    response = register(client, plants=plants)

    assert response.status_code == 400
    message = errors_of(response)["plants[0].capabilities"]["message"]
    assert "hysteresigraph-testing" in message


def test_dropping_a_capability_a_plant_offers_is_refused(client: Any) -> None:
    created = register(client, plants=PLANTS).json()
    url = f"{URL}{created['id']}/"

    response = client.patch(url, {"capabilities": [{"capability": "jet-milling"}]}, format="json")

    assert response.status_code == 400
    assert "Hosur" in errors_of(response)["capabilities"]["message"]
    both = client.patch(
        url,
        {"capabilities": [{"capability": "jet-milling"}], "plants": [PLANTS[1]]},
        format="json",
    )
    assert both.status_code == 200, both.json()
    assert [p["name"] for p in both.json()["plants"]] == ["Chakan"]


@pytest.mark.parametrize(
    ("plant", "field"),
    [
        ({"name": "Hosur", "state": "TN", "latitude": 12.74}, "plants[0].longitude"),
        ({"name": "Dubai", "state": "TN", "latitude": 25.2, "longitude": 55.3},
         "plants[0].longitude"),
        ({"name": "Hosur", "state": "XX"}, "plants[0].state"),
        ({"name": "Hosur", "state": "TN", "pin_code": "012345"}, "plants[0].pin_code"),
        ({"state": "TN"}, "plants[0].name"),
    ],
)  # fmt: skip
def test_a_bad_plant_is_named(client: Any, plant: dict[str, Any], field: str) -> None:
    response = register(client, plants=[plant])

    assert response.status_code == 400
    assert field in errors_of(response), errors_of(response)


def test_a_plant_name_listed_twice_is_refused(client: Any) -> None:
    response = register(client, plants=[PLANTS[0], {**PLANTS[1], "name": "hosur"}])

    assert response.status_code == 400
    assert "plants" in errors_of(response)


def test_patch_without_plants_keeps_them(client: Any) -> None:
    created = register(client, plants=PLANTS).json()

    body = client.patch(f"{URL}{created['id']}/", {"city": "Pune"}, format="json").json()

    assert [p["name"] for p in body["plants"]] == ["Chakan", "Hosur"]


# ----------------------------------------------------------- samples, demo, import


def test_the_registration_sample_has_two_gstins_and_two_plants(client: Any) -> None:
    body = json.loads((SAMPLES / "register-supplier.json").read_text())

    response = client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    out = response.json()
    assert out["legal_form"] == "private_limited"
    assert out["pan"][3] == "C"
    assert out["pan"][4] == out["legal_name"][0]
    assert len({g["state"] for g in out["gstins"]}) == 2
    assert all(g["gstin"][2:12] == out["pan"] for g in out["gstins"])
    assert len(out["plants"]) == 2


def test_demo_gstins_and_plants_are_consistent() -> None:
    seed_demo(suppliers=200, seed=3)

    two_states = 0
    for supplier in Supplier.objects.prefetch_related("gstins", "plants__capabilities"):
        rows = list(supplier.gstins.all())
        assert [r.gstin for r in rows[:1]] == ([supplier.gstin] if supplier.gstin else [])
        for row in rows:
            assert normalise_gstin(row.gstin) == row.gstin
            check_gstin_embeds_pan(row.gstin, supplier.pan)
            assert row.state == state_of_gstin(row.gstin)
        offered = set(supplier.capabilities.values_list("capability_id", flat=True))
        for plant in supplier.plants.all():
            assert {c.id for c in plant.capabilities.all()} <= offered
        if len(rows) == 2:
            two_states += 1
            assert rows[0].state != rows[1].state
            assert len(supplier.plants.all()) == 2
    assert two_states >= 5


def upload_rows(client: Any, content: bytes, name: str = "s.csv") -> ImportJob:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    return imports.import_job_execute(job_id=response.json()["id"])


HEADER = "udyam_number,legal_name,legal_form,pan,gstin,gstins,enterprise_size,state,pin_code,capabilities,plants\n"  # noqa: E501


def test_import_rows_with_gstins_plants_and_duplicates(key_client: Any) -> None:
    client = key_client(OrganizationFactory(kind="portal"))
    other_pan = "AAKCS5555Q"
    deccan = "Deccan Magnetics Private Limited,private_limited"
    sahyadri = "Sahyadri Magnetics Private Limited,private_limited"
    rows = [
        # 1: two GSTINs and a plant
        f'UDYAM-MH-26-0000001,{deccan},{PAN},{MH},"{MH}|Chakan; {TN}|Hosur",small,MH,410501,'
        'jet-milling; sintering,"Hosur|Hosur|Krishnagiri|TN|635109|12.74|77.83|sintering"',
        # 2: the same PAN under another Udyam number
        f"UDYAM-TN-12-0000002,{deccan},{PAN},,,small,TN,635109,jet-milling,",
        # 3: row 1's Tamil Nadu GSTIN, on another PAN
        f'UDYAM-MH-26-0000003,{sahyadri},{other_pan},,"{gstin_for("27", other_pan)}; {TN}",'
        "small,MH,411001,jet-milling,",
        # 4: a second GSTIN not embedding the PAN
        f"UDYAM-MH-26-0000004,{sahyadri},{other_pan},,"
        f'"{gstin_for("27", other_pan)}; {gstin_for("33", "AAKCX1234K")}",'
        "small,MH,411001,jet-milling,",
        # 5: a plant offering what the supplier does not
        f"UDYAM-MH-26-0000005,{sahyadri},{other_pan},,,small,MH,411001,jet-milling,"
        '"Hosur|Hosur||TN||||sintering"',
    ]
    job = upload_rows(client, (HEADER + "\n".join(rows) + "\n").encode())

    assert (job.created_count, job.failed_count) == (1, 4)
    errors = {e.row_number: e.field for e in job.row_errors.all()}
    assert errors == {
        2: "pan",
        3: "gstins[1].gstin",
        4: "gstins[1].gstin",
        5: "plants[0].capabilities",
    }
    supplier = Supplier.objects.get()
    assert list(supplier.gstins.values_list("gstin", flat=True)) == [MH, TN]
    assert supplier.plants.get().capabilities.get().code == "sintering"
    again = upload_rows(client, (HEADER + rows[0] + "\n").encode())
    assert again.unchanged_count == 1
    # The primary GSTIN alone keeps the others; no GSTIN at all removes them all.
    primary_only = rows[0].replace(f'"{MH}|Chakan; {TN}|Hosur"', "")
    assert upload_rows(client, (HEADER + primary_only + "\n").encode()).unchanged_count == 1
    assert supplier.gstins.count() == 2
    none = primary_only.replace(f",{MH},", ",,")
    for _ in range(2):  # a second run changes nothing more
        upload_rows(client, (HEADER + none + "\n").encode())
        supplier.refresh_from_db()
        assert supplier.gstin is None
        assert not supplier.gstins.exists()
        assert supplier.pan == PAN


# ----------------------------------------------------------- migration 0011

BEFORE = [("suppliers", "0010_supplier_gstins_plants")]
AFTER = [("suppliers", "0011_supplier_gstins_from_gstin")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_gstin_into_the_list(back_to_latest: None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    organization = apps.get_model("accounts", "Organization").objects.create(name="S", kind="sme")
    historical = apps.get_model("suppliers", "Supplier")

    def make(n: int, gstin: str | None, pan: str | None) -> Any:
        return historical.objects.create(
            owner=organization,
            legal_name=f"Deccan Works {n}",
            udyam_number=f"UDYAM-MH-26-{n:07d}",
            gstin=gstin,
            pan=pan,
            enterprise_size="small",
            state="MH",
            pin_code="411001",
        ).id

    with_gstin = make(1, MH, PAN)
    legacy = make(2, gstin_for("28", "AAKCS5555Q"), None)  # undivided Andhra Pradesh
    without = make(3, None, "AAKCT1234K")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    rows = apps.get_model("suppliers", "SupplierGstin").objects.all()
    moved = {row.supplier_id: (row.gstin, row.state, row.position) for row in rows}

    assert moved == {
        with_gstin: (MH, "MH", 0),
        legacy: (gstin_for("28", "AAKCS5555Q"), "AP", 0),
    }
    suppliers = {s.id: s for s in apps.get_model("suppliers", "Supplier").objects.all()}
    assert suppliers[with_gstin].gstin == MH  # kept as the primary
    assert suppliers[without].gstin is None
