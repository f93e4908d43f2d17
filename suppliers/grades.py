"""Magnet grades as structured data, and the one rule of grade compatibility.

Pure Python, no Django: the taxonomy loader, the migration that filled the structured
fields of stored grades, and matching's candidate loader all use it, and it is
property-tested on its own (tests/suppliers/test_grades.py).

A grade code names a **family** and, where the family has them, an **energy class** and
a **temperature class** (docs/registry.md, *Magnet grades*):

* sintered NdFeB, ``n42sh``: ``N``, the nominal maximum energy product (BH)max in MGOe
  (42), and the temperature class as a suffix: none (plain ``N``), ``M``, ``H``, ``SH``,
  ``UH``, ``EH``, ``AH``, in rising order of intrinsic coercivity HcJ and so of the
  highest working temperature. This is the designation magnet makers publish their
  grades under (the Chinese national standard GB/T 13560's scheme, used worldwide);
  IEC 60404-8-1 and ASTM A1101 specify the same materials by their minimum Br, HcJ and
  (BH)max, measured as ASTM A977 and IEC 60404-5 describe;
* sintered samarium-cobalt, ``smco5`` (1:5) and ``sm2co17`` (2:17), optionally with an
  energy class (``sm2co17-28``); they have no temperature class letters;
* bonded NdFeB, ``bnp-10``: the energy class alone.

An offered grade **meets** a requested one when it is of the same family, its energy
class is the same or higher and its temperature class the same or higher. A requested
code without an energy class (``smco5``: any 1:5 magnet) is met by every grade of its
family.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NDFEB = "ndfeb"
SMCO5 = "smco5"
SM2CO17 = "sm2co17"
BONDED_NDFEB = "bonded_ndfeb"
FAMILIES = (NDFEB, SMCO5, SM2CO17, BONDED_NDFEB)

# Sintered NdFeB temperature classes, lowest first, with the highest working temperature
# magnet makers' datasheets give for each (typical values: the real limit depends on the
# magnet's shape, through its permeance coefficient, and on the demagnetising field).
TEMPERATURE_CLASSES: tuple[tuple[str, int], ...] = (
    ("n", 80),
    ("m", 100),
    ("h", 120),
    ("sh", 150),
    ("uh", 180),
    ("eh", 200),
    ("ah", 230),
)
TEMPERATURE_RANK: dict[str, int] = {
    code: rank for rank, (code, _) in enumerate(TEMPERATURE_CLASSES)
}
MAX_WORKING_TEMPERATURE_C: dict[str, int] = dict(TEMPERATURE_CLASSES)

_SINTERED_NDFEB = re.compile(r"^n([1-9]\d)(m|h|sh|uh|eh|ah)?\Z", re.ASCII)
_SMCO = re.compile(r"^(smco5|sm2co17)(?:-([1-9]\d))?\Z", re.ASCII)
_BONDED = re.compile(r"^bnp-?([1-9]\d?)\Z", re.ASCII)


@dataclass(frozen=True)
class GradeSpec:
    """A grade as data: its family, energy class (nominal (BH)max in MGOe; None when the
    code names only a family) and temperature class (``"n"`` to ``"ah"`` for sintered
    NdFeB, ``""`` for families without one)."""

    family: str
    energy_class: int | None = None
    temperature_class: str = ""

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}")
        if self.temperature_class and self.temperature_class not in TEMPERATURE_RANK:
            raise ValueError(f"unknown temperature class {self.temperature_class!r}")

    @property
    def max_working_temperature_c(self) -> int | None:
        return MAX_WORKING_TEMPERATURE_C.get(self.temperature_class)

    def meets(self, requested: GradeSpec) -> bool:
        """Whether this (offered) grade can stand in for ``requested``: same family, the
        same or a higher energy class, the same or a higher temperature class."""
        return grade_meets(offered=self, requested=requested)


def grade_meets(*, offered: GradeSpec, requested: GradeSpec) -> bool:
    """The compatibility rule (see the module's docstring)."""
    if offered.family != requested.family:
        return False
    if requested.energy_class is not None and (
        offered.energy_class is None or offered.energy_class < requested.energy_class
    ):
        return False
    if not requested.temperature_class:
        return True
    return bool(offered.temperature_class) and (
        TEMPERATURE_RANK[offered.temperature_class] >= TEMPERATURE_RANK[requested.temperature_class]
    )


def parse_grade(code: str) -> GradeSpec:
    """The structure of a grade code (case and spaces ignored): ``"N42SH"`` is sintered
    NdFeB of energy class 42 and temperature class SH. Raises ``ValueError`` for a code
    that follows none of the designations above."""
    text = code.strip().lower().replace(" ", "")
    if match := _SINTERED_NDFEB.match(text):
        return GradeSpec(NDFEB, int(match.group(1)), match.group(2) or "n")
    if match := _SMCO.match(text):
        energy = match.group(2)
        return GradeSpec(match.group(1), int(energy) if energy else None)
    if match := _BONDED.match(text):
        return GradeSpec(BONDED_NDFEB, int(match.group(1)))
    raise ValueError(f"{code!r} is not a magnet grade designation (N42SH, SmCo5, BNP-10)")


def parse_ndfeb_grade(code: str) -> tuple[int, str]:
    """``"N42SH"`` -> ``(42, "sh")``: the energy and temperature class of a sintered NdFeB
    grade. Raises ``ValueError`` for any other code."""
    spec = parse_grade(code)
    if spec.family != NDFEB or spec.energy_class is None:
        raise ValueError(f"{code!r} is not a sintered NdFeB grade")
    return spec.energy_class, spec.temperature_class


def grade_code(spec: GradeSpec) -> str:
    """The code of a structured grade (the inverse of :func:`parse_grade`)."""
    if spec.family == NDFEB:
        suffix = "" if spec.temperature_class in ("", "n") else spec.temperature_class
        return f"n{spec.energy_class}{suffix}"
    if spec.family == BONDED_NDFEB:
        return f"bnp-{spec.energy_class}"
    return spec.family if spec.energy_class is None else f"{spec.family}-{spec.energy_class}"


def grade_order_key(spec: GradeSpec) -> tuple[int, int]:
    """Orders grades of one family from the least to the most demanding: temperature
    class first (a higher class is the scarcer one), then energy class."""
    return (TEMPERATURE_RANK.get(spec.temperature_class, -1), spec.energy_class or 0)


__all__ = [
    "BONDED_NDFEB",
    "FAMILIES",
    "MAX_WORKING_TEMPERATURE_C",
    "NDFEB",
    "SM2CO17",
    "SMCO5",
    "TEMPERATURE_CLASSES",
    "TEMPERATURE_RANK",
    "GradeSpec",
    "grade_code",
    "grade_meets",
    "grade_order_key",
    "parse_grade",
    "parse_ndfeb_grade",
]
