"""Fill the structured fields of the stored magnet grades from their codes
(``suppliers.grades.parse_grade``), and tell the two samarium-cobalt families apart.

Nothing is lost: a grade whose code follows no designation keeps its values with no
energy or temperature class (matching then reads it as a family alone); an ``smco`` grade
whose code says neither 1:5 nor 2:17 stays ``smco``.

The taxonomy loader recognises the rows it shipped by a digest of their values
(``shipped_hash``, suppliers/taxonomy.py), which now covers the two new fields. A row
still as shipped gets the digest of its filled values, so the next ``load_taxonomy``
takes the newly shipped descriptions; a row an operator edited keeps its old digest and
stays the operator's.
"""

import hashlib
import json

from django.db import migrations

from suppliers.grades import parse_grade

# suppliers.taxonomy's digest and digested grade fields, frozen as of this migration.
OLD_FIELDS = ("name", "description", "family", "max_operating_temp_c")
NEW_FIELDS = (
    "name",
    "description",
    "family",
    "max_operating_temp_c",
    "energy_class",
    "temperature_class",
)


def _digest(values):
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def fill(apps, schema_editor):  # noqa: ARG001 (the RunPython signature)
    MaterialGrade = apps.get_model("suppliers", "MaterialGrade")
    for grade in MaterialGrade.objects.order_by("id"):
        as_shipped = grade.shipped_hash == _digest({f: getattr(grade, f) for f in OLD_FIELDS})
        try:
            spec = parse_grade(grade.code)
        except ValueError:
            spec = None
        if spec is not None and grade.family in ("smco", spec.family):
            grade.family = spec.family
            grade.energy_class = spec.energy_class
            grade.temperature_class = spec.temperature_class
        if as_shipped:
            grade.shipped_hash = _digest({f: getattr(grade, f) for f in NEW_FIELDS})
        grade.save(update_fields=["family", "energy_class", "temperature_class", "shipped_hash"])


def unfill(apps, schema_editor):  # noqa: ARG001
    """Back to one samarium-cobalt family (the only change the old schema cannot hold)."""
    MaterialGrade = apps.get_model("suppliers", "MaterialGrade")
    MaterialGrade.objects.filter(family__in=("smco5", "sm2co17")).update(family="smco")
    MaterialGrade.objects.filter(family="bonded_ndfeb").update(family="ndfeb")


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0012_material_grade_structure")]

    operations = [migrations.RunPython(fill, unfill, elidable=False)]
