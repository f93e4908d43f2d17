"""Supplier endpoints: registration (atomic, nested), duplicates, privacy, permissions."""

from datetime import date, timedelta
from typing import Any

import pytest

from remag.accounts.models import Organization
from suppliers.models import Supplier, SupplierCapability, SupplierCertificate
from tests.conftest import client_with
from tests.factories import (
    APIKeyFactory,
    MembershipFactory,
    OrganizationFactory,
    SupplierFactory,
    gstin_for,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/suppliers/"
TODAY = date.today()  # noqa: DTZ011


def payload(**overrides: Any) -> dict[str, Any]:
    body = {
        "legal_name": "Deccan Magnetics Private Limited",
        "trade_name": "Deccan Magnetics",
        "udyam_number": "UDYAM-MH-26-0012345",
        "gstin": gstin_for("27", "AAKCD1234K"),
        "enterprise_size": "small",
        "women_owned": True,
        "state": "MH",
        "district": "Pune",
        "city": "Chakan",
        "pin_code": "410501",
        "contact_name": "Asha Kulkarni",
        "contact_email": "asha@deccan.example.in",
        "contact_phone": "+91 20 2712 3456",
        "capabilities": [
            {
                "capability": "jet-milling",
                "capacity_per_month": "2500",
                "capacity_unit": "kg_per_month",
                "lead_time_days": 21,
                "grades": ["N48H", "n52"],
                "description": "Two fluidised-bed jet mills under nitrogen.",
            },
            {
                "capability": "sintering",
                "capacity_per_month": "3",
                "capacity_unit": "tonnes_per_month",
            },
        ],
        "certificates": [
            {
                "certification": "iso-9001",
                "certificate_number": "QMS-2291",
                "issuing_body": "TUV",
                "valid_from": str(TODAY - timedelta(days=100)),
                "valid_until": str(TODAY + timedelta(days=600)),
            }
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def sme_member(db: Any) -> Any:
    return MembershipFactory(organization=OrganizationFactory(kind="sme"), role="admin").user


def test_sme_registers_with_nested_capabilities_and_certificates(
    user_client: Any, sme_member: Any
) -> None:
    response = user_client(sme_member).post(URL, payload())

    assert response.status_code == 201, response.json()
    body = response.json()
    supplier = Supplier.objects.get(id=body["id"])
    assert supplier.owner == sme_member.memberships.get().organization
    assert supplier.status == "pending"
    assert body["claimed"] is True
    assert [c["capability"] for c in body["capabilities"]] == ["jet-milling", "sintering"]
    assert body["capabilities"][0]["grades"] == ["n48h", "n52"]
    assert body["certificates"][0]["is_valid"] is True
    assert body["gstin"] == payload()["gstin"]
    assert body["location"] == {"latitude": 19.75, "longitude": 75.71, "approximate": True}


def test_one_bad_capability_rejects_the_whole_supplier(user_client: Any, sme_member: Any) -> None:
    body = payload()
    body["capabilities"].append({"capability": "no-such-capability"})

    response = user_client(sme_member).post(URL, body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "capabilities[2].capability"
    assert not Supplier.objects.exists()
    assert not SupplierCapability.objects.exists()
    assert not SupplierCertificate.objects.exists()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"udyam_number": "UDYAM-ZZ-26-0012345"}, "udyam_number"),
        ({"gstin": "27AAPFD1234K1ZX"}, "gstin"),
        ({"pin_code": "041050"}, "pin_code"),
        ({"state": "XX"}, "state"),
        ({"enterprise_size": "large"}, "enterprise_size"),
        ({"latitude": 18.5}, "longitude"),
        ({"latitude": 51.5, "longitude": 0.1}, "latitude"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"year_established": 2999}, "year_established"),
        ({"certificates": [{"certification": "iso-9001", "certificate_number": "x",
                            "valid_from": "2025-01-01", "valid_until": "2024-01-01"}]},
         "certificates[0].valid_until"),
        ({"capabilities": [{"capability": "sintering", "capacity_per_month": "5"}]},
         "capabilities[0].capacity_unit"),
        ({"capabilities": [{"capability": "sintering"}, {"capability": "sintering"}]},
         "capabilities"),
        ({"capabilities": [{"capability": "sintering", "grades": ["N99"]}]},
         "capabilities[0].grades"),
        # A code of the wrong JSON type, a list or an object (a 500 once: the alias
        # lookup hashed it), for a certification and a capability.
        *(({"certificates": [{"certification": code, "certificate_number": "x",
                              "valid_from": "2025-01-01", "valid_until": "2027-01-01"}]},
           "certificates[0].certification") for code in ([], ["iso-9001"], {}, 9001, True)),
        *(({"capabilities": [{"capability": code}]}, "capabilities[0].capability")
          for code in ([], ["sintering"], {"code": "sintering"}, 7, False)),
    ],
)  # fmt: skip
def test_bad_fields_are_named(
    user_client: Any, sme_member: Any, override: dict[str, Any], field: str
) -> None:
    response = user_client(sme_member).post(URL, payload(**override))

    assert response.status_code == 400, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Supplier.objects.exists()


