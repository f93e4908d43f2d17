"""Magnet grades in matching, through the API: a required grade is a hard constraint (near
misses name the grade and the supplier's nearest one), an optional one the
grade_compatibility factor, explained like every factor (docs/matching.md, *Grades*)."""

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.models import Match, NearMiss
from matching.scoring import (
    FACTORS,
    FACTORS_BEFORE_GRADES,
    Candidate,
    Criteria,
    GradeRequirement,
    Offer,
    batch_from,
    factors_of,
    score,
)
from suppliers.models import MaterialGrade
from tests.factories import MembershipFactory, SupplierFactory
from tests.matching.conftest import PUNE, World, add_capability, client_for

# What each plater states it coats, against a request for N42SH blocks.
PLATERS = {
    "Higher": ["n45sh"],  # higher energy, same temperature class: meets N42SH
    "Hotter": ["n42uh", "n35"],  # same energy, higher temperature class: meets
    "Cooler": ["n48h", "n38m"],  # higher energy but a lower temperature class: no
    "Weaker": ["n40uh"],  # hotter but a lower energy class: no
    "Silent": [],  # states no grades
}


@pytest.fixture
def platers(world: World) -> dict[str, Any]:
    lat, lon = PUNE
    made = {}
    for name, grades in PLATERS.items():
        supplier = SupplierFactory(
            legal_name=f"{name} Platers Pvt Ltd", latitude=lat, longitude=lon
        )
        add_capability(
            supplier,
            "nicuni-coating",
            grades=grades,
            capacity_per_month=50_000,
            capacity_unit="pieces_per_month",
            lead_time_days=14,
        )
        made[name] = supplier
    # The SMEs' members, to read their gaps.
    made["users"] = {
        name: MembershipFactory(organization=made[name].owner).user for name in PLATERS
    }
    return made


def plating(**overrides: Any) -> dict[str, Any]:
    body = {
        "title": "NiCuNi plating of N42SH sintered blocks",
        "description": "Ni-Cu-Ni plating, 15-20 µm, of N42SH blocks for traction motors.",
        "layer": "components",
        "required_capabilities": ["nicuni-coating"],
        "required_certifications": [],
        "preferred_certifications": [],
        "grades": ["n42sh"],
        "quantity": "40000",
        "quantity_unit": "pieces",
    }
    return body | overrides


def by_name(request_id: str) -> dict[str, Match]:
    return {
        m.supplier.legal_name.split()[0]: m
        for m in Match.objects.filter(request_id=request_id).select_related("supplier")
    }


