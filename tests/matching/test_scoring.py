"""matching.scoring: properties (hypothesis) and one example per factor and constraint."""

import math
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.scoring import (
    FACTORS,
    Candidate,
    CandidateBatch,
    Criteria,
    Offer,
    Weights,
    batch_from,
    row_digests,
    score,
)

RUN = date(2026, 11, 25)
CAPS = ("jet-milling", "sintering", "nicuni-coating")
CERTS = ("iso-9001", "iatf-16949")
VALID = (RUN - timedelta(days=100), RUN + timedelta(days=100))
EXPIRED = (RUN - timedelta(days=800), RUN - timedelta(days=1))
PUNE = (18.52, 73.86)


def certs(*codes: str, window: tuple[date, date] = VALID) -> list[tuple[str, date, date]]:
    return [(code, *window) for code in codes]


def criteria(**overrides: object) -> Criteria:
    base = {"required_capabilities": ("jet-milling",), "run_date": RUN}
    base.update(overrides)
    return Criteria(**base)  # type: ignore[arg-type]


def run(c: Criteria, *candidates: Candidate) -> dict[str, object]:
    result = score(c, batch_from(c, candidates))
    return {m.supplier_id: m for m in result.matches()} | {"_result": result}


# ------------------------------------------------------------------ strategies

offers = st.builds(
    Offer,
    capacity_base=st.one_of(st.none(), st.floats(0, 1e6)),
    dimension=st.sampled_from(["mass", "pieces", None]),
    lead_time_days=st.one_of(st.none(), st.integers(0, 365)),
)
candidates = st.builds(
    Candidate,
    supplier_id=st.uuids().map(str),
    is_active=st.booleans(),
    offers=st.dictionaries(st.sampled_from(CAPS), offers, max_size=3),
    certificates=st.lists(
        st.tuples(
            st.sampled_from(CERTS),
            st.dates(RUN - timedelta(days=2000), RUN + timedelta(days=30)),
            st.dates(RUN - timedelta(days=30), RUN + timedelta(days=2000)),
        ).filter(lambda t: t[1] <= t[2]),
        max_size=3,
    ),
    latitude=st.one_of(st.none(), st.floats(8, 35)),
    longitude=st.floats(69, 95),
    location_approximate=st.booleans(),
    enterprise_size=st.sampled_from(["micro", "small", "medium"]),
    women_owned=st.booleans(),
    sc_st_owned=st.booleans(),
    past_awards=st.integers(0, 20),
    past_successes=st.integers(0, 20),
    text_relevance=st.floats(0, 1),
).map(lambda c: replace(c, past_successes=min(c.past_successes, c.past_awards)))
criteria_strategy = st.builds(
    Criteria,
    required_capabilities=st.lists(st.sampled_from(CAPS), min_size=1, max_size=3, unique=True).map(
        tuple
    ),
    run_date=st.just(RUN),
    required_certifications=st.lists(st.sampled_from(CERTS), max_size=2, unique=True).map(tuple),
    preferred_certifications=st.lists(st.sampled_from(CERTS), max_size=2, unique=True).map(tuple),
    quantity_base=st.one_of(st.none(), st.floats(1, 1e6)),
    quantity_dimension=st.sampled_from(["mass", "pieces"]),
    needed_by=st.one_of(st.none(), st.dates(RUN, RUN + timedelta(days=400))),
    latitude=st.one_of(st.none(), st.floats(8, 35)),
    longitude=st.floats(69, 95),
    max_distance_km=st.one_of(st.none(), st.floats(10, 3000)),
    prefer_micro_small=st.booleans(),
    prefer_women_owned=st.booleans(),
    prefer_sc_st_owned=st.booleans(),
    has_text=st.booleans(),
    weights=st.lists(st.floats(0, 10), min_size=len(FACTORS), max_size=len(FACTORS))
    .filter(lambda ws: sum(ws) > 0)
    .map(lambda ws: Weights(*ws)),
)


def violates_hard_constraint(c: Criteria, candidate: Candidate) -> bool:
    last_day_needed = max(RUN, c.needed_by or RUN)
    valid = {
        code
        for code, start, end in candidate.certificates
        if start <= RUN and last_day_needed <= end
    }
    if not candidate.is_active or not set(c.required_capabilities) & set(candidate.offers):
        return True
    if not set(c.required_certifications) <= valid:
        return True
    exact = candidate.latitude is not None and not candidate.location_approximate
    if c.max_distance_km is not None and c.latitude is not None and exact:
        lat1, lon1, lat2, lon2 = map(
            math.radians, (c.latitude, c.longitude, candidate.latitude, candidate.longitude)
        )
        a = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        if 2 * 6371 * math.asin(math.sqrt(a)) > c.max_distance_km:
            return True
    return False