def test_known_udyam_number_is_409_with_a_link(user_client: Any, sme_member: Any) -> None:
    existing = SupplierFactory(udyam_number="UDYAM-MH-26-0012345")

    response = user_client(sme_member).post(URL, payload())

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    # The whole document, member for member and in order: the domain raises a plain
    # Conflict naming the supplier; the API's handler adds the link.
    assert list(response.json().items()) == [
        ("type", "/api/problems/conflict"),
        ("title", "The request conflicts with the current state"),
        ("status", 409),
        ("detail", "This Udyam registration number is already registered; see `existing`."),
        ("instance", URL),
        ("code", "supplier_already_registered"),
        (
            "errors",
            [
                {
                    "field": "udyam_number",
                    "pointer": "#/udyam_number",
                    "message": "This Udyam registration number is already registered.",
                    "code": "duplicate",
                }
            ],
        ),
        (
            "existing",
            {"id": str(existing.id), "url": f"http://testserver/api/v1/suppliers/{existing.id}/"},
        ),
        ("field", "udyam_number"),
    ]
    assert Supplier.objects.count() == 1


def test_known_gstin_is_409(user_client: Any, sme_member: Any) -> None:
    SupplierFactory(gstin=payload()["gstin"])

    response = user_client(sme_member).post(URL, payload())

    assert response.status_code == 409
    assert response.json()["field"] == "gstin"


def test_similar_name_in_same_pin_is_flagged_not_refused(user_client: Any, sme_member: Any) -> None:
    other = SupplierFactory(legal_name="Deccan Magnetics Pvt. Ltd.", pin_code="410501")

    response = user_client(sme_member).post(URL, payload())

    assert response.status_code == 201
    assert response.json()["possible_duplicate_of"] == str(other.id)


def test_same_name_elsewhere_is_not_flagged(user_client: Any, sme_member: Any) -> None:
    SupplierFactory(legal_name="Deccan Magnetics Pvt Ltd", pin_code="600032")

    response = user_client(sme_member).post(URL, payload())

    assert response.json()["possible_duplicate_of"] is None


def test_portal_registers_on_behalf_and_keeps_rights_until_claimed(key_client: Any) -> None:
    portal = OrganizationFactory(kind="portal")
    client = key_client(portal)

    created = client.post(URL, payload())
    supplier = Supplier.objects.get(id=created.json()["id"])
    updated = client.patch(f"{URL}{supplier.id}/", {"trade_name": "Deccan M"})

    assert created.status_code == 201
    assert supplier.onboarded_by == portal
    assert supplier.owner.kind == "sme"
    assert supplier.owner != portal
    assert created.json()["claimed"] is False
    assert updated.status_code == 200

    from suppliers.services import supplier_claim

    supplier_claim(supplier=supplier, organization=OrganizationFactory(), method="operator")
    refused = client.patch(f"{URL}{supplier.id}/", {"trade_name": "Portal again"})

    assert refused.status_code == 403
    assert "gstin" not in client.get(f"{URL}{supplier.id}/").json()


def test_failed_portal_registration_leaves_no_orphan_organisation(key_client: Any) -> None:
    SupplierFactory(udyam_number="UDYAM-MH-26-0012345")
    portal = OrganizationFactory(kind="portal")
    organisations = Organization.objects.count()

    response = key_client(portal).post(URL, payload())

    assert response.status_code == 409
    assert Organization.objects.count() == organisations


