"""The pure magnet scoring: hard constraints one by one, near misses with their one
constraint, unit conversion, and the explanation contract (contributions sum to the score)."""

from dataclasses import fields, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.magnets import scoring
from matching.magnets.candidates import (
    OfferRow,
    RequirementRow,
    grade_answer,
    pair,
    pair_rows,
    pair_with_offer,
    requirement_row,
)

RUN = date(2026, 11, 26)
NAN = float("nan")


def requirement(**overrides: Any) -> RequirementRow:
    base: dict[str, Any] = {
        "id": "r1",
        "material": "sintered_ndfeb",
        "grade": "n42sh",
        "shape": "arc",
        "dimensions": {
            "outer_radius_mm": 30,
            "inner_radius_mm": 25,
            "angle_deg": 45,
            "length_mm": 40,
        },
        "tolerance_mm": 0.05,
        "coating": "nicuni",
        "magnetisation": "diametral",
        "quantity": 400,
        "quantity_unit": "kg",
        "duration_months": 12,
        "needed_from": RUN + timedelta(days=60),
    }
    return requirement_row(**{**base, **overrides})


def offer(**overrides: Any) -> OfferRow:
    base: dict[str, Any] = {
        "id": "o1",
        "owner_id": "m1",
        "grades": ("n42sh", "n45sh", "n38uh"),
        "shapes": {"arc": (2.0, 50.0, 0.05), "block": (1.0, 80.0, 0.05)},
        "coatings": frozenset({"nicuni", "epoxy"}),
        "magnetisations": frozenset({"diametral", "axial"}),
        "capacity": 2000.0,
        "capacity_is_pieces": False,
        "min_order": 100.0,
        "lead_time_days": 45.0,
        "valid_until": NAN,
        "latitude": NAN,
        "longitude": NAN,
        "price_min": NAN,
        "price_max": NAN,
        "certifications": frozenset({"iatf-16949", "iso-9001"}),
    }
    return OfferRow(**{**base, **overrides})


def one(req: RequirementRow, off: OfferRow) -> scoring.ScoringResult:
    return scoring.score(pair([req], [off]), run_date=RUN)


def test_a_fitting_offer_matches_with_explained_factors_summing_to_the_score() -> None:
    result = one(requirement(), offer())
    (match,) = result.matches()
    assert match.offer_id == "o1"
    assert round(sum(100 * f.contribution for f in match.factors)) == round(100 * match.score)
    assert sum(f.weight for f in match.factors) == pytest.approx(1.0, abs=1e-3)
    assert "offers N42SH, compatible with N42SH" in match.reasons
    assert "lead time 45 days, needed in 60" in match.reasons
    names = {f.name: f for f in match.factors}
    assert names["distance"].weight == 0  # no delivery coordinates: not asked
    assert names["price"].weight == 0  # no budget: not asked
    assert names["capacity_headroom"].value == 1.0


RING = {"outer_diameter_mm": 20, "inner_diameter_mm": 10, "thickness_mm": 5}
BIG_ARC = {"outer_radius_mm": 52, "inner_radius_mm": 47, "angle_deg": 45, "length_mm": 40}
SHORT_VALIDITY = float((RUN + timedelta(days=30)).toordinal())
LATE_START = float(date(2027, 5, 1).toordinal())
CASES = [
    ({"grade": "n42uh"}, {}, "grade",
     "offers no grade compatible with N42UH (highest offered: N38UH)"),
    ({"shape": "ring", "dimensions": RING}, {}, "shape", "does not offer rings"),
    ({"dimensions": BIG_ARC}, {"shapes": {"arc": (2.0, 40.0, 0.05)}}, "size",
     "offers arcs only up to 40 mm (needs 52 mm)"),
    ({"tolerance_mm": 0.02}, {}, "tolerance",
     "holds arcs to ±0.05 mm at best (needs ±0.02 mm)"),
    ({"coating": "zn"}, {}, "coating", "does not offer Zinc coating"),
    ({"magnetisation": "multipole"}, {}, "magnetisation",
     "does not offer multipole magnetisation"),
    ({}, {"capacity": 50.0}, "capacity",
     "capacity 50 kg/month is below a quarter of the 400 kg/month needed"),
    ({"quantity": 60}, {"min_order": 100.0}, "min_order",
     "minimum order 100 kg/month, above the 60 kg/month asked "
     "(a pooled requirement can reach it)"),
    ({}, {"valid_until": SHORT_VALIDITY}, "validity",
     "the offer is valid only until 2026-12-26; supply needed from 2027-01-25"),
    ({"duration_months": 2}, {"valid_from": LATE_START}, "validity",
     "the offer starts only on 2027-05-01; the schedule ends on 2027-03-25"),
    ({"required": ("as9100",)}, {}, "certification:as9100", "does not hold as9100"),
]  # fmt: skip