# ------------------------------------------------------------------ properties


@settings(max_examples=150, deadline=None)
@given(criteria_strategy, st.lists(candidates, max_size=25, unique_by=lambda c: c.supplier_id))
def test_no_match_violates_a_hard_constraint(c: Criteria, pool: list[Candidate]) -> None:
    by_id = {cand.supplier_id: cand for cand in pool}
    result = score(c, batch_from(c, pool))

    for match in result.matches():
        assert not violates_hard_constraint(c, by_id[match.supplier_id])
    matched = {m.supplier_id for m in result.matches()}
    assert matched == {cand.supplier_id for cand in pool if not violates_hard_constraint(c, cand)}


@settings(max_examples=150, deadline=None)
@given(
    criteria_strategy,
    st.lists(candidates, min_size=1, max_size=25, unique_by=lambda c: c.supplier_id),
)
def test_scores_in_range_and_contributions_sum_to_score(c: Criteria, pool: list[Candidate]) -> None:
    for match in score(c, batch_from(c, pool)).matches():
        assert 0 <= match.score <= 100
        assert all(0 <= f.value <= 1 for f in match.factors)
        assert math.isclose(sum(f.contribution for f in match.factors), match.score, abs_tol=0.05)
        assert math.isclose(sum(f.weight for f in match.factors), 1, abs_tol=1e-3)


@settings(max_examples=100, deadline=None)
@given(
    criteria_strategy,
    st.lists(candidates, max_size=25, unique_by=lambda c: c.supplier_id),
    st.randoms(),
)
def test_same_input_same_ranking_whatever_the_order(
    c: Criteria, pool: list[Candidate], rng: object
) -> None:
    first = [(m.supplier_id, m.score) for m in score(c, batch_from(c, pool)).matches()]
    shuffled = list(pool)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    second = [(m.supplier_id, m.score) for m in score(c, batch_from(c, shuffled)).matches()]

    assert first == second
    scores = [s for _, s in first]
    assert scores == sorted(scores, reverse=True)


@settings(max_examples=150, deadline=None)
@given(criteria_strategy, candidates, st.sampled_from(CAPS))
def test_requiring_a_capability_the_supplier_offers_never_lowers_its_score(
    c: Criteria, candidate: Candidate, extra: str
) -> None:
    candidate = replace(
        candidate, offers={**candidate.offers, extra: candidate.offers.get(extra, Offer())}
    )
    if extra in c.required_capabilities:
        return
    before = {m.supplier_id: m.score for m in score(c, batch_from(c, [candidate])).matches()}
    wider = replace(c, required_capabilities=(*c.required_capabilities, extra))
    # The new capability's offer must not be the new bottleneck for capacity or lead time.
    offer = candidate.offers[extra]
    if offer.capacity_base is not None or offer.lead_time_days is not None:
        candidate = replace(candidate, offers={**candidate.offers, extra: Offer()})
        before = {m.supplier_id: m.score for m in score(c, batch_from(c, [candidate])).matches()}
    after = {m.supplier_id: m.score for m in score(wider, batch_from(wider, [candidate])).matches()}

    for supplier_id, old in before.items():
        assert after[supplier_id] >= old - 1e-6


@settings(max_examples=150, deadline=None)
@given(
    criteria_strategy.filter(lambda c: c.latitude is not None), candidates, st.floats(0.01, 0.99)
)
def test_moving_closer_never_lowers_the_score(
    c: Criteria, candidate: Candidate, fraction: float
) -> None:
    if candidate.latitude is None:
        return
    closer = replace(
        candidate,
        latitude=candidate.latitude + (c.latitude - candidate.latitude) * fraction,  # type: ignore[operator]
        longitude=candidate.longitude + (c.longitude - candidate.longitude) * fraction,  # type: ignore[operator]
    )
    far = {m.supplier_id: m.score for m in score(c, batch_from(c, [candidate])).matches()}
    near = {m.supplier_id: m.score for m in score(c, batch_from(c, [closer])).matches()}

    for supplier_id, old in far.items():
        assert near[supplier_id] >= old - 1e-6


# ------------------------------------------------------------------ examples


def supplier(supplier_id: str = "s1", **overrides: object) -> Candidate:
    base: dict[str, object] = {
        "supplier_id": supplier_id,
        "offers": {"jet-milling": Offer(1000, "mass", 20)},
        "certificates": certs("iso-9001"),
        "latitude": 18.6,
        "longitude": 73.9,
    }
    base.update(overrides)
    return Candidate(**base)  # type: ignore[arg-type]


def factor(match: object, name: str) -> float:
    return next(f.value for f in match.factors if f.name == name)  # type: ignore[attr-defined]