def test_required_grade_without_grades_is_refused(world: World) -> None:
    response = client_for(world.buyer).post(
        "/api/v1/requests/", plating(grades=[], grades_required=True) | _delivery(), format="json"
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "grades_required" in str(response.json())


def _delivery() -> dict[str, Any]:
    return {"delivery_state": "MH", "delivery_pin_code": "411019"}


def test_a_required_grade_is_a_hard_constraint_with_named_near_misses(
    world: World, platers: dict[str, Any], published: Callable[..., str]
) -> None:
    request_id = published(**plating(grades_required=True))

    assert set(by_name(request_id)) == {"Higher", "Hotter"}
    misses = {
        n.supplier.legal_name.split()[0]: (n.constraint, n.reason)
        for n in NearMiss.objects.filter(request_id=request_id).select_related("supplier")
    }
    assert misses == {
        "Cooler": (
            "grade:n42sh",
            "offers no grade compatible with n42sh (highest offered: n48h)",
        ),
        "Weaker": (
            "grade:n42sh",
            "offers no grade compatible with n42sh (highest offered: n40uh)",
        ),
        "Silent": ("grade:n42sh", "states no magnet grades; needs one compatible with n42sh"),
    }
    higher = by_name(request_id)["Higher"]
    assert "offers n45sh, compatible with n42sh" in higher.reasons
    factors = {f["name"]: f for f in higher.explained_factors()}
    assert factors["grade_compatibility"]["weight"] == 0  # required: the constraint decides

    # The supplier reads it as a gap, through the API.
    cooler = platers["Cooler"]
    gaps = (
        client_for(platers["users"]["Cooler"])
        .get(f"/api/v1/suppliers/{cooler.id}/gaps/")
        .json()["results"]
    )
    assert [(g["constraint"], g["request_count"]) for g in gaps] == [("grade:n42sh", 1)]
    assert gaps[0]["summary"].startswith("offering a grade compatible with N42SH")

    # The published request says the grade is required.
    public = client_for(world.other_buyer).get(f"/api/v1/requests/{request_id}/").json()
    assert (public["grades"], public["grades_required"]) == (["n42sh"], True)


def test_an_optional_grade_is_the_explained_grade_compatibility_factor(
    world: World, platers: dict[str, Any], published: Callable[..., str]
) -> None:
    request_id = published(**plating())
    response = client_for(world.buyer).get(f"/api/v1/requests/{request_id}/matches/")

    assert response.status_code == 200
    results = {m["supplier"]["legal_name"].split()[0]: m for m in response.json()["results"]}
    assert set(results) == set(PLATERS)  # nobody excluded for a grade
    value = {
        name: next(f for f in m["factors"] if f["name"] == "grade_compatibility")
        for name, m in results.items()
    }
    assert {name: f["value"] for name, f in value.items()} == {
        "Higher": 1.0,
        "Hotter": 1.0,
        "Cooler": 0.0,
        "Weaker": 0.0,
        "Silent": 0.5,
    }
    assert value["Higher"]["weight"] > 0
    for match in results.values():
        assert abs(sum(f["contribution"] for f in match["factors"]) - match["score"]) < 0.05
    assert results["Higher"]["score"] > results["Silent"]["score"] > results["Cooler"]["score"]
    assert "offers n42uh, compatible with n42sh" in results["Hotter"]["reasons"]
    assert (
        "offers no grade compatible with n42sh (highest offered: n48h)"
        in results["Cooler"]["reasons"]
    )
    assert (
        "magnet grades not stated, grade compatibility scored neutrally"
        in results["Silent"]["reasons"]
    )
    # The SME sees the factor too: it depends only on what the buyer published.
    mine = client_for(platers["users"]["Cooler"]).get(f"/api/v1/matches/{results['Cooler']['id']}/")
    assert "grade_compatibility" in {f["name"] for f in mine.json()["factors"]}


def test_the_weight_of_grade_compatibility_can_be_overridden(
    world: World, platers: dict[str, Any], published: Callable[..., str]
) -> None:
    request_id = published(**plating(weights={"grade_compatibility": 10}))

    matches = by_name(request_id)
    weight = {f["name"]: f["weight"] for f in matches["Higher"].explained_factors()}
    assert weight["grade_compatibility"] > 0.8
    assert matches["Higher"].score > matches["Cooler"].score + 50


def test_an_unknown_factor_in_weights_names_the_new_factor(world: World) -> None:
    response = client_for(world.buyer).post(
        "/api/v1/requests/", plating(weights={"grade": 1}) | _delivery(), format="json"
    )

    assert response.status_code == 400
    assert "grade_compatibility" in str(response.json())


# ------------------------------------------------------------------ versions and purity


def test_matches_of_earlier_versions_keep_their_eight_factors() -> None:
    assert factors_of("remag-2026.11.4") == FACTORS_BEFORE_GRADES
    assert len(FACTORS_BEFORE_GRADES) == 8
    assert (*FACTORS_BEFORE_GRADES, "grade_compatibility") == FACTORS


def test_factors_that_do_not_fit_their_version_are_named_by_position() -> None:
    """Names by position where the stored count does not fit the version; the supplier
    then sees no factor, since which are private could not be told."""
    from matching.scoring import supplier_factors

    assert factors_of("remag-2026.11.4", 8) == FACTORS_BEFORE_GRADES
    assert factors_of("remag-2026.11.4", 9) == tuple(f"factor_{n}" for n in range(1, 10))
    assert factors_of("remag-2026.11.4", 0) == ()
    assert supplier_factors("remag-2026.11.4", [[0.5, 0.1, 5.0]] * 9) == []
    shown = supplier_factors("remag-2026.11.4", [[0.5, 0.1, 5.0]] * 8)
    assert shown
    assert all(factor["weight"] is None for factor in shown)


def test_requirements_come_from_the_taxonomy(world: World) -> None:
    from matching.candidates import grade_requirements
    from matching.models import ProcurementRequest

    request = ProcurementRequest.objects.create(
        owner=world.buyer_org, title="t", layer="components", delivery_state="MH"
    )
    request.grades.set(MaterialGrade.objects.filter(code__in=["n42sh", "smco5"]))

    n42sh, smco5 = grade_requirements(request)

    assert n42sh.code == "n42sh"
    assert n42sh.meeting[0] == "n42sh"  # least demanding first: itself
    assert {"n45sh", "n48sh", "n42uh", "n42eh"} <= set(n42sh.meeting)
    assert not {"n48h", "n40uh", "n52", "smco5"} & set(n42sh.meeting)
    assert set(n42sh.meeting) < set(n42sh.family)
    assert smco5.meeting == ("smco5",)  # the 2:17 family is another family


def test_pure_scoring_with_a_required_grade() -> None:
    from datetime import date

    requirement = GradeRequirement("n42sh", ("n42sh", "n45sh"), ("n48h", "n42sh", "n45sh"))
    criteria = Criteria(
        required_capabilities=("nicuni-coating",),
        run_date=date(2026, 11, 25),
        grades=(requirement,),
        grades_required=True,
    )
    offers = {"nicuni-coating": Offer()}
    result = score(
        criteria,
        batch_from(
            criteria,
            [
                Candidate("a", offers=offers, grades=("n45sh", "n42sh")),
                Candidate("b", offers=offers, grades=("n48h",)),
            ],
        ),
    )

    (match,) = result.matches()
    assert match.supplier_id == "a"
    assert "offers n42sh, compatible with n42sh" in match.reasons  # the least demanding
    (miss,) = result.near_misses
    assert (miss.supplier_id, miss.constraint) == ("b", "grade:n42sh")


# ------------------------------------------------------------------ properties

GRADE_CODES = ("n38h", "n42h", "n42sh", "n45sh", "n42uh", "n48h")
requirements = st.lists(
    st.builds(
        GradeRequirement,
        st.sampled_from(GRADE_CODES),
        st.lists(st.sampled_from(GRADE_CODES), min_size=1, max_size=4, unique=True).map(tuple),
        st.just(GRADE_CODES),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda r: r.code,
)
pools = st.lists(
    st.lists(st.sampled_from(GRADE_CODES), max_size=3, unique=True).map(tuple),
    min_size=1,
    max_size=12,
)


@settings(max_examples=120, deadline=None)
@given(requirements, pools, st.booleans())
def test_required_grades_exclude_exactly_who_misses_one_and_optional_ones_score_the_share(
    wanted: list[GradeRequirement], pool: list[tuple[str, ...]], required: bool
) -> None:
    from datetime import date

    criteria = Criteria(
        required_capabilities=("nicuni-coating",),
        run_date=date(2026, 11, 25),
        grades=tuple(wanted),
        grades_required=required,
    )
    candidates = [
        Candidate(f"s{i:02d}", offers={"nicuni-coating": Offer()}, grades=grades)
        for i, grades in enumerate(pool)
    ]
    result = score(criteria, batch_from(criteria, candidates))

    def met(grades: tuple[str, ...]) -> int:
        return sum(bool(set(grades) & set(r.meeting)) for r in wanted)

    matched = {m.supplier_id: m for m in result.matches()}
    for candidate, grades in zip(candidates, pool, strict=True):
        if required:
            assert (candidate.supplier_id in matched) == (met(grades) == len(wanted))
            continue
        value = next(
            f.value
            for f in matched[candidate.supplier_id].factors
            if f.name == "grade_compatibility"
        )
        expected = met(grades) / len(wanted) if grades else 0.5
        assert value == pytest.approx(expected, abs=1e-4)
    if required:
        near = {n.supplier_id for n in result.near_misses}
        assert near == {
            c.supplier_id
            for c, g in zip(candidates, pool, strict=True)
            if met(g) == len(wanted) - 1
        }