def test_manufacturer_cannot_register_suppliers(user_client: Any) -> None:
    buyer = MembershipFactory(organization=OrganizationFactory(kind="manufacturer")).user

    assert user_client(buyer).post(URL, payload()).status_code == 403
    assert not Supplier.objects.exists()


# ------------------------------------------------------------------ permission matrix

PRIVATE = {"pan", "gstin", "contact_name", "contact_email", "contact_phone"}


@pytest.fixture
def registered(user_client: Any, sme_member: Any) -> Supplier:
    response = user_client(sme_member).post(URL, payload())
    return Supplier.objects.get(id=response.json()["id"])


def _callers(registered: Supplier, user_client: Any, key_client: Any) -> dict[str, Any]:
    owner_member = MembershipFactory(organization=registered.owner).user
    return {
        "anonymous": client_with(),
        "owner member": user_client(owner_member),
        "other sme": user_client(
            MembershipFactory(organization=OrganizationFactory(kind="sme")).user
        ),
        "manufacturer": user_client(
            MembershipFactory(organization=OrganizationFactory(kind="manufacturer")).user
        ),
        "portal read key": key_client(OrganizationFactory(kind="portal"), ("read",)),
        "portal write key": key_client(OrganizationFactory(kind="portal"), ("read", "write")),
        "owner write key": key_client(registered.owner, ("read", "write")),
        "operator": user_client(
            MembershipFactory(organization=OrganizationFactory(kind="operator")).user
        ),
    }


# caller: (sees private fields, may change, status of a PATCH)
MATRIX = {
    "anonymous": (False, 401),
    "owner member": (True, 200),
    "other sme": (False, 403),
    "manufacturer": (False, 403),
    "portal read key": (False, 403),
    "portal write key": (False, 403),
    "owner write key": (True, 200),
    "operator": (True, 200),
}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_permission_matrix(
    registered: Supplier, user_client: Any, key_client: Any, who: str
) -> None:
    sees_private, patch_status = MATRIX[who]
    client = _callers(registered, user_client, key_client)[who]

    read = client.get(f"{URL}{registered.id}/")
    listed = client.get(URL).json()["results"]
    patched = client.patch(f"{URL}{registered.id}/", {"trade_name": f"by {who}"})

    assert read.status_code == 200
    assert (read.json().keys() >= PRIVATE) is sees_private
    assert (listed[0].keys() >= PRIVATE) is sees_private
    assert patched.status_code == patch_status
    registered.refresh_from_db()
    assert (registered.trade_name == f"by {who}") is (patch_status == 200)


def test_put_replaces_nested_lists(user_client: Any, sme_member: Any, registered: Supplier) -> None:
    body = payload(capabilities=[{"capability": "magnetising"}], certificates=[])

    response = user_client(sme_member).put(f"{URL}{registered.id}/", body)

    assert response.status_code == 200, response.json()
    assert [c["capability"] for c in response.json()["capabilities"]] == ["magnetising"]
    assert response.json()["certificates"] == []


def test_patch_without_lists_keeps_them(
    user_client: Any, sme_member: Any, registered: Supplier
) -> None:
    response = user_client(sme_member).patch(f"{URL}{registered.id}/", {"city": "Talegaon"})

    assert response.json()["city"] == "Talegaon"
    assert len(response.json()["capabilities"]) == 2


def test_patch_with_an_incomplete_list_item_is_a_validation_error(
    user_client: Any, sme_member: Any, registered: Supplier
) -> None:
    # Found by the schema conformance test: a PATCH skipped the items' required fields.
    response = user_client(sme_member).patch(
        f"{URL}{registered.id}/",
        {"capabilities": [{"lead_time_days": 3}], "certificates": [{"issuing_body": "x"}]},
        format="json",
    )

    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert "capabilities[0].capability" in fields


