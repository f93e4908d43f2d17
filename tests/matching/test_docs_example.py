"""docs/matching.md works an example through by hand; this recomputes it with the code,
so the page cannot drift from the algorithm (or the algorithm from the page)."""

from dataclasses import replace
from datetime import date

from matching.scoring import (
    Candidate,
    Criteria,
    GradeRequirement,
    Offer,
    batch_from,
    score,
)

RUN = date(2026, 11, 25)
VALID = ("iso-9001", date(2026, 1, 1), date(2028, 12, 31))
IATF = ("iatf-16949", date(2026, 3, 1), date(2029, 2, 28))
EXPIRED = ("iso-9001", date(2022, 1, 1), date(2024, 12, 31))
EDM, NI = "wire-edm-slicing", "nicuni-coating"
# What the taxonomy answers for N42SH (matching.candidates.grade_requirements), cut down
# to the grades of the example.
N42SH = GradeRequirement("n42sh", ("n42sh", "n45sh"), ("n48h", "n42sh", "n45sh"))


def example() -> tuple[Criteria, list[Candidate]]:
    criteria = Criteria(
        required_capabilities=(NI, EDM),
        run_date=RUN,
        required_certifications=("iso-9001",),
        preferred_certifications=("iatf-16949",),
        quantity_base=500.0,
        quantity_dimension="mass",
        needed_by=date(2027, 1, 24),
        latitude=12.97,
        longitude=77.59,
        max_distance_km=800,
        prefer_micro_small=True,
        has_text=True,
    )
    candidates = [
        Candidate("A", offers={EDM: Offer(800, "mass", 20), NI: Offer(1000, "mass", 25)},
                  certificates=[VALID, IATF], latitude=12.74, longitude=77.83,
                  enterprise_size="small", past_awards=2, past_successes=2, text_relevance=0.6,
                  grades=("n45sh",), recent_deliveries=2, recent_on_time=2,
                  recent_accepted_share=1.0),
        Candidate("B", offers={NI: Offer(5000, "mass", 14)}, certificates=[VALID],
                  latitude=18.52, longitude=73.85, enterprise_size="medium", text_relevance=0.4,
                  grades=("n48h",)),
        Candidate("C", offers={EDM: Offer(200, "mass", 75), NI: Offer(300, "mass", 75)},
                  certificates=[VALID], enterprise_size="micro", text_relevance=0.5),
        Candidate("D", offers={NI: Offer(1000, "mass", 10)}, certificates=[EXPIRED],
                  latitude=13.0, longitude=77.6),
        Candidate("E", offers={NI: Offer(1000, "mass", 10)}, certificates=[VALID],
                  latitude=28.6, longitude=77.2),
    ]  # fmt: skip
    return criteria, candidates


def test_the_worked_example_of_docs_matching() -> None:
    criteria, candidates = example()
    result = score(criteria, batch_from(criteria, candidates))
    top = result.matches(3)
    assert [(m.supplier_id, m.score) for m in top] == [("A", 92.19), ("C", 68.25), ("B", 53.33)]
    contributions = {f.name: f.contribution for f in top[0].factors}
    assert contributions == {
        "capability_coverage": 25.0,
        "capacity": 15.0,
        "lead_time": 15.0,
        "distance": 9.19,
        "track_record": 7.0,
        "preferred_certifications": 10.0,
        "text_relevance": 6.0,
        "policy": 5.0,
        "grade_compatibility": 0.0,  # no grade named: weight 0, the others renormalised
    }
    assert {f.name: f.weight for f in top[0].factors}["capability_coverage"] == 0.25
    assert {f.name: f.value for f in top[1].factors}["lead_time"] == 0.75
    assert {f.name: f.contribution for f in top[2].factors}["distance"] == 1.83
    assert top[0].reasons == (
        "offers 2 of 2 required capabilities (nicuni-coating, wire-edm-slicing)",
        "holds a valid iso-9001 certificate",
        "holds 1 of 1 preferred certifications (iatf-16949)",
        "capacity 800 per month against 500 needed",
        "lead time 25 days, needed in 60",
        "about 36 km away",
        "2 of 2 deliveries on time in the last 12 months, 100% of the delivered quantity accepted",
        "micro or small enterprise (policy preference)",
    )
    assert [(n.supplier_id, n.constraint) for n in result.near_misses] == [
        ("D", "certification:iso-9001"),
        ("E", "distance"),
    ]


def test_the_grade_variants_of_the_worked_example() -> None:
    criteria, candidates = example()

    asked = replace(criteria, grades=(N42SH,))
    result = score(asked, batch_from(asked, candidates))
    top = result.matches(3)
    assert [(m.supplier_id, m.score) for m in top] == [("A", 93.75), ("C", 64.6), ("B", 42.66)]
    weights = {f.name: f.weight for f in top[0].factors}
    assert weights == {
        "capability_coverage": 0.2,
        "capacity": 0.12,
        "lead_time": 0.12,
        "distance": 0.08,
        "track_record": 0.08,
        "preferred_certifications": 0.08,
        "text_relevance": 0.08,
        "policy": 0.04,
        "grade_compatibility": 0.2,
    }
    grade = {
        m.supplier_id: next(f for f in m.factors if f.name == "grade_compatibility") for m in top
    }
    assert {k: (f.value, f.contribution) for k, f in grade.items()} == {
        "A": (1.0, 20.0),
        "C": (0.5, 10.0),
        "B": (0.0, 0.0),
    }
    assert "offers n45sh, compatible with n42sh" in top[0].reasons
    assert "offers no grade compatible with n42sh (highest offered: n48h)" in top[2].reasons
    assert "magnet grades not stated, grade compatibility scored neutrally" in top[1].reasons

    required = replace(criteria, grades=(N42SH,), grades_required=True)
    result = score(required, batch_from(required, candidates))
    assert [(m.supplier_id, m.score) for m in result.matches()] == [("A", 92.19)]
    assert [(n.supplier_id, n.constraint, n.reason) for n in result.near_misses] == [
        ("B", "grade:n42sh", "offers no grade compatible with n42sh (highest offered: n48h)"),
        ("C", "grade:n42sh", "states no magnet grades; needs one compatible with n42sh"),
    ]  # D and E state no grade either: two constraints each, no longer near misses
