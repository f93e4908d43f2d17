"""The pure scoring of calls for collaboration, and docs/collaboration.md's worked example
recomputed (so the page cannot drift from the algorithm)."""

import math
import random

import numpy as np
import pytest

from matching.collaboration.scoring import (
    ALGORITHM_VERSION,
    FACTORS,
    FACTORS_BY_VERSION,
    CallCriteria,
    Candidate,
    Weights,
    batch_from,
    exact_contributions,
    score,
)

PUNE = (18.52, 73.85)
MAT, PROTO = "materials-rnd", "prototyping"
VSM, SEM, XRD = "facility-vsm", "facility-sem-eds", "facility-xrd"


def example() -> tuple[CallCriteria, list[Candidate]]:
    criteria = CallCriteria(
        required_capabilities=(MAT, PROTO),
        required_facilities=(VSM,),
        preferred_facilities=(SEM, XRD),
        has_text=True,
        latitude=PUNE[0],
        longitude=PUNE[1],
    )
    candidates = [
        Candidate("A", capabilities={MAT, PROTO, VSM, SEM}, text_relevance=0.5,
                  latitude=PUNE[0], longitude=PUNE[1]),
        Candidate("B", capabilities={MAT, VSM}, text_relevance=0.25),
        Candidate("C", capabilities={MAT, PROTO, SEM, XRD}, past_selected=2),
        Candidate("D", capabilities={VSM, SEM}),
        Candidate("E", is_active=False, capabilities={MAT}),
        Candidate("F", capabilities={MAT, VSM}, past_selected=2,
                  text_relevance=0.25),
    ]  # fmt: skip
    return criteria, candidates


def test_the_worked_example_of_docs_collaboration() -> None:
    criteria, candidates = example()
    result = score(criteria, batch_from(criteria, candidates))
    matches = result.matches()
    assert [(m.supplier_id, m.score) for m in matches] == [("A", 72.5), ("F", 38.0), ("B", 35.0)]
    a = {f.name: (f.value, f.weight, f.contribution) for f in matches[0].factors}
    assert a == {
        "capability_coverage": (1.0, 0.35, 35.0),
        "facility_coverage": (0.5, 0.2, 10.0),
        "past_collaborations": (0.5, 0.15, 7.5),
        "text_relevance": (0.5, 0.2, 10.0),
        "distance": (1.0, 0.1, 10.0),
    }
    f = {x.name: x.value for x in matches[1].factors}
    assert f["past_collaborations"] == 0.7  # (2 + 0.5 x 3) / (2 + 3)
    assert f["distance"] == 0.5  # no coordinates: neutral
    assert [(m.supplier_id, m.constraint) for m in result.near_misses] == [
        ("C", "facility:facility-vsm"),
        ("D", "capability"),
    ]
    assert "lacks the required facility facility-vsm" in result.near_misses[0].reason
    assert "E" not in {m.supplier_id for m in matches}
    assert "no past collaborations on record (scored at the prior)" in matches[0].reasons
    assert "selected for 2 past collaborations" in matches[1].reasons


@pytest.mark.parametrize("drop", ["preferred", "text", "location"])
def test_contributions_sum_to_the_score_whatever_is_asked(drop: str) -> None:
    criteria, candidates = example()
    changes = {
        "preferred": {"preferred_facilities": ()},
        "text": {"has_text": False},
        "location": {"latitude": None, "longitude": None},
    }[drop]
    criteria = CallCriteria(**{**criteria.__dict__, **changes})
    result = score(criteria, batch_from(criteria, candidates))
    unasked = {"preferred": "facility_coverage", "text": "text_relevance", "location": "distance"}
    for match in result.matches():
        assert cents(f.contribution for f in match.factors) == round(match.score * 100)
        weights = {f.name: f.weight for f in match.factors}
        assert weights[unasked[drop]] == 0
        assert math.isclose(sum(weights.values()), 1.0, abs_tol=1e-3)


def cents(values: object) -> int:
    return sum(round(v * 100) for v in values)  # type: ignore[attr-defined]


def test_contributions_add_up_to_the_score_exactly() -> None:
    # Rounding each third to 33.33 would lose a hundredth: the largest remainder gets it.
    assert exact_contributions(np.array([100 / 3] * 3), 100.0) == [33.34, 33.33, 33.33]
    assert exact_contributions(np.array([10.005, 0.0, 20.004, 5.001]), 35.01) == [
        10.01,
        0.0,
        20.0,
        5.0,
    ]
    # Any batch, any criteria: the contributions add up to the score in hundredths, each
    # within a hundredth of its exact term.
    rng = random.Random(17)
    for _ in range(200):
        criteria = CallCriteria(
            required_capabilities=(MAT, PROTO, "c3")[: rng.randint(1, 3)],
            preferred_facilities=(SEM, XRD, "facility-x")[: rng.randint(0, 3)],
            has_text=rng.random() < 0.7,
            latitude=PUNE[0] if rng.random() < 0.5 else None,
            longitude=PUNE[1],
        )
        if criteria.latitude is None:
            criteria = CallCriteria(**{**criteria.__dict__, "longitude": None})
        candidates = [
            Candidate(
                f"s{i}",
                capabilities={MAT, PROTO, "c3", SEM, XRD, "facility-x"}
                - set(rng.sample([PROTO, "c3", SEM, XRD, "facility-x"], rng.randint(0, 5))),
                past_selected=rng.randint(0, 7),
                text_relevance=rng.random(),
                latitude=PUNE[0] + rng.uniform(-5, 5),
                longitude=PUNE[1] + rng.uniform(-5, 5),
            )
            for i in range(20)
        ]
        result = score(criteria, batch_from(criteria, candidates))
        terms = 100.0 * result.weights * result.values
        for match in result.matches():
            assert cents(f.contribution for f in match.factors) == round(match.score * 100)
            index = result.batch.supplier_ids.index(match.supplier_id)
            for f, term in zip(match.factors, terms[index], strict=True):
                assert abs(f.contribution - term) < 0.01 + 1e-9


def test_ties_break_by_supplier_id_and_the_version_is_registered() -> None:
    criteria = CallCriteria(required_capabilities=(MAT,))
    candidates = [Candidate(x, capabilities={MAT}) for x in ("z", "b", "m")]
    result = score(criteria, batch_from(criteria, candidates))
    assert [m.supplier_id for m in result.matches()] == ["b", "m", "z"]
    assert FACTORS_BY_VERSION[ALGORITHM_VERSION] == FACTORS
    assert result.algorithm_version == ALGORITHM_VERSION


def test_criteria_and_weights_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="capability"):
        CallCriteria(required_capabilities=())
    with pytest.raises(ValueError, match="non-negative"):
        Weights(distance=-1)
    with pytest.raises(ValueError, match="all be zero"):
        Weights(0, 0, 0, 0, 0)


def test_an_empty_batch_scores_nothing() -> None:
    criteria, _ = example()
    result = score(criteria, batch_from(criteria, []))
    assert result.matches() == []
    assert result.near_misses == []


def test_the_docs_state_the_example_and_the_version() -> None:
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "collaboration.md").read_text()
    for number in ("**72.5**", "**38.0**", "**35.0**", ALGORITHM_VERSION):
        assert number in page, number
    weights = Weights()
    for name in FACTORS:
        assert f"| `{name}` |" in page
        assert f"| {getattr(weights, name):.2f} |" in page