def test_expired_required_certificate_excludes_and_is_a_near_miss() -> None:
    c = criteria(required_certifications=("iso-9001",))
    out = run(
        c, supplier("ok"), supplier("expired", certificates=certs("iso-9001", window=EXPIRED))
    )

    assert set(out) - {"_result"} == {"ok"}
    (near,) = out["_result"].near_misses  # type: ignore[attr-defined]
    assert (near.supplier_id, near.constraint) == ("expired", "certification:iso-9001")


def test_two_violations_are_not_a_near_miss() -> None:
    c = criteria(required_certifications=("iso-9001", "iatf-16949"))
    result = score(c, batch_from(c, [supplier("x", certificates=[])]))

    assert result.matched_count == 0
    assert result.near_misses == []


def test_inactive_and_no_capability_are_excluded() -> None:
    c = criteria()
    out = run(
        c, supplier("inactive", is_active=False), supplier("other", offers={"sintering": Offer()})
    )

    assert set(out) == {"_result"}
    constraints = {m.constraint for m in out["_result"].near_misses}  # type: ignore[attr-defined]
    assert constraints == {"active", "capability"}


def test_radius_excludes_exact_locations_only() -> None:
    c = criteria(latitude=PUNE[0], longitude=PUNE[1], max_distance_km=100)
    chennai = {"latitude": 13.08, "longitude": 80.27}
    out = run(
        c,
        supplier("near"),
        supplier("far", **chennai),
        supplier("approximate", **chennai, location_approximate=True),
    )

    assert set(out) - {"_result"} == {"near", "approximate"}
    assert factor(out["approximate"], "distance") == 0.5
    assert any("approximate" in r for r in out["approximate"].reasons)  # type: ignore[attr-defined]
    assert factor(out["near"], "distance") > 0.9


def test_capability_coverage() -> None:
    c = criteria(required_capabilities=("jet-milling", "sintering"))
    out = run(
        c, supplier("one"), supplier("two", offers={"jet-milling": Offer(), "sintering": Offer()})
    )

    assert factor(out["one"], "capability_coverage") == 0.5
    assert factor(out["two"], "capability_coverage") == 1.0


def test_capacity_against_quantity_over_the_months_available() -> None:
    c = criteria(quantity_base=3000, quantity_dimension="mass", needed_by=RUN + timedelta(days=60))
    out = run(
        c,
        supplier("small", offers={"jet-milling": Offer(500, "mass", 10)}),
        supplier("big", offers={"jet-milling": Offer(2000, "mass", 10)}),
        supplier("unknown", offers={"jet-milling": Offer(None, None, 10)}),
        supplier("pieces", offers={"jet-milling": Offer(10**6, "pieces", 10)}),
    )

    assert factor(out["small"], "capacity") == pytest.approx(1000 / 3000, abs=1e-3)
    assert factor(out["big"], "capacity") == 1.0
    assert factor(out["unknown"], "capacity") == 0.5
    assert factor(out["pieces"], "capacity") == 0.5


def test_lead_time_against_needed_by() -> None:
    c = criteria(needed_by=RUN + timedelta(days=30))
    out = run(
        c,
        supplier("fast", offers={"jet-milling": Offer(lead_time_days=20)}),
        supplier("slow", offers={"jet-milling": Offer(lead_time_days=45)}),
        supplier("very-slow", offers={"jet-milling": Offer(lead_time_days=90)}),
    )

    assert factor(out["fast"], "lead_time") == 1.0
    assert factor(out["slow"], "lead_time") == pytest.approx(0.5)
    assert factor(out["very-slow"], "lead_time") == 0.0
    assert "lead time 45 days, needed in 30" in out["slow"].reasons  # type: ignore[attr-defined]


def test_track_record_is_shrunk_towards_the_prior() -> None:
    c = criteria()
    out = run(
        c,
        supplier("new"),
        supplier("one-good", past_awards=1, past_successes=1),
        supplier("many-good", past_awards=20, past_successes=20),
    )

    assert factor(out["new"], "track_record") == 0.5
    assert (
        0.5 < factor(out["one-good"], "track_record") < factor(out["many-good"], "track_record") < 1
    )


def test_preferred_certifications_count_only_when_valid() -> None:
    c = criteria(preferred_certifications=("iatf-16949", "iso-9001"))
    out = run(
        c,
        supplier("both", certificates=certs("iso-9001", "iatf-16949")),
        supplier("expired", certificates=certs("iso-9001") + certs("iatf-16949", window=EXPIRED)),
    )

    assert factor(out["both"], "preferred_certifications") == 1.0
    assert factor(out["expired"], "preferred_certifications") == 0.5


