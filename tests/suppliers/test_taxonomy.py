"""The shipped taxonomy: complete, idempotent to load, operators' edits kept, public."""

from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from suppliers.models import Capability, Certification, MaterialGrade
from suppliers.taxonomy import taxonomy_load

pytestmark = pytest.mark.django_db


def test_every_layer_has_at_least_eight_capabilities() -> None:
    counts = Counter(Capability.objects.values_list("layer", flat=True))

    assert set(counts) == {"components", "chemicals", "testing", "downstream", "rnd"}
    assert min(counts.values()) >= 8


def test_certifications_and_grades_are_shipped() -> None:
    codes = set(Certification.objects.values_list("code", flat=True))
    grades = set(MaterialGrade.objects.values_list("name", flat=True))

    assert {"iso-9001", "iatf-16949", "as9100", "iso-iec-17025", "nabl", "zed-gold"} <= codes
    assert {"N35", "N55", "N52M", "N48H", "N45SH", "N42UH", "N38EH", "N35AH"} <= grades
    smco = MaterialGrade.objects.filter(family__in=("smco5", "sm2co17"))
    assert sorted(smco.values_list("code", flat=True)) == ["sm2co17", "smco5"]


def test_loading_twice_changes_nothing() -> None:
    before = {c.code: (c.name, c.updated_at) for c in Capability.objects.all()}

    report = taxonomy_load()

    assert report.created == report.updated == report.kept_operator_edits == []
    assert {c.code: (c.name, c.updated_at) for c in Capability.objects.all()} == before


def test_operator_edit_is_kept_and_reported() -> None:
    Capability.objects.filter(code="jet-milling").update(name="Jet milling (curated)")

    report = taxonomy_load()

    assert report.kept_operator_edits == ["capabilities:jet-milling"]
    assert Capability.objects.get(code="jet-milling").name == "Jet milling (curated)"


def test_new_shipped_values_update_untouched_rows(tmp_path: Any) -> None:
    import json

    from suppliers.taxonomy import TAXONOMY_FILE

    data = json.loads(TAXONOMY_FILE.read_text())
    data["capabilities"][0]["name"] = "Renamed upstream"
    data["capabilities"].append(
        {"code": "new-thing", "name": "New", "layer": "rnd", "description": "", "synonyms": []}
    )
    newer = tmp_path / "taxonomy.json"
    newer.write_text(json.dumps(data))

    report = taxonomy_load(path=newer)

    code = data["capabilities"][0]["code"]
    assert report.updated == [f"capabilities:{code}"]
    assert report.created == ["capabilities:new-thing"]
    assert Capability.objects.get(code=code).name == "Renamed upstream"


def test_command_reports(capsys: Any) -> None:
    call_command("load_taxonomy")

    assert "0 created" in capsys.readouterr().out


def test_taxonomy_endpoints_are_public(api_client: Any) -> None:
    layers = api_client.get("/api/v1/taxonomy/layers/").json()
    testing = api_client.get("/api/v1/taxonomy/capabilities/?layer=testing&page_size=200").json()
    one = api_client.get("/api/v1/taxonomy/capabilities/hysteresigraph-testing/")

    assert [layer["code"] for layer in layers] == [
        "components",
        "chemicals",
        "testing",
        "downstream",
        "rnd",
    ]
    assert {c["layer"] for c in testing["results"]} == {"testing"}
    assert one.status_code == 200
    assert "BH curve" in one.json()["synonyms"]
    assert api_client.get("/api/v1/taxonomy/certifications/nabl/").status_code == 200
    n52 = api_client.get("/api/v1/taxonomy/grades/n52/")
    assert n52.status_code == 200
    assert (n52.json()["code"], n52.json()["max_operating_temp_c"]) == ("n52", 80)
    unknown = api_client.get("/api/v1/taxonomy/grades/n52sh/")  # no such grade is shipped
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/not-found")
    assert api_client.get("/api/v1/taxonomy/grades/n48sh/").json()["max_operating_temp_c"] == 150


def test_filters_know_a_capability_added_after_they_read_the_taxonomy(client: Any) -> None:
    url = "/api/v1/suppliers/"
    assert client.get(url, {"capability": "jet-milling"}).status_code == 200  # read and kept
    unknown = client.get(url, {"capability": "hydrogen-decrepitation-x"})
    assert unknown.status_code == 400
    Capability.objects.bulk_create(  # no post_save: the per-process copy is not told
        [Capability(code="hydrogen-decrepitation-x", name="HD (new)", layer="components")]
    )

    assert client.get(url, {"capability": "hydrogen-decrepitation-x"}).status_code == 200
    assert client.get(url, {"capability": "no-such-capability"}).status_code == 400