@pytest.mark.parametrize(("req_changes", "offer_changes", "constraint", "reason"), CASES)
def test_each_hard_constraint_alone_makes_a_near_miss_naming_it(
    req_changes: dict[str, Any], offer_changes: dict[str, Any], constraint: str, reason: str
) -> None:
    result = one(requirement(**req_changes), offer(**offer_changes))
    assert result.matches() == []
    (miss,) = result.near_misses()
    assert (miss.constraint, miss.reason) == (constraint, reason)


def test_two_constraints_make_no_near_miss() -> None:
    result = one(requirement(coating="zn", magnetisation="multipole"), offer())
    assert result.matches() == []
    assert result.near_misses() == []


def test_pieces_are_compared_with_kg_through_the_piece_mass() -> None:
    req = requirement(quantity=10_000, quantity_unit="pieces")
    # An arc of R30/R25, 45°, 40 mm: 45/360 * pi * (900 - 625) * 40 mm3 = 4,319.7 mm3; 32.4 g.
    assert req.piece_mass_kg == pytest.approx(0.0323977, rel=1e-4)
    enough = one(req, offer(capacity=100.0))  # 100 kg = 3,087 pieces >= 2,500 (a quarter)
    assert len(enough.matches()) == 1
    (reason,) = [r for r in enough.matches()[0].reasons if r.startswith("capacity")]
    assert reason.startswith("capacity 3,087 pieces/month against 10,000 pieces/month needed")
    short = one(req, offer(capacity=60.0))  # 1,852 pieces < 2,500
    assert [m.constraint for m in short.near_misses()] == ["capacity"]


def test_grade_compatibility_uses_the_registry_rule() -> None:
    assert grade_answer("n42sh", ("n45uh",)) == (True, "N45UH")
    assert grade_answer("n42sh", ("n40sh", "n52")) == (False, "N40SH")
    assert grade_answer("n42sh", ("sm2co17-28",)) == (False, "")
    assert grade_answer("n42sh", ("n42sh", "n45uh")) == (True, "N42SH")


def test_validity_shorter_than_the_schedule_lowers_the_headroom() -> None:
    until = float((RUN + timedelta(days=60 + 179)).toordinal())  # 180 of 360 days
    (match,) = one(requirement(), offer(valid_until=until)).matches()
    headroom = next(f for f in match.factors if f.name == "capacity_headroom")
    assert headroom.value == pytest.approx(0.5)
    assert any("the offer covers 6 of the 12 months" in r for r in match.reasons)


def test_an_offer_starting_mid_schedule_covers_only_its_part() -> None:
    # Supply from 2027-01-25 for 12 months (360 days); the offer starts on 2027-07-24.
    late = float((RUN + timedelta(days=60 + 180)).toordinal())
    (match,) = one(requirement(), offer(valid_from=late)).matches()
    headroom = next(f for f in match.factors if f.name == "capacity_headroom")
    assert headroom.value == pytest.approx(0.5)


def test_ranking_is_by_score_with_ties_by_offer_id() -> None:
    offers = [offer(id="o3"), offer(id="o1"), offer(id="o2", lead_time_days=90.0)]
    result = scoring.score(pair([requirement()], offers), run_date=RUN)
    assert [m.offer_id for m in result.matches()] == ["o1", "o3", "o2"]


def test_price_and_distance_are_asked_only_when_the_buyer_states_them() -> None:
    req = requirement(budget_per_kg=3000, latitude=12.97, longitude=77.59)
    off = offer(price_min=2500.0, price_max=3500.0, latitude=12.97, longitude=77.59)
    (match,) = one(req, off).matches()
    names = {f.name: f for f in match.factors}
    assert names["price"].value == pytest.approx(0.5)
    assert names["distance"].value == pytest.approx(1.0)
    assert names["price"].weight > 0
    assert names["distance"].weight > 0


