"""docs/magnets.md works an example through by hand; this recomputes it with the code, so
the page cannot drift from the algorithm (or the algorithm from the page)."""

from datetime import date

from matching.magnets import scoring
from matching.magnets.candidates import OfferRow, RequirementRow, pair, requirement_row
from tests.conftest import ROOT

RUN = date(2026, 12, 1)
NAN = float("nan")
DOC = (ROOT / "docs" / "magnets.md").read_text()


def example() -> tuple[RequirementRow, list[OfferRow]]:
    requirement = requirement_row(
        id="R",
        material="sintered_ndfeb",
        grade="n42sh",
        shape="arc",
        dimensions={"outer_radius_mm": 30, "inner_radius_mm": 25, "angle_deg": 45, "length_mm": 40},
        tolerance_mm=0.05,
        coating="nicuni",
        magnetisation="diametral",
        quantity=10_000,
        quantity_unit="pieces",
        duration_months=12,
        needed_from=date(2027, 2, 1),
        latitude=12.97,
        longitude=77.59,
        budget_per_kg=3000,
        required=("iatf-16949",),
        preferred=("iso-14001",),
    )
    base = {
        "coatings": frozenset({"nicuni", "epoxy"}),
        "magnetisations": frozenset({"diametral", "axial"}),
        "capacity_is_pieces": False,
        "valid_until": NAN,
        "price_min": NAN,
        "price_max": NAN,
    }
    chennai = {
        "latitude": 13.0,
        "longitude": 80.2,
        "capacity": 5000.0,
        "min_order": 0.0,
        "lead_time_days": 30.0,
        "certifications": frozenset({"iatf-16949"}),
    }
    offers = [
        OfferRow(**{**base, "id": "A", "owner_id": "a", "grades": ("n42sh", "n45sh", "n38uh"),
                 "shapes": {"arc": (1.5, 60.0, 0.05)}, "capacity": 2000.0, "min_order": 100.0,
                 "lead_time_days": 45.0, "latitude": 12.74, "longitude": 77.83,
                 "certifications": frozenset({"iso-9001", "iatf-16949", "iso-14001"}),
                 "past_supplies": 5.0, "past_good": 4.0, "price_min": 2600.0,
                 "price_max": 3400.0}),
        OfferRow(**{**base, "id": "B", "owner_id": "b", "grades": ("n45sh",),
                 "shapes": {"arc": (2.0, 50.0, 0.03)}, "capacity": 200.0, "min_order": 50.0,
                 "lead_time_days": 75.0, "latitude": 18.52, "longitude": 73.85,
                 "certifications": frozenset({"iatf-16949"}),
                 "valid_until": float(date(2027, 7, 31).toordinal()), "price_min": 2400.0,
                 "price_max": 2800.0}),
        OfferRow(**{**base, **chennai, "id": "C", "owner_id": "c", "grades": ("n42uh",),
                 "shapes": {"arc": (2.0, 28.0, 0.05)}}),
        OfferRow(**{**base, **chennai, "id": "D", "owner_id": "d", "grades": ("n48h",),
                 "shapes": {"arc": (2.0, 60.0, 0.05)}}),
    ]  # fmt: skip
    return requirement, offers


def test_the_worked_example_of_docs_magnets() -> None:
    requirement, offers = example()
    assert round(requirement.piece_mass_kg * 1000, 1) == 32.4
    result = scoring.score(pair([requirement], offers), run_date=RUN)
    a, b = result.matches()
    assert (a.offer_id, b.offer_id) == ("A", "B")
    assert f"**{a.score}**" in DOC
    assert f"**{b.score}**" in DOC
    for fa, fb in zip(a.factors, b.factors, strict=True):
        row = (
            f"| {fa.name} | {fa.weight:.2f} | {fa.value} | {fa.contribution} | "
            f"{fb.value} | {fb.contribution} |"
        )
        assert row in DOC, row
    block = DOC.split("A's reasons, as the buyer reads them:", 1)[1].split("```")[1]
    assert tuple(block.strip().splitlines()) == a.reasons
    reasons = {m.offer_id: m.reason for m in result.near_misses()}
    assert reasons == {
        "C": "offers arcs only up to 28 mm (needs 40 mm)",
        "D": "offers no grade compatible with N42SH (highest offered: N48H)",
    }
    for reason in reasons.values():
        assert f'"{reason}"' in DOC
