"""The PAN: its shape, its 4th character against the legal form, its 5th against the name,
every GSTIN embedding it, duplicates by PAN; through the API, the samples, the import and
migration 0006 (docs/registry.md, Identifiers)."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from suppliers.models import Supplier
from suppliers.validators import legal_form_from_name, pan_name_initials
from tests.conftest import client_with
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory, gstin_for
from tests.suppliers.test_api import URL, payload

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
COMPANY_PAN = "AAKCD1234K"  # Deccan Magnetics Private Limited


@pytest.fixture
def client(user_client: Any) -> Any:
    member = MembershipFactory(organization=OrganizationFactory(kind="sme"), role="admin").user
    return user_client(member)


def post(client: Any, **overrides: Any) -> Any:
    return client.post(URL, payload(**overrides))


def refused_on(response: Any, field: str) -> str:
    assert response.status_code == 400, response.json()
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert field in errors, errors
    assert not Supplier.objects.exists()
    return errors[field]


def test_a_consistent_pan_and_gstin_are_stored(client: Any) -> None:
    response = post(
        client,
        pan=COMPANY_PAN.lower(),
        legal_form="private_limited",
        gstin=gstin_for("27", COMPANY_PAN),
    )

    assert response.status_code == 201, response.json()
    assert response.json()["pan"] == COMPANY_PAN
    assert response.json()["legal_form"] == "private_limited"
    assert Supplier.objects.get().pan == COMPANY_PAN


def test_the_pan_is_taken_from_the_gstin_when_not_given(client: Any) -> None:
    response = post(client, gstin=gstin_for("27", COMPANY_PAN))

    assert response.status_code == 201, response.json()
    assert response.json()["pan"] == COMPANY_PAN


def test_the_pan_is_private(client: Any) -> None:
    created = post(client, pan=COMPANY_PAN).json()

    public = client_with().get(f"{URL}{created['id']}/").json()
    assert "pan" not in public
    assert public["legal_form"] == ""


@pytest.mark.parametrize("pan", ["AAKCD1234", "AAKCD12345", "1AKCD1234K", "AAKXD1234K"])
def test_a_malformed_pan_is_refused(client: Any, pan: str) -> None:
    refused_on(post(client, pan=pan, gstin=None), "pan")


@pytest.mark.parametrize(
    ("legal_form", "pan"),
    [
        ("private_limited", "AAKFD1234K"),  # a firm's PAN for a company
        ("partnership", "AAKCD1234K"),  # a company's for a firm
        ("proprietorship", "AAKCD1234K"),  # a proprietor uses a personal PAN
        ("huf", "AAKPD1234K"),
        ("trust", "AAKCD1234K"),
    ],
)
def test_the_4th_character_must_fit_the_legal_form(client: Any, legal_form: str, pan: str) -> None:
    name = "Deccan Magnetics" if legal_form != "private_limited" else "Deccan Magnetics Pvt Ltd"
    message = refused_on(
        post(client, legal_name=name, legal_form=legal_form, pan=pan, gstin=None), "pan"
    )
    assert "4th character" in message


def test_the_name_states_the_legal_form_when_none_is_given(client: Any) -> None:
    # The sample as it was: a private limited company given a firm's PAN, in its GSTIN.
    message = refused_on(post(client, gstin=gstin_for("27", "AAPFD1234K")), "gstin")
    assert "private limited company" in message


def test_the_5th_character_must_be_the_initial_of_the_name(client: Any) -> None:
    message = refused_on(post(client, pan="AAKCX1234K", gstin=None), "pan")
    assert "5th character" in message


@pytest.mark.parametrize(
    ("legal_name", "pan"),
    [
        ("M/s Deccan Magnetics Private Limited", "AAKCD1234K"),
        ("The Deccan Magnetics Company Limited", "AAKCT1234K"),
        ("The Deccan Magnetics Company Limited", "AAKCD1234K"),
        ("Sri Lakshmi Magnetics Private Limited", "AAKCL1234K"),
    ],
)
def test_leading_words_before_the_name_proper(client: Any, legal_name: str, pan: str) -> None:
    response = post(client, legal_name=legal_name, pan=pan, gstin=None)

    assert response.status_code == 201, response.json()


def test_a_proprietor_pan_carries_the_surname_initial_which_is_not_checked(client: Any) -> None:
    response = post(
        client,
        legal_name="Deccan Magnetic Works",
        legal_form="proprietorship",
        pan="BKSPK7312M",
        gstin=gstin_for("27", "BKSPK7312M"),
    )

    assert response.status_code == 201, response.json()


def test_the_gstin_must_embed_the_pan(client: Any) -> None:
    message = refused_on(
        post(client, pan=COMPANY_PAN, gstin=gstin_for("27", "AAKCD9999K")), "gstin"
    )
    assert "AAKCD9999K" in message


def test_a_known_pan_is_409_with_a_link(client: Any) -> None:
    existing = SupplierFactory(pan=COMPANY_PAN, udyam_number="UDYAM-TN-02-0000001")

    response = post(client, pan=COMPANY_PAN, gstin=None)

    assert response.status_code == 409
    body = response.json()
    assert body["field"] == "pan"
    assert body["existing"]["id"] == str(existing.id)


def test_a_gstin_of_another_state_on_a_known_pan_is_a_duplicate(client: Any) -> None:
    # One enterprise, one PAN: its Tamil Nadu GSTIN does not make a second enterprise.
    SupplierFactory(pan=COMPANY_PAN, gstin=gstin_for("27", COMPANY_PAN))

    response = post(client, udyam_number="UDYAM-TN-02-0000002", gstin=gstin_for("33", COMPANY_PAN))

    assert response.status_code == 409
    assert response.json()["field"] == "pan"


def test_an_update_is_checked_against_what_is_stored(client: Any) -> None:
    created = post(client, pan=COMPANY_PAN, gstin=None).json()
    url = f"{URL}{created['id']}/"

    assert client.patch(url, {"city": "Pune"}).status_code == 200
    response = client.patch(url, {"legal_form": "partnership"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "legal_form"
    response = client.patch(url, {"gstin": gstin_for("27", "AAKCD9999K")})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "gstin"
    assert client.patch(url, {"gstin": gstin_for("29", COMPANY_PAN)}).status_code == 200
    # Renamed, it keeps the PAN allotted under its old name: not checked against the new.
    renamed = client.patch(url, {"legal_name": "Sahyadri Magnetics Private Limited"})
    assert renamed.status_code == 200, renamed.json()
    # But the name still states the legal form.
    assert client.patch(url, {"legal_name": "Sahyadri Magnetics LLP"}).status_code == 400


def test_the_registration_sample_registers(client: Any) -> None:
    body = json.loads((SAMPLES / "register-supplier.json").read_text())

    response = client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["pan"] == body["pan"] == body["gstin"][2:12]


def test_names_state_their_legal_form() -> None:
    assert legal_form_from_name("Deccan Magnetics Pvt. Ltd.") == "private_limited"
    assert legal_form_from_name("Deccan Magnetics (OPC) Private Limited") == "private_limited"
    assert legal_form_from_name("Deccan Magnetics Limited") == "public_limited"
    assert legal_form_from_name("Peenya Test Laboratory LLP") == "llp"
    assert legal_form_from_name("Peenya Limited Liability Partnership") == "llp"
    assert legal_form_from_name("Deccan Industries") is None
    assert pan_name_initials("M/s. Deccan Industries") == {"M", "D"}
    assert pan_name_initials("3M India Limited") is None


# ----------------------------------------------------------- migrations 0006 to 0008

BEFORE = [("suppliers", "0005_udyam_state_codes")]
AFTER = [("suppliers", "0008_supplier_pan_constraints")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_takes_each_pan_from_the_gstin_without_loss(back_to_latest: None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    organization = apps.get_model("accounts", "Organization").objects.create(name="S", kind="sme")
    historical = apps.get_model("suppliers", "Supplier")

    def make(n: int, gstin: str | None) -> Any:
        return historical.objects.create(
            owner=organization,
            legal_name=f"Deccan Works {n}",
            udyam_number=f"UDYAM-MH-26-{n:07d}",
            gstin=gstin,
            enterprise_size="small",
            state="MH",
            pin_code="411001",
        ).id

    first = make(1, gstin_for("27", COMPANY_PAN))
    second_state = make(2, gstin_for("33", COMPANY_PAN))  # the same enterprise again
    other = make(3, gstin_for("27", "AAKCS5555Q"))
    without = make(4, None)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    rows = {r.id: r for r in apps.get_model("suppliers", "Supplier").objects.all()}

    assert len(rows) == 4
    assert rows[first].pan == COMPANY_PAN
    assert rows[second_state].pan is None
    assert rows[second_state].possible_duplicate_of_id == first
    assert rows[second_state].gstin == gstin_for("33", COMPANY_PAN)
    assert rows[other].pan == "AAKCS5555Q"
    assert rows[without].pan is None


# Devanagari digits match Python's \d; no identifier carries them.
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pan", "AAKCD१२३४K"),
        ("gstin", "२७AAKCD1234K1ZM"),
        ("gstin", "27AAKCD१२३४K1ZM"),
        ("udyam_number", "UDYAM-MH-२६-००१२३४५"),
        ("pin_code", "४१०५०१"),
    ],
)
def test_identifiers_take_ascii_digits_only(client: Any, field: str, value: str) -> None:
    overrides: dict[str, Any] = {field: value}
    if field == "pan":
        overrides["gstin"] = None
    refused_on(post(client, **overrides), field)