def test_a_certificate_expiring_before_the_needed_by_date_is_a_near_miss() -> None:
    needed_by = RUN + timedelta(days=60)
    c = criteria(
        required_certifications=("iso-9001",),
        preferred_certifications=("iatf-16949",),
        needed_by=needed_by,
    )
    through = (RUN - timedelta(days=10), needed_by)
    short = (RUN - timedelta(days=10), needed_by - timedelta(days=1))
    out = run(
        c,
        supplier("through", certificates=certs("iso-9001", "iatf-16949", window=through)),
        supplier("short", certificates=certs("iso-9001", window=short)),
        supplier(
            "short-preferred", certificates=certs("iso-9001") + certs("iatf-16949", window=short)
        ),
        supplier("missing", certificates=[]),
    )

    assert factor(out["through"], "preferred_certifications") == 1.0
    assert "short" not in out
    assert factor(out["short-preferred"], "preferred_certifications") == 0.0
    misses = {m.supplier_id: m for m in out["_result"].near_misses}  # type: ignore[attr-defined]
    assert misses["short"].constraint == misses["missing"].constraint == "certification:iso-9001"
    assert misses["short"].reason == (
        f"its iso-9001 certificate expires before the needed-by date ({needed_by.isoformat()})"
    )
    assert misses["missing"].reason == "needs a valid iso-9001 certificate"


def test_text_relevance_and_policy() -> None:
    c = criteria(has_text=True, prefer_women_owned=True, prefer_micro_small=True)
    out = run(
        c,
        supplier("relevant", text_relevance=0.8, women_owned=True, enterprise_size="micro"),
        supplier("medium", text_relevance=0.1, enterprise_size="medium"),
    )

    assert factor(out["relevant"], "text_relevance") == 0.8
    assert factor(out["relevant"], "policy") == 1.0
    assert factor(out["medium"], "policy") == 0.0
    assert out["relevant"].rank == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("size", "credited"), [("micro", True), ("small", True), ("medium", False)]
)
def test_ownership_sub_targets_credit_only_micro_and_small(size: str, credited: bool) -> None:
    c = criteria(prefer_women_owned=True, prefer_sc_st_owned=True)
    out = run(c, supplier("s1", enterprise_size=size, women_owned=True, sc_st_owned=True))

    assert factor(out["s1"], "policy") == (1.0 if credited else 0.0)
    reasons = out["s1"].reasons  # type: ignore[attr-defined]
    assert ("women-owned micro or small enterprise (policy preference)" in reasons) is credited
    assert ("SC/ST-owned micro or small enterprise (policy preference)" in reasons) is credited


def test_factors_not_asked_get_no_weight() -> None:
    out = run(criteria(), supplier())

    weights = {f.name: f.weight for f in out["s1"].factors}  # type: ignore[attr-defined]
    assert weights["capacity"] == weights["lead_time"] == weights["distance"] == 0
    assert (
        weights["policy"] == weights["text_relevance"] == weights["preferred_certifications"] == 0
    )
    assert weights["capability_coverage"] + weights["track_record"] == pytest.approx(1)


def test_weight_overrides_change_the_ranking() -> None:
    c = criteria(latitude=PUNE[0], longitude=PUNE[1], needed_by=RUN + timedelta(days=30))
    near_slow = supplier("near-slow", offers={"jet-milling": Offer(lead_time_days=60)})
    far_fast = supplier(
        "far-fast",
        latitude=13.08,
        longitude=80.27,
        offers={"jet-milling": Offer(lead_time_days=10)},
    )

    by_distance = run(replace(c, weights=Weights(distance=10, lead_time=0.1)), near_slow, far_fast)
    by_lead_time = run(replace(c, weights=Weights(distance=0.1, lead_time=10)), near_slow, far_fast)

    assert by_distance["near-slow"].rank == 1  # type: ignore[attr-defined]
    assert by_lead_time["far-fast"].rank == 1  # type: ignore[attr-defined]


def test_ties_are_broken_by_supplier_id() -> None:
    c = criteria()
    out = run(c, supplier("b"), supplier("a"), supplier("c"))

    assert [out[s].rank for s in ("a", "b", "c")] == [1, 2, 3]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "weights", [{"distance": -1.0}, dict.fromkeys(FACTORS, 0.0), {"capacity": math.inf}]
)
def test_bad_weights_are_refused(weights: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="weights"):
        Weights(**weights)


def test_a_request_needs_a_capability() -> None:
    with pytest.raises(ValueError, match="capability"):
        Criteria(required_capabilities=(), run_date=RUN)


def test_scoring_has_no_django_import() -> None:
    import ast
    from pathlib import Path

    import matching.scoring as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(name.startswith("django") for name in imported)


# ------------------------------------------------------------------ digests


