"""Magnet grades as structure: the code parser (properties), the compatibility rule (a
table), the shipped taxonomy's grades and new capabilities through the API, and the data
migration that filled the stored grades."""

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from hypothesis import given
from hypothesis import strategies as st

from suppliers.grades import (
    FAMILIES,
    NDFEB,
    TEMPERATURE_CLASSES,
    TEMPERATURE_RANK,
    GradeSpec,
    grade_code,
    grade_meets,
    parse_grade,
    parse_ndfeb_grade,
)
from suppliers.models import MaterialGrade
from suppliers.taxonomy import taxonomy_load

CLASSES = [code for code, _ in TEMPERATURE_CLASSES]
energies = st.integers(10, 99)
classes = st.sampled_from(CLASSES)
specs = st.one_of(
    st.builds(GradeSpec, st.just(NDFEB), energies, classes),
    st.builds(GradeSpec, st.sampled_from(["smco5", "sm2co17"]), st.none() | energies),
    st.builds(GradeSpec, st.just("bonded_ndfeb"), st.integers(1, 99)),
)


# ------------------------------------------------------------------ parsing


@given(energies, classes, st.booleans())
def test_an_ndfeb_code_parses_to_its_energy_and_temperature_class(
    energy: int, temperature_class: str, upper: bool
) -> None:
    suffix = "" if temperature_class == "n" else temperature_class
    code = f"N{energy}{suffix}"
    text = code.upper() if upper else code.lower()

    assert parse_ndfeb_grade(text) == (energy, temperature_class)
    assert parse_grade(f" {text} ") == GradeSpec(NDFEB, energy, temperature_class)


@given(specs)
def test_code_and_parse_are_inverse(spec: GradeSpec) -> None:
    assert parse_grade(grade_code(spec)) == spec


@given(st.text(max_size=12))
def test_parsing_anything_either_gives_a_grade_or_says_why(text: str) -> None:
    try:
        spec = parse_grade(text)
    except ValueError as exc:
        message = str(exc)
        spec = None
    if spec is None:
        assert "grade" in message
    else:
        assert spec.family in FAMILIES
        assert parse_grade(grade_code(spec)) == spec


@pytest.mark.parametrize("code", ["N42XH", "N4", "N420", "N05", "NdFeB", "SmCo", "42SH", ""])
def test_bad_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="grade"):
        parse_grade(code)


def test_the_n42sh_example_and_the_families() -> None:
    assert parse_ndfeb_grade("N42SH") == (42, "sh")
    assert parse_grade("N52") == GradeSpec("ndfeb", 52, "n")
    assert parse_grade("SmCo5") == GradeSpec("smco5", None, "")
    assert parse_grade("Sm2Co17-28") == GradeSpec("sm2co17", 28, "")
    assert parse_grade("BNP-10") == GradeSpec("bonded_ndfeb", 10, "")
    assert GradeSpec("ndfeb", 42, "sh").max_working_temperature_c == 150
    with pytest.raises(ValueError, match="sintered NdFeB"):
        parse_ndfeb_grade("smco5")


# ------------------------------------------------------------------ compatibility


@pytest.mark.parametrize(
    ("requested", "offered", "compatible"),
    [
        ("N42SH", "N42SH", True),  # itself
        ("N42SH", "N45SH", True),  # higher energy, same temperature class
        ("N42SH", "N42UH", True),  # same energy, higher temperature class
        ("N42SH", "N48UH", True),  # both higher
        ("N42SH", "N48H", False),  # higher energy, lower temperature class
        ("N42SH", "N40UH", False),  # higher temperature class, lower energy
        ("N42SH", "N52", False),
        ("N42", "N42M", True),  # plain N is the lowest class
        ("N35AH", "N38AH", True),
        ("SmCo5", "Sm2Co17", False),  # another family, though stronger and hotter
        ("SmCo5", "SmCo5-20", True),  # a family code is met by any grade of the family
        ("Sm2Co17-28", "Sm2Co17", False),  # a family code does not show 28 MGOe
        ("BNP-10", "BNP-12", True),
        ("BNP-10", "N35", False),  # sintered is not bonded
    ],
)
def test_compatibility_table(requested: str, offered: str, compatible: bool) -> None:
    assert parse_grade(offered).meets(parse_grade(requested)) is compatible


@given(specs, specs)
def test_compatibility_is_the_order_of_family_energy_and_temperature(
    offered: GradeSpec, requested: GradeSpec
) -> None:
    expected = (
        offered.family == requested.family
        and (
            requested.energy_class is None or (offered.energy_class or 0) >= requested.energy_class
        )
        and (
            not requested.temperature_class
            or TEMPERATURE_RANK.get(offered.temperature_class, -1)
            >= TEMPERATURE_RANK[requested.temperature_class]
        )
    )
    assert grade_meets(offered=offered, requested=requested) is expected
    assert offered.meets(offered)  # reflexive


@given(specs, specs, specs)
def test_compatibility_is_transitive(a: GradeSpec, b: GradeSpec, c: GradeSpec) -> None:
    if a.meets(b) and b.meets(c):
        assert a.meets(c)


def test_the_module_is_pure() -> None:
    import ast
    from pathlib import Path

    import suppliers.grades as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(name.startswith(("django", "rest_framework")) for name in imported)


# ------------------------------------------------------------------ the shipped taxonomy