def test_both_directions_give_the_same_pair_the_same_score() -> None:
    reqs = [requirement(id=f"r{i}", quantity=100 + 50 * i) for i in range(4)]
    offs = [offer(id=f"o{i}", lead_time_days=30.0 + 10 * i) for i in range(3)]
    forward = {
        (m.requirement_id, m.offer_id): m.score
        for r in reqs
        for m in scoring.score(pair([r], offs), run_date=RUN).matches()
    }
    backward = {
        (m.requirement_id, m.offer_id): m.score
        for o in offs
        for m in scoring.score(pair(reqs, [o]), run_date=RUN, rank_by="requirement").matches()
    }
    assert forward == backward
    assert len(forward) == 12


@given(
    quantity=st.floats(1, 100_000),
    capacity=st.floats(1, 100_000),
    lead=st.integers(0, 400),
    days=st.integers(1, 400),
    budget=st.one_of(st.none(), st.floats(100, 10_000)),
    low=st.floats(100, 10_000),
    spread=st.floats(0, 5_000),
    supplies=st.integers(0, 50),
    lat=st.one_of(st.none(), st.floats(8, 35)),
)
def test_contributions_always_sum_to_the_score(
    quantity: float,
    capacity: float,
    lead: int,
    days: int,
    budget: float | None,
    low: float,
    spread: float,
    supplies: int,
    lat: float | None,
) -> None:
    req = requirement(
        quantity=quantity,
        needed_from=RUN + timedelta(days=days),
        budget_per_kg=budget,
        latitude=lat,
        longitude=None if lat is None else 77.0,
        preferred=("iatf-16949", "as9100"),
    )
    off = offer(
        capacity=capacity,
        min_order=0.0,
        lead_time_days=float(lead),
        price_min=low,
        price_max=low + spread,
        latitude=20.0,
        longitude=78.0,
        past_supplies=float(supplies),
        past_good=float(supplies // 2),
    )
    result = one(req, off)
    for match in result.matches():
        assert 0 <= match.score <= 100
        assert round(sum(100 * f.contribution for f in match.factors)) == round(100 * match.score)
        assert all(0 <= f.value <= 1 for f in match.factors)
    assert len(result.matches()) + len(result.near_misses()) == 1


def test_an_offers_batch_is_the_same_built_whole_or_pair_by_pair() -> None:
    reqs = [
        requirement(id="r1"),
        requirement(id="r2", grade="n45uh", coating="zn", required=("as9100", "iso-9001")),
        requirement(id="r3", shape="ring", dimensions=RING, quantity_unit="pieces",
                    quantity=5000, preferred=("iatf-16949",), budget_per_kg=2800,
                    latitude=12.9, longitude=77.6),
    ]  # fmt: skip
    off = offer(price_min=2500.0, price_max=3000.0, valid_from=float(RUN.toordinal()))
    whole, rows = pair_with_offer(reqs, off), pair_rows(reqs, [off])
    for spec in fields(whole):
        a, b = getattr(whole, spec.name), getattr(rows, spec.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=spec.name)
        else:
            assert [list(x) if isinstance(x, list) else x for x in a] == [
                list(x) if isinstance(x, list) else x for x in b
            ], spec.name
    assert scoring.score(whole, run_date=RUN).scores.tolist() == pytest.approx(
        scoring.score(rows, run_date=RUN).scores.tolist()
    )


def test_batch_rejects_ragged_columns() -> None:
    batch = pair([requirement()], [offer()])
    with pytest.raises(ValueError, match="rows"):
        replace(batch, capacity=batch.capacity[:0])


def test_contributions_are_rounded_by_largest_remainder() -> None:
    """Rounded one by one, 33.334 + 33.334 + 33.332 gives 99.99 against a score of 100.00;
    the largest remainders take the missing hundredths, so the sum is exact."""
    import numpy as np

    from matching.magnets.scoring import largest_remainder

    raw = np.array([[3333.4, 3333.4, 3333.2, 0.0], [1250.5, 2500.25, 6249.25, 0.0]])
    totals = np.round(raw.sum(axis=1))
    assert np.round(raw).sum(axis=1).tolist() == [9999.0, 9999.0]  # naive: one short
    rounded = largest_remainder(raw, totals)
    assert rounded.tolist() == [[3334.0, 3333.0, 3333.0, 0.0], [1251.0, 2500.0, 6249.0, 0.0]]
    assert rounded.sum(axis=1).tolist() == totals.tolist()


def _changed(column: Any) -> Any:
    """``column`` (one pair's) with its value changed."""
    if isinstance(column, np.ndarray):
        if column.dtype == bool:
            return ~column
        if column.ndim == 1:
            return np.where(np.isnan(column), 7.0, column + 1.0)
    if column and isinstance(column[0], tuple | list | frozenset):
        return [(*column[0], "as9100")]
    return [f"{column[0]}x"]


def test_a_pairs_digest_changes_with_every_input_and_the_day_and_nothing_else() -> None:
    """What a rerun compares to skip a pair: any single input of the pair changing (or
    the run's day) changes the digest; the ids alone do not (they are the pair's key)."""
    batch = pair(
        [requirement(budget_per_kg=2800, latitude=12.9, longitude=77.6, preferred=("bis",))],
        [offer(price_min=2500.0, price_max=3000.0, latitude=12.7, longitude=77.8)],
    )
    rows = np.arange(1, dtype=np.intp)
    (base,) = scoring.score(batch, run_date=RUN).digests(rows)
    (again,) = scoring.score(batch, run_date=RUN).digests(rows)
    assert base == again
    assert 0 <= base < 2**63
    renamed = replace(batch, offer_ids=["o9"], requirement_ids=["r9"])
    assert scoring.score(renamed, run_date=RUN).digests(rows) == [base]
    next_day = scoring.score(batch, run_date=RUN + timedelta(days=1)).digests(rows)
    assert next_day != [base]
    for spec in fields(batch):
        if spec.name in ("offer_ids", "requirement_ids"):
            continue
        moved = replace(batch, **{spec.name: _changed(getattr(batch, spec.name))})
        assert scoring.score(moved, run_date=RUN).digests(rows) != [base], spec.name


def test_both_directions_give_the_same_pair_the_same_digest() -> None:
    """A pair stored by one direction's run is recognised as unchanged by the other's."""
    reqs = [requirement(id=f"r{i}", quantity=100 + 50 * i) for i in range(3)]
    offs = [offer(id=f"o{i}", lead_time_days=30.0 + 10 * i) for i in range(3)]

    def digests(result: scoring.ScoringResult) -> dict[tuple[str, str], int]:
        b = result.batch
        return {
            (b.requirement_ids[i], b.offer_ids[i]): d
            for i, d in zip(result.order.tolist(), result.digests(result.order), strict=True)
        }

    forward: dict[tuple[str, str], int] = {}
    for r in reqs:
        forward |= digests(scoring.score(pair([r], offs), run_date=RUN))
    backward: dict[tuple[str, str], int] = {}
    for o in offs:
        backward |= digests(scoring.score(pair(reqs, [o]), run_date=RUN, rank_by="requirement"))
    assert forward == backward
    assert len(forward) == 9
    assert len(set(forward.values())) == 9


def test_a_pairs_digest_changes_with_the_weights_the_code_and_two_inputs_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The maker's record of 1 supply (0 good) and of 88 (52 good) had one digest when
    the columns were folded linearly; the weights and the text of the scoring modules
    are in every digest too."""
    from matching import scoring as base_scoring

    rows = np.arange(1, dtype=np.intp)

    def digest(batch: Any, **kwargs: Any) -> int:
        (d,) = scoring.score(batch, run_date=RUN, **kwargs).digests(rows)
        return d

    records = [(float(s), float(g)) for s in range(0, 100, 3) for g in range(0, s + 1, 4)]
    seen = {
        digest(pair([requirement()], [offer(past_supplies=s, past_good=g)])) for s, g in records
    }
    assert len(seen) == len(records)
    assert digest(pair([requirement()], [offer(past_supplies=1.0, past_good=0.0)])) != digest(
        pair([requirement()], [offer(past_supplies=88.0, past_good=52.0)])
    )

    batch = pair([requirement()], [offer()])
    base = digest(batch)
    assert digest(batch, weights=scoring.Weights(lead_time=0.4, capacity_headroom=0.1)) != base
    monkeypatch.setattr(scoring, "SOURCE_FINGERPRINT", "edited")
    assert digest(batch) != base
    monkeypatch.undo()
    monkeypatch.setattr(base_scoring, "SOURCE_FINGERPRINT", "edited")
    assert digest(batch) != base