def _digest_batch() -> tuple[Criteria, CandidateBatch]:
    criteria = Criteria(
        required_capabilities=("a", "b"),
        run_date=date(2026, 11, 25),
        required_certifications=("iso-9001",),
        preferred_certifications=("iatf-16949",),
        quantity_base=100.0,
        quantity_dimension="mass",
        needed_by=date(2027, 1, 10),
        latitude=13.0,
        longitude=80.0,
    )
    people = [
        Candidate(
            supplier_id=f"s{i}",
            offers={"a": Offer(capacity_base=10.0 * i, dimension="mass", lead_time_days=7 + i)},
            certificates=[("iso-9001", date(2025, 1, 1), date(2028, 1, 1))],
            latitude=12.0 + i,
            longitude=79.0,
            past_awards=i,
        )
        for i in range(3)
    ]
    return criteria, batch_from(criteria, people)


def test_row_digests_change_with_any_single_input_and_only_that_row() -> None:
    import dataclasses

    import numpy as np

    criteria, batch = _digest_batch()
    base = row_digests(criteria, batch)
    assert len(set(base.tolist())) == 3
    assert (row_digests(criteria, batch) == base).all()
    for spec in dataclasses.fields(batch):
        column = getattr(batch, spec.name)
        if not isinstance(column, np.ndarray) or column.size == 0:  # ids, texts, absent
            continue
        for j in range(column.reshape(3, -1).shape[1]):
            changed = column.copy().reshape(3, -1)
            if changed.dtype == bool:
                changed[1, j] = not changed[1, j]
            else:
                changed[1, j] = 0.5 if math.isnan(changed[1, j]) else changed[1, j] + 1e-9
            other = dataclasses.replace(batch, **{spec.name: changed.reshape(column.shape)})
            digests = row_digests(criteria, other)
            assert digests[1] != base[1], (spec.name, j)
            assert digests[0] == base[0], spec.name
            assert digests[2] == base[2], spec.name
    named = dataclasses.replace(batch, location_names=["", "Hosur", ""])
    renamed = dataclasses.replace(batch, location_names=["", "Pune", ""])
    assert row_digests(criteria, named)[1] != row_digests(criteria, renamed)[1]
    assert row_digests(criteria, named)[0] == row_digests(criteria, renamed)[0]
    # -0.0 and 0.0, and any NaN, are the same input.
    zeros = dataclasses.replace(batch, past_successes=np.array([-0.0, 0.0, 0.0]))
    assert (row_digests(criteria, zeros) == base).all()


@settings(max_examples=150, deadline=None)
@given(
    criteria_strategy,
    st.lists(candidates, min_size=1, max_size=25, unique_by=lambda c: c.supplier_id),
    st.data(),
)
def test_near_misses_read_at_once_are_each_rows_own(
    c: Criteria, pool: list[Candidate], data: st.DataObject
) -> None:
    """The near misses' reasons, decided for all rows at once, are what
    ``_near_miss`` says of each row on its own, for any row it can explain."""
    import numpy as np

    from matching.scoring import _near_miss, _near_misses

    batch = batch_from(c, pool)
    n = len(batch)
    far = st.booleans() if c.max_distance_km is not None else st.just(False)  # as score's
    too_far = np.array(data.draw(st.lists(far, min_size=n, max_size=n)), dtype=bool)
    distance = np.array(data.draw(st.lists(st.floats(0, 3000), min_size=n, max_size=n)))
    explained = []
    for i in range(n):
        try:
            explained.append((i, _near_miss(c, batch, i, too_far, distance)))
        except IndexError:  # no constraint it can name: never a near miss
            continue
    near = np.array([i for i, _ in explained], dtype=np.intp)
    assert _near_misses(c, batch, near, too_far, distance) == [m for _, m in explained]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["", "Hosur", "Hosur 1", "Hosur 2", "Hosur Unit 2"]),
            st.text(max_size=12),
            st.none(),
            st.lists(st.text(max_size=3), max_size=3),
        ),
        max_size=30,
    )
)
def test_texts_in_a_digest_are_the_crc_of_each(texts: list[object]) -> None:
    """Text columns (plant names, grade notes) enter a row's digest as the CRC-32 of each
    value's ``str``; hashing each distinct text once must give exactly that, or every
    stored digest would differ after an upgrade and a rename could go unnoticed."""
    import zlib

    import numpy as np

    from matching.scoring import _text_crcs

    expected = np.fromiter(
        (zlib.crc32(str(text).encode()) for text in texts), np.float64, len(texts)
    )
    assert _text_crcs(texts, len(texts)).tolist() == expected.tolist()


def test_a_plant_renamed_changes_the_digest() -> None:
    import dataclasses

    criteria, batch = _digest_batch()
    digests = {
        name: row_digests(criteria, dataclasses.replace(batch, location_names=["", name, name]))
        for name in ("Hosur 1", "Hosur 2", "Hosur 1 ", "hosur 1", "")
    }
    assert len({d[1] for d in digests.values()}) == len(digests)
    assert len({d[0] for d in digests.values()}) == 1