@pytest.mark.django_db
def test_every_shipped_grade_has_its_structure() -> None:
    for grade in MaterialGrade.objects.all():
        spec = parse_grade(grade.code)
        assert (grade.family, grade.energy_class, grade.temperature_class) == (
            spec.family,
            spec.energy_class,
            spec.temperature_class,
        ), grade.code
        if spec.max_working_temperature_c is not None:
            assert grade.max_operating_temp_c == spec.max_working_temperature_c, grade.code
    assert set(MaterialGrade.objects.values_list("family", flat=True)) == set(FAMILIES)


@pytest.mark.django_db
def test_taxonomy_additions_are_served(api_client: Any) -> None:
    def get(path: str) -> Any:
        response = api_client.get(f"/api/v1/taxonomy/{path}")
        assert response.status_code == 200, path
        return response.json()

    n42sh = get("grades/n42sh/")
    assert (n42sh["family"], n42sh["energy_class"], n42sh["temperature_class"]) == (
        "ndfeb",
        42,
        "sh",
    )
    assert "IEC 60404-8-1" in n42sh["description"]
    assert "IEC TR 63304" in n42sh["description"]
    assert get("grades/sm2co17/")["family"] == "sm2co17"
    assert get("grades/bnp-10/")["family"] == "bonded_ndfeb"
    sh = get("grades/?temperature_class=sh&page_size=100")["results"]
    assert {g["code"] for g in sh} >= {"n42sh", "n45sh"}
    assert {g["temperature_class"] for g in sh} == {"sh"}

    salt = get("capabilities/salt-spray-testing/")["description"]
    assert "IS 5528:2024" in salt
    assert "ISO 9227:2022" in salt
    assert "ASTM B117" in salt
    assert "IS 9844" not in salt
    assert "1.6 MA/m" in get("capabilities/hysteresigraph-testing/")["description"]
    testing = {
        "pulsed-field-magnetometry": "IEC 60404-18",
        "helmholtz-coil-testing": "dipole moment",
        "particle-size-analysis": "powders",
    }
    for code, text in testing.items():
        item = get(f"capabilities/{code}/")
        assert item["layer"] == "testing"
        assert text in item["description"]
    equipment = [
        "vacuum-induction-melting",
        "strip-casting-equipment",
        "hydrogen-decrepitation-furnaces",
        "jet-mill-equipment",
        "magnetic-field-presses",
        "sintering-ageing-furnaces",
        "gloveboxes-inert-gas",
        "mo-w-crucibles",
        "electrolysis-electrodes",
        "diamond-wire-saws",
        "aluminium-ivd-coating",
    ]
    for code in equipment:
        assert get(f"capabilities/{code}/")["layer"] == "components"


# ------------------------------------------------------------------ the data migration

BEFORE = [("suppliers", "0011_supplier_gstins_from_gstin")]
AFTER = [("suppliers", "0013_material_grade_structure_fill")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_digest(values: dict[str, Any]) -> str:
    from suppliers.taxonomy import _digest

    return _digest(values)


# Outside a test transaction: migrating back and forth alters tables holding new rows.
@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_stored_grades_and_the_loader_then_updates_them(
    back_to_latest: None,
) -> None:
    apps = migrate(BEFORE)
    historical = apps.get_model("suppliers", "MaterialGrade")
    historical.objects.all().delete()

    def make(code: str, name: str, family: str, temp: int | None, description: str) -> None:
        values = {
            "name": name,
            "description": description,
            "family": family,
            "max_operating_temp_c": temp,
        }
        historical.objects.create(code=code, shipped_hash=_old_digest(values), **values)

    # As shipped by the first taxonomy.
    make("n42sh", "N42SH", "ndfeb", 150, "Sintered NdFeB, (BH)max about 42 MGOe, up to 150 °C.")
    make("smco5", "SmCo5 (1:5)", "smco", 250, "Sintered samarium-cobalt 1:5.")
    make("sm2co17", "Sm2Co17 (2:17)", "smco", 350, "Sintered samarium-cobalt 2:17.")
    # Edited by an operator after loading.
    make("n45uh", "N45UH", "ndfeb", 180, "Sintered NdFeB, up to 180 °C.")
    historical.objects.filter(code="n45uh").update(description="Our favourite rotor grade.")
    # An operator's own grades: one whose code follows no designation.
    historical.objects.create(code="smco-custom", name="SmCo special", family="smco")
    historical.objects.create(code="yxg-28", name="YXG-28", family="smco")

    apps = migrate(AFTER)

    rows = {
        g.code: (g.family, g.energy_class, g.temperature_class, g.description)
        for g in apps.get_model("suppliers", "MaterialGrade").objects.all()
    }
    assert len(rows) == 6  # nothing lost
    assert rows["n42sh"][:3] == ("ndfeb", 42, "sh")
    assert rows["smco5"][:3] == ("smco5", None, "")
    assert rows["sm2co17"][:3] == ("sm2co17", None, "")
    assert rows["n45uh"] == ("ndfeb", 45, "uh", "Our favourite rotor grade.")
    assert rows["smco-custom"][:3] == ("smco", None, "")  # kept as it was
    assert rows["yxg-28"][:3] == ("smco", None, "")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    report = taxonomy_load()

    assert "grades:n42sh" in report.updated  # untouched: takes the new description
    assert "IEC 60404-8-1" in MaterialGrade.objects.get(code="n42sh").description
    assert "grades:n45uh" in report.kept_operator_edits
    assert MaterialGrade.objects.get(code="n45uh").description == "Our favourite rotor grade."
    assert MaterialGrade.objects.get(code="n45uh").temperature_class == "uh"
    assert MaterialGrade.objects.get(code="smco5").family == "smco5"
