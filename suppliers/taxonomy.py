"""Loading the shipped taxonomy (``suppliers/data/taxonomy.json``) without trampling
operators' edits.

Each row remembers the digest of the shipped values it was last loaded from. On load:

* a code not in the database is created;
* a row whose current values still hash to its ``shipped_hash`` is untouched by
  operators, so it takes the newly shipped values (unchanged when they are the same);
* a row whose values differ from its ``shipped_hash`` was edited by an operator and is
  kept as it is; the load reports it.

Rows are never deleted by a load (suppliers refer to them); an operator retires a code
by unticking ``is_active``. ``is_active`` is not part of the digest: a shipped item marked
``"is_active": false`` is retired by the load (reported in ``retired``) whatever its
digest, and a load never re-activates a row.

A grade's structure (``family``, ``energy_class``, ``temperature_class``) is read from its
code by :func:`suppliers.grades.parse_grade` unless the shipped item states it; it is part
of the digest like every shipped value.

The digest covers the fields named in ``_SECTIONS``. A release that adds a field there
must re-digest the stored rows in a data migration, as
``suppliers/migrations/0015_certifications_nabl_into_17025.py`` did for ``kind``,
``edition`` and ``scoped`` (and ``0013_material_grade_structure_fill.py`` for the grades'
structure): otherwise every row would look edited by an operator.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models, transaction

from suppliers.grades import parse_grade
from suppliers.models import Capability, Certification, MaterialGrade

TAXONOMY_FILE = Path(__file__).resolve().parent / "data" / "taxonomy.json"

_SECTIONS: tuple[tuple[str, type[models.Model], tuple[str, ...]], ...] = (
    ("capabilities", Capability, ("name", "description", "layer", "synonyms")),
    (
        "certifications",
        Certification,
        ("name", "description", "category", "kind", "edition", "scoped"),
    ),
    (
        "grades",
        MaterialGrade,
        (
            "name",
            "description",
            "family",
            "max_operating_temp_c",
            "energy_class",
            "temperature_class",
        ),
    ),
)


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_operator_edits: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def _digest(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


@transaction.atomic
def taxonomy_load(*, path: Path = TAXONOMY_FILE) -> LoadReport:
    data = json.loads(path.read_text(encoding="utf-8"))
    report = LoadReport()
    for section, model, fields in _SECTIONS:
        existing = {row.code: row for row in model.objects.select_for_update()}
        for item in data.get(section, []):
            if model is MaterialGrade:
                item = {**_grade_structure(item["code"]), **item}
            shipped = {name: item.get(name, _default(model, name)) for name in fields}
            shipped_hash = _digest(shipped)
            label = f"{section}:{item['code']}"
            row = existing.get(item["code"])
            retire = item.get("is_active", True) is False
            if row is None:
                model.objects.create(
                    code=item["code"], shipped_hash=shipped_hash, is_active=not retire, **shipped
                )
                report.created.append(label)
                continue
            if retire and row.is_active:
                row.is_active = False
                row.save(update_fields=["is_active", "updated_at"])
                report.retired.append(label)
            current_hash = _digest({name: getattr(row, name) for name in fields})
            if current_hash != row.shipped_hash:
                report.kept_operator_edits.append(label)
            elif row.shipped_hash == shipped_hash:
                report.unchanged.append(label)
            else:
                for name, value in shipped.items():
                    setattr(row, name, value)
                row.shipped_hash = shipped_hash
                row.save()
                report.updated.append(label)
    return report


def _grade_structure(code: str) -> dict[str, Any]:
    try:
        spec = parse_grade(code)
    except ValueError:
        return {}
    return {
        "family": spec.family,
        "energy_class": spec.energy_class,
        "temperature_class": spec.temperature_class,
    }


def _default(model: type[models.Model], name: str) -> Any:
    model_field = model._meta.get_field(name)
    return model_field.get_default()