def test_row_digests_change_with_the_criteria() -> None:
    criteria, batch = _digest_batch()
    base = row_digests(criteria, batch)
    for changed in (
        replace(criteria, run_date=date(2026, 11, 26)),
        replace(criteria, quantity_base=101.0),
        replace(criteria, weights=Weights(distance=0.3)),
    ):
        assert (row_digests(changed, batch) != base).all()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=130).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.lists(st.booleans(), min_size=k, max_size=k), min_size=0, max_size=40),
        )
    )
)
def test_offered_texts_are_each_rows_own(shape: tuple[int, list[list[bool]]]) -> None:
    """The "offers i of k" reason is formatted once per distinct combination (the rows'
    bits packed into 64-bit keys): every row must read as if formatted on its own, for any
    number of capabilities, across the word boundaries (8, 64, 128 capabilities)."""
    import numpy as np

    from matching.scoring import _offered_texts

    k, rows = shape
    capabilities = [f"cap-{j}" for j in range(k)]
    offers = np.array(rows, dtype=bool).reshape(len(rows), k)
    expected = []
    for row in rows:
        offered = [code for code, yes in zip(capabilities, row, strict=True) if yes]
        expected.append(
            f"offers {len(offered)} of {k} required capabilities ({', '.join(offered)})"
        )
    assert _offered_texts(capabilities, offers) == expected


# ------------------------------------------------------------------ reasons, a column at a time


def _reasons_row_by_row(result: Any, i: int) -> list[str]:
    """Row ``i``'s reasons worked out on their own, one test after another, as scoring
    explained a match before it built the reasons a column at a time (the oracle)."""
    import numpy as np

    from matching.scoring import (
        DISTANCE_NEUTRAL,
        GRADES_NOT_STATED,
        KM_AWAY,
        KM_FROM,
        POLICY_PREFERENCE,
        _grade_met,
        _grades_stated,
        plant_label,
        policy_sub_targets,
    )

    c, b = result.criteria, result.batch
    offers = b.offers[i]
    offered = [code for code, yes in zip(c.required_capabilities, offers, strict=True) if yes]
    out = [
        f"offers {len(offered)} of {len(c.required_capabilities)} required capabilities "
        f"({', '.join(offered)})"
    ]
    out += [f"holds a valid {code} certificate" for code in c.required_certifications]
    if c.grades:
        if not _grades_stated(b)[i]:
            out.append(GRADES_NOT_STATED)
        else:
            notes = b.grade_notes[i] if b.grade_notes is not None else [""] * len(c.grades)
            for requirement, met, note in zip(c.grades, _grade_met(c, b)[i], notes, strict=True):
                if met:
                    out.append(f"offers {note}, compatible with {requirement.code}")
                elif note:
                    out.append(
                        f"offers no grade compatible with {requirement.code}"
                        f" (highest offered: {note})"
                    )
                else:
                    out.append(f"offers no grade compatible with {requirement.code}")
    if c.preferred_certifications:
        held = [
            code
            for code, yes in zip(c.preferred_certifications, b.preferred_held[i], strict=True)
            if yes
        ]
        text = f"holds {len(held)} of {len(c.preferred_certifications)} preferred certifications"
        out.append(f"{text} ({', '.join(held)})" if held else text)
    if c.quantity_base:
        stated = b.capacity_base[i][offers & ~np.isnan(b.capacity_base[i])]
        out.append(
            f"capacity {float(stated.min()):g} per month against {c.quantity_base:g} needed"
            if len(stated)
            else "capacity not stated"
        )
    if c.days_left is not None:
        stated = b.lead_time_days[i][offers & ~np.isnan(b.lead_time_days[i])]
        out.append(
            f"lead time {float(stated.max()):.0f} days, needed in {c.days_left}"
            if len(stated)
            else "lead time not stated"
        )
    if c.latitude is not None and c.longitude is not None:
        name = b.location_names[i] if b.location_names is not None else ""
        distance = float(result.distance_km[i])
        if math.isnan(b.latitude[i]):
            out.append(f"location unknown, {DISTANCE_NEUTRAL}")
        elif b.location_approximate[i]:
            out.append(f"location approximate (state centre), {DISTANCE_NEUTRAL}")
        elif name:
            out.append(f"about {distance:.0f}{KM_FROM}{plant_label(name)}")
        else:
            out.append(f"about {distance:.0f}{KM_AWAY}")
    awards = float(b.past_awards[i])
    if b.recent_deliveries is None:
        if awards:
            out.append(
                f"{float(b.past_successes[i]):.0f} of {awards:.0f} past awards completed well"
            )
    elif int(b.recent_deliveries[i]):
        count = int(b.recent_deliveries[i])
        text = f"{int(b.recent_on_time[i])} of {count} deliveries on time in the last 12 months"
        share = float(b.recent_accepted_share[i])
        if not math.isnan(share):
            text += f", {share:.0%} of the delivered quantity accepted"
        out.append(text)
    elif awards:
        out.append("no deliveries in the last 12 months; older ones weigh less")
    women, sc_st = policy_sub_targets(b)
    for wanted, flag, text in (
        (c.prefer_micro_small, b.micro_small[i], "micro or small enterprise"),
        (c.prefer_women_owned, women[i], "women-owned micro or small enterprise"),
        (c.prefer_sc_st_owned, sc_st[i], "SC/ST-owned micro or small enterprise"),
    ):
        if wanted and flag:
            out.append(text + POLICY_PREFERENCE)
    return out


