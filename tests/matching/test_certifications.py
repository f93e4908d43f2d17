"""Certificates in matching, through the API: a scoped accreditation counts only when its
scope covers the request (docs/matching.md, "Certificates"); `nabl` means ISO/IEC 17025;
self-declarations may be preferred, not required."""

from datetime import timedelta
from typing import Any

import pytest

from matching.models import NearMiss
from suppliers.models import Supplier
from tests.factories import MembershipFactory, OrganizationFactory
from tests.matching.conftest import PUNE, client_for, today
from tests.matching.test_runs import matched, misses

pytestmark = pytest.mark.django_db

BH = "hysteresigraph-testing"
CHEMICAL = "chemical-analysis"


def register(
    world: Any, n: int, name: str, capabilities: list[str], certificates: list[dict[str, Any]]
) -> str:
    """An SME registers its lab through the API and an operator verifies it."""
    sme = MembershipFactory(organization=OrganizationFactory(kind="sme")).user
    body = {
        "legal_name": f"{name} Test Laboratory LLP",
        "udyam_number": f"UDYAM-MH-26-{9100000 + n:07d}",
        "enterprise_size": "small",
        "state": "MH",
        "pin_code": "411019",
        "latitude": PUNE[0],
        "longitude": PUNE[1] + 0.01 * n,
        "capabilities": [
            {"capability": code, "capacity_per_month": "500", "capacity_unit": "tests_per_month"}
            for code in capabilities
        ],
        "certificates": certificates,
    }
    response = client_for(sme).post("/api/v1/suppliers/", body, format="json")
    assert response.status_code == 201, response.json()
    supplier_id = response.json()["id"]
    verified = client_for(world.operator).post(f"/api/v1/suppliers/{supplier_id}/verify/")
    assert verified.status_code == 200, verified.json()
    return supplier_id


def accreditation(scope: list[str], code: str = "iso-iec-17025", **extra: Any) -> dict[str, Any]:
    return {
        "certification": code,
        "certificate_number": f"TC-{len(scope)}{abs(hash(tuple(scope))) % 10000:04d}",
        "issuing_body": "NABL",
        "valid_from": str(today() - timedelta(days=100)),
        "valid_until": str(today() + timedelta(days=700)),
        "scope": scope,
        **extra,
    }


def bh_request(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "BH-curve testing of sintered magnets",
        "description": "",
        "layer": "testing",
        "required_capabilities": [BH],
        "required_certifications": ["iso-iec-17025"],
        "preferred_certifications": [],
        "quantity": "100",
        "quantity_unit": "tests",
        "delivery_state": "MH",
        "delivery_pin_code": "411019",
        **overrides,
    }


@pytest.fixture
def labs(world: Any) -> dict[str, str]:
    return {
        # Offers BH-curve testing, but its accreditation covers chemical testing only.
        "chemlab": register(world, 1, "Chemlab", [BH, CHEMICAL], [accreditation([CHEMICAL])]),
        # Accredited for BH-curve testing.
        "bhlab": register(world, 2, "Bhlab", [BH, CHEMICAL], [accreditation([BH, CHEMICAL])]),
        # An accreditation with no scope stated covers nothing.
        "noscope": register(world, 3, "Noscope", [BH], [accreditation([])]),
        # Does not offer BH-curve testing (a scope names only offered capabilities, so it
        # cannot be accredited for it either): not a candidate here.
        "elsewhere": register(world, 4, "Elsewhere", [CHEMICAL], [accreditation([CHEMICAL])]),
    }


def test_a_chemical_testing_accreditation_does_not_qualify_for_bh_curve_testing(
    world: Any, labs: dict[str, str], published: Any
) -> None:
    request_id = published(**bh_request())

    assert set(matched(request_id)) == {"bhlab"}
    near = misses(request_id)
    assert near["chemlab"] == near["noscope"] == "certification:iso-iec-17025"
    assert "elsewhere" not in near
    reason = NearMiss.objects.get(request_id=request_id, supplier_id=labs["chemlab"]).reason
    assert reason == f"its iso-iec-17025 scope does not cover {BH}"
    unstated = NearMiss.objects.get(request_id=request_id, supplier_id=labs["noscope"]).reason
    assert unstated == (
        "its iso-iec-17025 certificate states no scope; list the capabilities it accredits"
    )
    # Through the API: the buyer's matches and the lab's gaps say the same.
    buyer = client_for(world.buyer)
    results = buyer.get(f"/api/v1/requests/{request_id}/matches/").json()["results"]
    assert [m["supplier"]["id"] for m in results] == [labs["bhlab"]]
    assert "holds a valid iso-iec-17025 certificate" in results[0]["reasons"]
    gaps = (
        client_for(_member_of(labs["chemlab"]))
        .get(f"/api/v1/suppliers/{labs['chemlab']}/gaps/")
        .json()
    )
    assert gaps["results"][0]["constraint"] == "certification:iso-iec-17025"
    assert "whose scope covers the requested capability" in gaps["results"][0]["summary"]


