"""Certifications, accreditations, self-declarations and licences (docs/registry.md,
"Certifications and accreditation"): the taxonomy's kinds and editions, NABL as ISO/IEC
17025, scopes, declarations, ZED for manufacturing suppliers only, and the demo."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from suppliers.demo import seed_demo
from suppliers.inputs import SupplierInputSerializer
from suppliers.models import Certification, Supplier, SupplierCertificate
from suppliers.taxonomy import TAXONOMY_FILE, taxonomy_load
from tests.conftest import client_with
from tests.factories import MembershipFactory, OrganizationFactory
from tests.suppliers.test_api import TODAY, URL, payload

pytestmark = pytest.mark.django_db

MANUFACTURING = {"components", "chemicals", "downstream"}


@pytest.fixture
def client(user_client: Any) -> Any:
    return user_client(MembershipFactory(organization=OrganizationFactory(kind="sme")).user)


def certificate(code: str, **extra: Any) -> dict[str, Any]:
    return {
        "certification": code,
        "certificate_number": f"{code.upper()}-1",
        "issuing_body": "TUV India",
        "valid_from": str(TODAY - timedelta(days=100)),
        "valid_until": str(TODAY + timedelta(days=600)),
        **extra,
    }


def lab(**overrides: Any) -> dict[str, Any]:
    return payload(
        capabilities=[
            {"capability": "hysteresigraph-testing"},
            {"capability": "chemical-analysis"},
        ],
        **overrides,
    )


def errors(response: Any) -> dict[str, str]:
    assert response.status_code == 400, response.json()
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# ------------------------------------------------------------------ taxonomy


def test_the_taxonomy_names_kinds_editions_and_scopes(api_client: Any) -> None:
    def get(code: str) -> dict[str, Any]:
        response = api_client.get(f"/api/v1/taxonomy/certifications/{code}/")
        assert response.status_code == 200
        return response.json()

    assert get("iso-9001")["edition"] == "ISO 9001:2015"
    assert get("iatf-16949")["edition"] == "IATF 16949:2016"
    assert get("as9100")["edition"] == "AS9100D"
    lab = get("iso-iec-17025")
    assert (lab["kind"], lab["scoped"], lab["edition"]) == (
        "accreditation",
        True,
        "ISO/IEC 17025:2017",
    )
    assert (get("iso-iec-17020")["scoped"], get("nadcap")["scoped"]) == (True, True)
    assert (get("iso-50001")["kind"], get("iso-50001")["scoped"]) == ("certification", False)
    assert get("aea-prescribed-substances-licence")["kind"] == "licence"
    declarations = api_client.get("/api/v1/taxonomy/certifications/?kind=declaration").json()
    assert sorted(c["code"] for c in declarations["results"]) == ["reach", "rohs"]


def test_nabl_is_retired_but_still_answers(api_client: Any) -> None:
    listed = api_client.get("/api/v1/taxonomy/certifications/?page_size=100").json()["results"]
    nabl = api_client.get("/api/v1/taxonomy/certifications/nabl/").json()

    assert "nabl" not in {c["code"] for c in listed}
    assert nabl["is_active"] is False
    assert "iso-iec-17025" in nabl["description"]


def test_loading_twice_changes_no_certification() -> None:
    before = {
        c.code: (c.kind, c.edition, c.scoped, c.updated_at) for c in Certification.objects.all()
    }

    report = taxonomy_load()

    assert report.created == report.updated == report.kept_operator_edits == report.retired == []
    after = {
        c.code: (c.kind, c.edition, c.scoped, c.updated_at) for c in Certification.objects.all()
    }
    assert after == before


def test_a_shipped_edition_updates_an_untouched_row_and_not_an_edited_one(tmp_path: Any) -> None:
    Certification.objects.filter(code="iso-14001").update(edition="ISO 14001:2015 (curated)")
    data = json.loads(TAXONOMY_FILE.read_text())
    for item in data["certifications"]:
        if item["code"] in ("iso-9001", "iso-14001"):
            item["edition"] = item["edition"].replace("2015", "2026")
    newer = tmp_path / "taxonomy.json"
    newer.write_text(json.dumps(data))

    report = taxonomy_load(path=newer)

    assert report.updated == ["certifications:iso-9001"]
    assert report.kept_operator_edits == ["certifications:iso-14001"]
    assert Certification.objects.get(code="iso-9001").edition == "ISO 9001:2026"
    assert Certification.objects.get(code="iso-14001").edition == "ISO 14001:2015 (curated)"


def test_a_shipped_retirement_retires_the_row_once() -> None:
    Certification.objects.filter(code="nabl").update(is_active=True)

    first, second = taxonomy_load(), taxonomy_load()

    assert first.retired == ["certifications:nabl"]
    assert second.retired == []
    assert Certification.objects.get(code="nabl").is_active is False


# ------------------------------------------------------------------ certificates


def test_nabl_is_recorded_as_iso_iec_17025_by_nabl(client: Any) -> None:
    sent = certificate("nabl", issuing_body="", scope=["hysteresigraph-testing"])

    response = client.post(URL, lab(certificates=[sent]), format="json")

    assert response.status_code == 201, response.json()
    (out,) = response.json()["certificates"]
    assert (out["certification"], out["issuing_body"], out["kind"]) == (
        "iso-iec-17025",
        "NABL",
        "accreditation",
    )
    assert out["edition"] == "ISO/IEC 17025:2017"
    assert out["scope"] == ["hysteresigraph-testing"]
    stored = SupplierCertificate.objects.get()
    assert stored.certification.code == "iso-iec-17025"
    assert list(stored.scope.values_list("code", flat=True)) == ["hysteresigraph-testing"]


def test_the_certification_filter_reads_nabl_as_17025(client: Any, api_client: Any) -> None:
    sent = certificate("iso-iec-17025", issuing_body="NABL", scope=["chemical-analysis"])
    created = client.post(URL, lab(certificates=[sent]), format="json")
    assert created.status_code == 201, created.json()

    by_alias = api_client.get(f"{URL}?certification=nabl").json()["results"]
    by_code = api_client.get(f"{URL}?certification=iso-iec-17025").json()["results"]

    assert [s["id"] for s in by_alias] == [s["id"] for s in by_code] == [created.json()["id"]]


def test_nabl_sent_beside_17025_is_one_accreditation(client: Any) -> None:
    """An old caller sending the same accreditation under both codes gets one certificate."""
    nabl = certificate("nabl", certificate_number="TC-8812", scope=["chemical-analysis"])
    lab_17025 = certificate(
        "iso-iec-17025",
        certificate_number="TC-8812 ",
        issuing_body="NABL",
        valid_until=str(TODAY + timedelta(days=900)),
        scope=["hysteresigraph-testing"],
    )

    response = client.post(URL, lab(certificates=[nabl, lab_17025]), format="json")

    assert response.status_code == 201, response.json()
    (out,) = response.json()["certificates"]
    assert out["valid_until"] == str(TODAY + timedelta(days=900))
    assert out["scope"] == ["chemical-analysis", "hysteresigraph-testing"]
    assert out["issuing_body"] == "NABL"


def test_another_accreditation_body_is_kept(client: Any) -> None:
    sent = certificate("iso-iec-17025", issuing_body="A2LA", scope=["chemical-analysis"])

    response = client.post(URL, lab(certificates=[sent]), format="json")

    assert response.json()["certificates"][0]["issuing_body"] == "A2LA"


def test_only_a_scoped_accreditation_has_a_scope(client: Any) -> None:
    sent = certificate("iso-9001", scope=["jet-milling"])

    problems = errors(client.post(URL, payload(certificates=[sent]), format="json"))

    assert "covers the whole enterprise" in problems["certificates[0].scope"]


def test_a_scope_names_known_capabilities(client: Any) -> None:
    sent = certificate("iso-iec-17025", scope=["bh-curves"])

    problems = errors(client.post(URL, lab(certificates=[sent]), format="json"))

    assert "certificates[0].scope" in problems


def test_a_scope_names_only_capabilities_the_supplier_offers(client: Any) -> None:
    sent = certificate("iso-iec-17025", scope=["hysteresigraph-testing", "sintering"])

    problems = errors(client.post(URL, lab(certificates=[sent]), format="json"))

    assert "sintering" in problems["certificates[0].scope"]
    assert not Supplier.objects.exists()


def test_dropping_a_capability_an_accreditation_covers_is_refused(client: Any) -> None:
    sent = certificate("iso-iec-17025", scope=["hysteresigraph-testing"])
    created = client.post(URL, lab(certificates=[sent]), format="json")
    assert created.status_code == 201, created.json()
    url = f"{URL}{created.json()['id']}/"

    problems = errors(
        client.patch(url, {"capabilities": [{"capability": "chemical-analysis"}]}, format="json")
    )

    assert "hysteresigraph-testing" in problems["capabilities"]
    both = client.patch(
        url,
        {
            "capabilities": [{"capability": "chemical-analysis"}],
            "certificates": [certificate("iso-iec-17025", scope=["chemical-analysis"])],
        },
        format="json",
    )
    assert both.status_code == 200, both.json()
    assert both.json()["certificates"][0]["scope"] == ["chemical-analysis"]


def test_a_declaration_has_no_issuing_body_and_may_be_open_ended(client: Any) -> None:
    declared = {"certification": "rohs", "valid_from": str(TODAY - timedelta(days=5))}
    with_body = {**declared, "issuing_body": "TUV India"}

    refused = errors(client.post(URL, payload(certificates=[with_body]), format="json"))
    response = client.post(URL, payload(certificates=[declared]), format="json")

    assert "declared by the supplier itself" in refused["certificates[0].issuing_body"]
    assert response.status_code == 201, response.json()
    (out,) = response.json()["certificates"]
    assert (out["kind"], out["valid_until"], out["is_valid"]) == ("declaration", None, True)
    assert out["edition"] == "Directive 2011/65/EU"


def test_a_certification_needs_its_number_and_end_date(client: Any) -> None:
    sent = certificate("iso-9001")
    del sent["valid_until"]
    sent["certificate_number"] = ""

    problems = errors(client.post(URL, payload(certificates=[sent]), format="json"))

    assert "only a self-declaration is open-ended" in problems["certificates[0].valid_until"]
    assert problems["certificates[0].certificate_number"] == "This field is required."


def test_zed_is_for_manufacturing_suppliers(client: Any) -> None:
    zed = certificate("zed-silver", issuing_body="QCI")

    refused = errors(client.post(URL, lab(certificates=[zed]), format="json"))
    accepted = client.post(URL, payload(certificates=[zed]), format="json")

    assert "ZED certification is for manufacturing MSMEs" in refused["certificates"]
    assert accepted.status_code == 201, accepted.json()
    # Dropping the manufacturing capabilities while holding ZED is refused too.
    supplier = accepted.json()["id"]
    patched = client.patch(
        f"{URL}{supplier}/",
        {"capabilities": [{"capability": "hysteresigraph-testing"}]},
        format="json",
    )
    assert "ZED certification" in errors(patched)["capabilities"]


def test_an_import_row_with_nabl_is_recorded_as_17025_and_reimports_unchanged(
    key_client: Any,
) -> None:
    from suppliers import imports

    client = key_client(OrganizationFactory(kind="portal"))
    content = (
        "udyam_number,legal_name,enterprise_size,state,pin_code,capabilities,certificates\n"
        "UDYAM-KR-03-0091299,Peenya Test Lab LLP,small,KA,560058,"
        "hysteresigraph-testing; chemical-analysis,"
        f'"nabl|TC-77|{TODAY - timedelta(days=10)}|{TODAY + timedelta(days=700)}||'
        'hysteresigraph-testing,chemical-analysis"\n'
    ).encode()

    def run() -> Any:
        response = client.post(
            "/api/v1/imports/",
            {"file": SimpleUploadedFile("labs.csv", content)},
            format="multipart",
        )
        assert response.status_code == 202, response.json()
        return imports.import_job_execute(job_id=response.json()["id"])

    first, second = run(), run()

    assert (first.created_count, first.failed_count) == (1, 0)
    assert second.unchanged_count == 1
    (stored,) = SupplierCertificate.objects.all()
    assert (stored.certification.code, stored.issuing_body) == ("iso-iec-17025", "NABL")
    assert sorted(stored.scope.values_list("code", flat=True)) == [
        "chemical-analysis",
        "hysteresigraph-testing",
    ]


# ------------------------------------------------------------------ the demo


@pytest.fixture
def demo() -> list[Supplier]:
    seed_demo(suppliers=400, seed=7)
    return list(
        Supplier.objects.prefetch_related(
            "capabilities__capability", "certificates__certification", "certificates__scope"
        )
    )


def test_the_demo_gives_zed_only_to_manufacturing_suppliers(demo: list[Supplier]) -> None:
    zed_holders = 0
    for supplier in demo:
        layers = {c.capability.layer for c in supplier.capabilities.all()}
        codes = {c.certification.code for c in supplier.certificates.all()}
        if any(code.startswith("zed-") for code in codes):
            zed_holders += 1
            assert layers & MANUFACTURING, (supplier.legal_name, layers)
        if layers <= {"testing", "rnd"}:
            assert not any(code.startswith("zed-") for code in codes), supplier.legal_name
    assert zed_holders > 10


def test_the_demo_has_one_scoped_17025_per_lab_and_no_nabl(demo: list[Supplier]) -> None:
    chemical_only = 0
    for supplier in demo:
        certificates = supplier.certificates.all()
        assert not [c for c in certificates if c.certification.code == "nabl"]
        labs = [c for c in certificates if c.certification.code == "iso-iec-17025"]
        assert len(labs) <= 1
        for accreditation in labs:
            scope = {c.code for c in accreditation.scope.all()}
            offered = {c.capability.code for c in supplier.capabilities.all()}
            assert accreditation.issuing_body == "NABL"
            assert scope, supplier.legal_name
            assert scope <= offered
            chemical_only += scope == {"chemical-analysis"}
    assert chemical_only >= 1
    declarations = SupplierCertificate.objects.filter(certification__kind="declaration")
    assert declarations.exists()
    assert not declarations.exclude(issuing_body="").exists()
    assert not declarations.filter(valid_until__isnull=False).exists()


def test_the_demo_passes_the_input_validators(demo: list[Supplier], operator: Any) -> None:
    """Each demo supplier's capabilities and certificates, as the API shows them, are
    accepted back by the input rules (scopes, declarations, ZED)."""
    reader = client_with()
    reader.force_authenticate(operator)
    checked = 0
    for supplier in demo:
        if not supplier.certificates.all():
            continue
        shown = reader.get(f"{URL}{supplier.id}/").json()
        serializer = SupplierInputSerializer(
            instance=supplier,
            data={"capabilities": shown["capabilities"], "certificates": shown["certificates"]},
            partial=True,
        )
        assert serializer.is_valid(), (supplier.legal_name, serializer.errors)
        checked += 1
    assert checked > 100