GRADE_CODES = ("N35", "N42", "N48H", "N52")
explained_candidates = st.tuples(
    candidates,
    st.sampled_from(["", "Hosur", "Pune Unit 2", 'Chennai "Works"\\', "Nāsik plant"]),
    st.lists(st.sampled_from(GRADE_CODES), max_size=2, unique=True),
    st.one_of(st.none(), st.integers(0, 30)),
    st.integers(0, 30),
    st.one_of(st.none(), st.floats(0, 1)),
    # capacities and lead times repeat across candidates, as a registry's do
    st.sampled_from([None, 0.0, -0.0, 1.5, 1.7, 500.0, 2e5]),
).map(
    lambda t: replace(
        t[0],
        location_name=t[1],
        grades=t[2],
        recent_deliveries=t[3],
        recent_on_time=min(t[4], t[3] or 0),
        recent_accepted_share=t[5],
        offers={
            code: offer if t[6] is None else replace(offer, capacity_base=t[6])
            for code, offer in t[0].offers.items()
        },
    )
)


@settings(max_examples=150, deadline=None)
@given(
    criteria_strategy,
    st.lists(st.sampled_from(GRADE_CODES), max_size=2, unique=True),
    st.lists(explained_candidates, max_size=30, unique_by=lambda c: c.supplier_id),
)
def test_reasons_built_a_column_at_a_time_are_each_rows_own(
    base: Criteria, grades: list[str], rows: list[Candidate]
) -> None:
    """Every row's reasons equal the ones worked out for it alone, for any mix of
    requests and candidates (numbers formatted once per distinct value, texts once per
    combination), and the JSON a run stores is json.dumps of exactly those reasons."""
    import json

    from matching.scoring import GradeRequirement, _Reasons

    c = replace(
        base,
        grades=tuple(
            GradeRequirement(code, GRADE_CODES[GRADE_CODES.index(code) :], GRADE_CODES)
            for code in grades
        ),
    )
    result = score(c, batch_from(c, rows))
    every = np.arange(len(rows), dtype=np.intp)
    reasons = _Reasons(result, every)
    texts = reasons.json_rows()
    assert len(texts) == len(rows)
    for i in range(len(rows)):
        expected = _reasons_row_by_row(result, i)
        assert list(reasons.of(i)) == expected
        assert texts[i] == json.dumps(expected)
        assert json.loads(texts[i]) == expected
    # And what a run writes, through explain_rows_json, for the eligible ones in order.
    for index, _, _, _, text in result.explain_rows_json(result.order):
        assert text == json.dumps(_reasons_row_by_row(result, index))


def test_texts_by_value_gives_every_value_its_own_text() -> None:
    """Formatted once per distinct value, told apart by their bits: values that round
    alike, zero and minus zero, and NaN each keep the text formatting them gives."""
    from matching.scoring import _texts_by_value

    values = [1.5, 1.7, -0.0, 0.0, math.nan, 1.5, 2.0000001, 2.0, -math.inf, 1e300]
    texts = _texts_by_value(np.array(values), lambda value: f"{value:g}|{value:.0f}")
    assert texts == [f"{value:g}|{value:.0f}" for value in values]
    assert _texts_by_value(np.array([]), str) == []


# ------------------------------------------------------------------ the public score


def _asked_public(c: Criteria) -> dict[str, bool]:
    """Which factors the supplier's public score counts, told from the criteria alone
    (what the buyer published), independently of the scorer."""
    return {
        "capability_coverage": True,
        "capacity": bool(c.quantity_base and c.quantity_base > 0),
        "lead_time": c.needed_by is not None,
        "distance": False,  # private
        "track_record": True,
        "preferred_certifications": bool(c.preferred_certifications),
        "text_relevance": c.has_text,
        "policy": False,  # private
        "grade_compatibility": bool(c.grades) and not c.grades_required,
    }