def test_a_scope_covering_the_request_qualifies_for_chemical_analysis(
    world: Any, labs: dict[str, str], published: Any
) -> None:
    request_id = published(
        **bh_request(required_capabilities=[CHEMICAL], title="ICP assay of NdPr oxide")
    )

    assert set(matched(request_id)) == {"chemlab", "bhlab", "elsewhere"}
    assert "noscope" not in misses(request_id)  # it does not offer chemical analysis


def test_a_preferred_accreditation_counts_only_within_its_scope(
    world: Any, labs: dict[str, str], published: Any
) -> None:
    request_id = published(
        **bh_request(required_certifications=[], preferred_certifications=["iso-iec-17025"])
    )

    results = (
        client_for(world.buyer).get(f"/api/v1/requests/{request_id}/matches/").json()["results"]
    )
    preferred = {
        m["supplier"]["id"]: next(
            f["value"] for f in m["factors"] if f["name"] == "preferred_certifications"
        )
        for m in results
    }
    assert preferred[labs["bhlab"]] == 1.0
    assert preferred[labs["chemlab"]] == preferred[labs["noscope"]] == 0.0


def test_nabl_in_a_request_means_iso_iec_17025(world: Any, labs: dict[str, str]) -> None:
    buyer = client_for(world.buyer)

    required = buyer.post(
        "/api/v1/requests/", bh_request(required_certifications=["nabl"]), format="json"
    )
    both = buyer.post(
        "/api/v1/requests/",
        bh_request(required_certifications=["nabl", "iso-iec-17025"]),
        format="json",
    )
    preferred = buyer.post(
        "/api/v1/requests/",
        bh_request(required_certifications=[], preferred_certifications=["nabl"]),
        format="json",
    )

    assert required.status_code == both.status_code == preferred.status_code == 201
    assert required.json()["required_certifications"] == ["iso-iec-17025"]
    assert both.json()["required_certifications"] == ["iso-iec-17025"]
    assert preferred.json()["preferred_certifications"] == ["iso-iec-17025"]


def test_a_self_declaration_may_be_preferred_not_required(world: Any, published: Any) -> None:
    buyer = client_for(world.buyer)

    refused = buyer.post(
        "/api/v1/requests/", bh_request(required_certifications=["rohs"]), format="json"
    )

    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["field"] == "required_certifications"
    assert "Self-declarations cannot be required: rohs" in error["message"]
    # Preferred, an open-ended declaration counts.
    supplier = world.suppliers["full"]
    client = client_for(world.sme_users["full"])
    # The certificates as read, read-only fields and all, plus the declaration.
    certificates = client.get(f"/api/v1/suppliers/{supplier.id}/").json()["certificates"]
    certificates.append({"certification": "rohs", "valid_from": str(today() - timedelta(days=9))})
    response = client.patch(
        f"/api/v1/suppliers/{supplier.id}/", {"certificates": certificates}, format="json"
    )
    assert response.status_code == 200, response.json()
    request_id = published(preferred_certifications=["rohs"])
    (match,) = supplier.matches.filter(request_id=request_id)
    assert "holds 1 of 1 preferred certifications (rohs)" in match.reasons


def test_the_dae_licence_can_be_required_for_oxides(world: Any, published: Any) -> None:
    taxonomy = client_for(world.buyer).get("/api/v1/taxonomy/capabilities/rare-earth-oxides/")
    description = taxonomy.json()["description"]
    assert "prescribed substance" in description
    assert "IREL" in description
    assert "aea-prescribed-substances-licence" in description

    response = client_for(world.buyer).post(
        "/api/v1/requests/",
        bh_request(
            layer="chemicals",
            required_capabilities=["rare-earth-oxides"],
            required_certifications=["aea-prescribed-substances-licence"],
            quantity="5",
            quantity_unit="tonnes",
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["required_certifications"] == ["aea-prescribed-substances-licence"]


def _member_of(supplier_id: str) -> Any:
    return MembershipFactory(organization=Supplier.objects.get(id=supplier_id).owner).user
