"""The pure scoring of calls for collaboration, and docs/collaboration.md's worked example
recomputed (so the page cannot drift from the algorithm)."""

import math

import pytest

from matching.collaboration.scoring import (
    ALGORITHM_VERSION,
    FACTORS,
    FACTORS_BY_VERSION,
    CallCriteria,
    Candidate,
    Weights,
    batch_from,
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
        assert math.isclose(sum(f.contribution for f in match.factors), match.score, abs_tol=0.02)
        weights = {f.name: f.weight for f in match.factors}
        assert weights[unasked[drop]] == 0
        assert math.isclose(sum(weights.values()), 1.0, abs_tol=1e-3)


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