def test_an_unknown_filter_value_with_a_percent_sign_is_a_validation_error(
    api_client: Any,
) -> None:
    response = api_client.get(URL, {"state": "M%sH%(x)s"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "state"


def test_update_to_anothers_udyam_is_409(
    user_client: Any, sme_member: Any, registered: Supplier
) -> None:
    SupplierFactory(udyam_number="UDYAM-TN-01-0000001")

    response = user_client(sme_member).patch(
        f"{URL}{registered.id}/", {"udyam_number": "UDYAM-TN-01-0000001"}
    )

    assert response.status_code == 409
    registered.refresh_from_db()
    assert registered.udyam_number == "UDYAM-MH-26-0012345"


def test_deactivate_hides_from_public_keeps_for_owner(
    user_client: Any, sme_member: Any, registered: Supplier
) -> None:
    owner = user_client(sme_member)

    assert owner.delete(f"{URL}{registered.id}/").status_code == 204
    assert client_with().get(f"{URL}{registered.id}/").status_code == 404
    assert owner.get(f"{URL}{registered.id}/").json()["is_active"] is False
    assert Supplier.objects.filter(id=registered.id).exists()


def test_operator_verifies_and_suspends(
    user_client: Any, registered: Supplier, operator: Any
) -> None:
    client = user_client(operator)

    verified = client.post(f"{URL}{registered.id}/verify/")
    registered.refresh_from_db()
    assert verified.status_code == 200
    assert verified.json()["status"] == "active"
    assert registered.verified_by == operator
    assert registered.verified_at is not None

    suspended = client.post(
        f"{URL}{registered.id}/suspend/", {"reason": "Udyam certificate revoked"}
    )
    assert suspended.json()["status"] == "suspended"
    assert client_with().get(f"{URL}{registered.id}/").status_code == 404


def test_only_operators_verify(user_client: Any, sme_member: Any, registered: Supplier) -> None:
    response = user_client(sme_member).post(f"{URL}{registered.id}/verify/")

    assert response.status_code == 403
    registered.refresh_from_db()
    assert registered.status == "pending"


def test_supplier_create_is_idempotent(user_client: Any, sme_member: Any) -> None:
    client = user_client(sme_member)

    first = client.post(URL, payload(), HTTP_IDEMPOTENCY_KEY="reg-1")
    second = client.post(URL, payload(), HTTP_IDEMPOTENCY_KEY="reg-1")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Supplier.objects.count() == 1


def test_given_coordinates_are_exact(user_client: Any, sme_member: Any) -> None:
    response = user_client(sme_member).post(URL, payload(latitude=18.75, longitude=73.85))

    assert response.json()["location"] == {
        "latitude": 18.75,
        "longitude": 73.85,
        "approximate": False,
    }


def test_expired_certificate_is_shown_as_expired(user_client: Any, sme_member: Any) -> None:
    certificates = [
        {
            "certification": "iatf-16949",
            "certificate_number": "IATF-1",
            "valid_from": str(TODAY - timedelta(days=800)),
            "valid_until": str(TODAY - timedelta(days=1)),
        }
    ]
    response = user_client(sme_member).post(URL, payload(certificates=certificates))

    assert response.json()["certificates"][0]["is_valid"] is False


def test_write_key_of_owner_may_register_for_it(key_client: Any) -> None:
    sme = OrganizationFactory(kind="sme")

    response = key_client(sme).post(URL, payload())

    assert response.status_code == 201
    assert Supplier.objects.get().owner == sme


def test_read_key_cannot_register() -> None:
    api_key = APIKeyFactory(organization=OrganizationFactory(kind="portal"), scopes=["read"])

    response = client_with(f"Api-Key {api_key.raw_key}").post(URL, payload())

    assert response.status_code == 403


def test_fast_nested_output_matches_the_nested_serializers(registered: Supplier) -> None:
    """The list builds nested items by hand for speed; they must equal the serializers'."""
    from suppliers.api.serializers import (
        SupplierCapabilitySerializer,
        SupplierCertificateSerializer,
        _capability_out,
        _certificate_out,
    )
    from suppliers.selectors import supplier_details

    details = supplier_details([registered.id])[registered.id]
    capabilities = registered.capabilities.order_by("capability__code")
    certificates = registered.certificates.order_by("certification__code", "-valid_until")
    assert len(details.capabilities) == len(capabilities) > 0
    assert len(details.certificates) == len(certificates) > 0
    for row, item in zip(details.capabilities, capabilities, strict=True):
        assert _capability_out(row) == dict(SupplierCapabilitySerializer(item).data)
    for row, item in zip(details.certificates, certificates, strict=True):
        assert _certificate_out(row, TODAY) == dict(SupplierCertificateSerializer(item).data)