@settings(max_examples=150, deadline=None)
@given(
    criteria_strategy,
    st.lists(candidates, min_size=1, max_size=25, unique_by=lambda c: c.supplier_id),
)
def test_the_public_score_is_the_default_weighted_mean_of_what_the_supplier_reads(
    c: Criteria, pool: list[Candidate]
) -> None:
    result = score(c, batch_from(c, pool))
    defaults = Weights()
    counted = [name for name, on in _asked_public(c).items() if on]
    for index in result.order.tolist():
        values = dict(zip(FACTORS, result.values[index], strict=True))
        total = sum(getattr(defaults, name) for name in counted)
        expected = 100 * sum(getattr(defaults, name) * values[name] for name in counted) / total
        assert math.isclose(result.public_scores[index], expected, abs_tol=1e-9)
        assert 0 <= result.public_scores[index] <= 100


@settings(max_examples=150, deadline=None)
@given(
    criteria_strategy,
    st.lists(candidates, min_size=1, max_size=25, unique_by=lambda c: c.supplier_id),
    st.data(),
)
def test_no_private_criterion_moves_the_public_score(
    c: Criteria, pool: list[Candidate], data: st.DataObject
) -> None:
    """The buyer's delivery point, policy preferences and weights, and the supplier's own
    location and ownership (what the private factors read), never move the public score.
    No radius, so that moving a supplier cannot change whether it qualifies."""
    c = replace(c, max_distance_km=None)
    other = replace(
        c,
        latitude=data.draw(st.one_of(st.none(), st.floats(8, 35))),
        longitude=data.draw(st.floats(69, 95)),
        prefer_micro_small=data.draw(st.booleans()),
        prefer_women_owned=data.draw(st.booleans()),
        prefer_sc_st_owned=data.draw(st.booleans()),
        weights=data.draw(criteria_strategy).weights,
    )
    moved = [
        replace(
            candidate,
            latitude=data.draw(st.one_of(st.none(), st.floats(8, 35))),
            longitude=data.draw(st.floats(69, 95)),
            location_approximate=data.draw(st.booleans()),
            enterprise_size=data.draw(st.sampled_from(["micro", "small", "medium"])),
            women_owned=data.draw(st.booleans()),
            sc_st_owned=data.draw(st.booleans()),
        )
        for candidate in pool
    ]

    def public(crit: Criteria, cands: list[Candidate]) -> dict[str, float]:
        result = score(crit, batch_from(crit, cands))
        ids = result.batch.supplier_ids
        return {ids[i]: round(float(result.public_scores[i]), 9) for i in result.order}

    assert public(c, pool) == public(other, moved)


def test_the_whole_score_moves_with_the_delivery_point_the_public_one_does_not() -> None:
    near = Candidate(supplier_id="a", offers={"jet-milling": Offer()}, latitude=PUNE[0],
                     longitude=PUNE[1])  # fmt: skip
    at_pune = criteria(latitude=PUNE[0], longitude=PUNE[1])
    at_delhi = criteria(latitude=28.6, longitude=77.2)
    first, second = (score(c, batch_from(c, [near])) for c in (at_pune, at_delhi))
    assert first.scores[0] > second.scores[0]
    assert first.public_scores[0] == second.public_scores[0]


def test_row_digests_of_two_inputs_changed_together_do_not_cancel_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Folded with multiplications and additions alone, two columns eleven apart scaled
    by 8 and 32 gave one digest (their bit patterns differ only in the exponent): every
    pair of values of two columns, over a grid of powers of two and small integers,
    now has a digest of its own. And a change of this module's text is in every digest."""
    import dataclasses
    import itertools

    import numpy as np

    import matching.scoring as module

    criteria, batch = _digest_batch()
    names = [
        spec.name
        for spec in dataclasses.fields(batch)
        if isinstance(getattr(batch, spec.name), np.ndarray)
        and getattr(batch, spec.name).dtype != bool
        and getattr(batch, spec.name).ndim == 1
    ]
    values = [0.0, 1.0, 2.0, 3.0, 8.0, 32.0, 52.0, 88.0, 500.0, 4000.0]
    for first, second in itertools.pairwise(names):
        seen = set()
        for a, b in itertools.product(values, values):
            changed = {
                first: np.array([a] * 3, dtype=float),
                second: np.array([b] * 3, dtype=float),
            }
            seen.add(int(row_digests(criteria, dataclasses.replace(batch, **changed))[1]))
        assert len(seen) == len(values) ** 2, (first, second)

    base = row_digests(criteria, batch)
    monkeypatch.setattr(module, "SOURCE_FINGERPRINT", "edited")
    assert (row_digests(criteria, batch) != base).all()
