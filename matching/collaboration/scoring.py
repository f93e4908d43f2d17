"""Scoring calls for collaboration: candidates in, ranked and explained matches out. Pure
Python and NumPy, no Django (docs/collaboration.md has every formula and a worked example).

The contract is procurement's (:mod:`matching.scoring`), with the factors of research
partnerships:

1. **Hard constraints** exclude a candidate: not active (suspended, or not yet
   verified); offers none of the call's required R&D capabilities; lacks a required
   facility (each missing facility is one constraint). A candidate excluded by exactly
   one constraint is a **near miss**, reported with it ("no VSM facility").
2. **Soft factors**, each in [0, 1], weighted: capability coverage (share of the
   required capabilities offered), facility coverage (share of the preferred facilities
   held), past collaborations (expressions of interest selected on other calls, with a
   prior as the procurement track record has; a declined one counts for nothing), text
   relevance of the call's topic to the profile, distance to the call's location. A
   factor the call does not ask about (no preferred facility, no text, no location) gets
   weight 0 and the others are renormalised; a candidate without coordinates scores
   distance a neutral 0.5.
3. score = 100 * sum(w_i * v_i) / sum(w_i), rounded to 2 decimals; each factor's
   contribution is its term, rounded to 2 decimals by largest remainder so that the
   contributions add up to the score exactly (:func:`exact_contributions`).
4. Deterministic: by score, ties by supplier id; ``ALGORITHM_VERSION`` names the algorithm.
5. The call's location is the poster's only, so a respondent reads the **public score**
   (:func:`public_score`): the same weighted mean without the distance factor. With the
   whole score, moving its own plant and watching would find the call's location.

The shared pieces (the explanation's :class:`FactorScore`, :class:`Match` and
:class:`NearMiss`, distances, the track-record prior, the neutral value) are
:mod:`matching.scoring`'s own.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields

import numpy as np
import numpy.typing as npt

from matching.scoring import (
    DISTANCE_HALF_LIFE_KM,
    NEUTRAL,
    TRACK_RECORD_PRIOR,
    TRACK_RECORD_PRIOR_WEIGHT,
    FactorScore,
    Match,
    NearMiss,
    haversine_km,
)

# collab-2026.11.2: past collaborations count selections only (declined answers no
# longer lower the factor); contributions are rounded to add up to the score exactly.
ALGORITHM_VERSION = "collab-2026.11.2"
FACTORS = (
    "capability_coverage",
    "facility_coverage",
    "past_collaborations",
    "text_relevance",
    "distance",
)
# Every version ever written, with its factors in the order its explanations list them.
FACTORS_BY_VERSION: dict[str, tuple[str, ...]] = {
    "collab-2026.11.1": FACTORS,
    ALGORITHM_VERSION: FACTORS,
}
COLUMN = {name: j for j, name in enumerate(FACTORS)}
# The poster's only: a respondent's score leaves it out (:func:`public_score`).
PRIVATE_FACTORS = frozenset({"distance"})

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Weights:
    """Relative importance of each factor (normalised; any non-negative set not all zero)."""

    capability_coverage: float = 0.35
    facility_coverage: float = 0.20
    past_collaborations: float = 0.15
    text_relevance: float = 0.20
    distance: float = 0.10

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(not math.isfinite(v) or v < 0 for v in values):
            raise ValueError("weights must be finite and non-negative")
        if not any(values):
            raise ValueError("weights must not all be zero")

    def as_array(self) -> FloatArray:
        return np.array([getattr(self, name) for name in FACTORS], dtype=np.float64)


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class CallCriteria:
    """What a call for collaboration asks for, in plain data (taxonomy codes)."""

    required_capabilities: tuple[str, ...]
    required_facilities: tuple[str, ...] = ()
    preferred_facilities: tuple[str, ...] = ()
    has_text: bool = False
    latitude: float | None = None
    longitude: float | None = None
    weights: Weights = DEFAULT_WEIGHTS

    def __post_init__(self) -> None:
        if not self.required_capabilities:
            raise ValueError("at least one required capability")

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class Candidate:
    """One candidate as plain data (row-shaped; see :func:`batch_from`)."""

    supplier_id: str
    is_active: bool = True
    capabilities: Collection[str] = ()  # every capability code it offers, facilities included
    past_selected: int = 0  # its expressions of interest selected on other calls
    text_relevance: float = 0.0  # share of the call's terms in its profile, in [0, 1]
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class CandidateBatch:
    """Candidates as columns: one row each; a column per required capability or facility."""

    supplier_ids: list[str]
    is_active: BoolArray  # (n,)
    capabilities: BoolArray  # (n, len(required_capabilities))
    facilities: BoolArray  # (n, len(required_facilities))
    preferred: BoolArray  # (n, len(preferred_facilities))
    past_selected: FloatArray  # (n,)
    text_relevance: FloatArray  # (n,)
    latitude: FloatArray  # (n,) NaN when unknown
    longitude: FloatArray  # (n,)

    def __len__(self) -> int:
        return len(self.supplier_ids)


def batch_from(criteria: CallCriteria, candidates: Sequence[Candidate]) -> CandidateBatch:
    def held(codes: tuple[str, ...]) -> BoolArray:
        out = np.zeros((len(candidates), len(codes)), dtype=bool)
        for i, c in enumerate(candidates):
            offered = set(c.capabilities)
            out[i] = [code in offered for code in codes]
        return out

    def floats(values: list[float | None]) -> FloatArray:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    return CandidateBatch(
        supplier_ids=[c.supplier_id for c in candidates],
        is_active=np.array([c.is_active for c in candidates], dtype=bool),
        capabilities=held(criteria.required_capabilities),
        facilities=held(criteria.required_facilities),
        preferred=held(criteria.preferred_facilities),
        past_selected=floats([c.past_selected for c in candidates]),
        text_relevance=floats([c.text_relevance for c in candidates]),
        latitude=floats([c.latitude for c in candidates]),
        longitude=floats([c.longitude for c in candidates]),
    )


def exact_contributions(terms: FloatArray, score: float) -> list[float]:
    """``terms`` (each factor's share of the score, summing to it) rounded to 2 decimals so
    that they add up to ``score`` (itself rounded to 2 decimals) exactly, in hundredths:
    largest remainder. Each term is floored to a hundredth; the hundredths still missing
    go one each to the terms with the largest remainders (ties: the first factor). A term
    of 0 (a factor not asked) stays 0 unless no other term can take a hundredth."""
    cents = terms * 100.0
    floors = np.floor(cents + 1e-9)
    remainders = cents - floors
    missing = round(score * 100) - int(floors.sum())
    order = sorted(range(len(cents)), key=lambda j: (-remainders[j], j))
    if missing >= 0:
        for j in (order * (missing // len(order) + 1))[:missing]:
            floors[j] += 1
    else:  # float noise only: take back from the smallest remainders
        for j in [j for j in reversed(order) if floors[j] > 0][:-missing]:
            floors[j] -= 1
    return [int(c) / 100 for c in floors]


@dataclass
class CallScoringResult:
    """Scores of a batch; :meth:`matches` explains the eligible ones, best first."""

    algorithm_version: str
    criteria: CallCriteria
    batch: CandidateBatch
    weights: FloatArray  # (len(FACTORS),) normalised, 0 for factors not asked
    values: FloatArray  # (n, len(FACTORS))
    scores: FloatArray  # (n,)
    eligible: BoolArray
    order: npt.NDArray[np.intp]
    distance_km: FloatArray
    near_misses: list[NearMiss] = field(default_factory=list)

    @property
    def candidate_count(self) -> int:
        return len(self.batch)

    @property
    def matched_count(self) -> int:
        return len(self.order)

    def matches(self, limit: int | None = None) -> list[Match]:
        chosen = self.order if limit is None else self.order[:limit]
        weights = np.round(self.weights, 4).tolist()
        out = []
        for rank, index in enumerate(chosen.tolist(), start=1):
            values = self.values[index]
            score = round(float(self.scores[index]), 2)
            contributions = exact_contributions(100.0 * self.weights * values, score)
            out.append(
                Match(
                    supplier_id=self.batch.supplier_ids[index],
                    rank=rank,
                    score=score,
                    factors=tuple(
                        FactorScore(name, round(float(values[j]), 4), weights[j], contributions[j])
                        for j, name in enumerate(FACTORS)
                    ),
                    reasons=self._reasons(index),
                )
            )
        return out

    def _reasons(self, i: int) -> tuple[str, ...]:
        c, b = self.criteria, self.batch
        reasons = []
        offered = [code for j, code in enumerate(c.required_capabilities) if b.capabilities[i, j]]
        reasons.append(
            f"offers {len(offered)} of {len(c.required_capabilities)} required capabilities"
            f" ({', '.join(offered)})"
        )
        if c.required_facilities:
            reasons.append(f"has every required facility ({', '.join(c.required_facilities)})")
        if c.preferred_facilities:
            held = [code for j, code in enumerate(c.preferred_facilities) if b.preferred[i, j]]
            reasons.append(
                f"has {len(held)} of {len(c.preferred_facilities)} preferred facilities"
                + (f" ({', '.join(held)})" if held else "")
            )
        selected = int(b.past_selected[i])
        reasons.append(
            f"selected for {selected} past collaboration{'s' if selected > 1 else ''}"
            if selected
            else "no past collaborations on record (scored at the prior)"
        )
        if c.has_location:
            km = self.distance_km[i]
            reasons.append(
                "no coordinates, distance scored neutrally"
                if np.isnan(km)
                else f"{round(float(km))} km away"
            )
        return tuple(reasons)


def score(criteria: CallCriteria, batch: CandidateBatch) -> CallScoringResult:
    n = len(batch)
    # ---------------------------------------------------------- hard constraints
    offers_any = batch.capabilities.any(axis=1)
    missing_facilities = ~batch.facilities  # (n, f)
    violations = (
        (~batch.is_active).astype(np.int64)
        + (~offers_any).astype(np.int64)
        + missing_facilities.sum(axis=1)
    )
    eligible = violations == 0

    # ---------------------------------------------------------- soft factors
    values = np.full((n, len(FACTORS)), NEUTRAL)
    asked = np.ones(len(FACTORS), dtype=bool)
    values[:, COLUMN["capability_coverage"]] = batch.capabilities.mean(axis=1) if n else 0.0
    if criteria.preferred_facilities:
        values[:, COLUMN["facility_coverage"]] = batch.preferred.mean(axis=1) if n else 0.0
    else:
        asked[COLUMN["facility_coverage"]] = False
    values[:, COLUMN["past_collaborations"]] = (
        batch.past_selected + TRACK_RECORD_PRIOR * TRACK_RECORD_PRIOR_WEIGHT
    ) / (batch.past_selected + TRACK_RECORD_PRIOR_WEIGHT)
    if criteria.has_text:
        values[:, COLUMN["text_relevance"]] = np.clip(batch.text_relevance, 0.0, 1.0)
    else:
        asked[COLUMN["text_relevance"]] = False
    if criteria.has_location:
        distance = haversine_km(
            criteria.latitude,  # type: ignore[arg-type]
            criteria.longitude,  # type: ignore[arg-type]
            batch.latitude,
            batch.longitude,
        )
        decay = np.power(0.5, distance / DISTANCE_HALF_LIFE_KM)
        values[:, COLUMN["distance"]] = np.where(np.isnan(distance), NEUTRAL, decay)
    else:
        distance = np.full(n, np.nan)
        asked[COLUMN["distance"]] = False

    weights = normalised(criteria.weights.as_array(), asked)
    scores = 100.0 * (values @ weights)

    # ---------------------------------------------------------- ranking
    eligible_idx = np.flatnonzero(eligible)
    ids = np.asarray(batch.supplier_ids, dtype=object)[eligible_idx].astype(str)
    order = eligible_idx[np.lexsort((ids, -np.round(scores[eligible_idx], 9)))]
    near = [
        _near_miss(criteria, batch, int(i), offers_any, missing_facilities)
        for i in np.flatnonzero(violations == 1)
    ]
    near.sort(key=lambda m: m.supplier_id)
    return CallScoringResult(
        algorithm_version=ALGORITHM_VERSION,
        criteria=criteria,
        batch=batch,
        weights=weights,
        values=values,
        scores=scores,
        eligible=eligible,
        order=order,
        distance_km=distance,
        near_misses=near,
    )


def normalised(raw: FloatArray, asked: BoolArray) -> FloatArray:
    """The weights of the factors asked about, summing to 1 (capability coverage alone
    when only unasked factors were weighted)."""
    weights = raw * asked
    if weights.sum() == 0:
        weights = np.zeros(len(FACTORS))
        weights[COLUMN["capability_coverage"]] = 1.0
    return weights / weights.sum()


def _near_miss(
    criteria: CallCriteria,
    batch: CandidateBatch,
    i: int,
    offers_any: BoolArray,
    missing_facilities: BoolArray,
) -> NearMiss:
    sid = batch.supplier_ids[i]
    if not batch.is_active[i]:
        return NearMiss(sid, "active", "not active (suspended or not yet verified)")
    if not offers_any[i]:
        return NearMiss(
            sid,
            "capability",
            "offers none of the required capabilities "
            f"({', '.join(criteria.required_capabilities)})",
        )
    j = int(np.flatnonzero(missing_facilities[i])[0])
    code = criteria.required_facilities[j]
    return NearMiss(sid, f"facility:{code}", f"lacks the required facility {code}")


def public_score(factors: object) -> float:
    """The score a respondent reads of its match: a stored explanation's (``[{"name",
    "value", "weight", ...}, ...]``) weighted mean without :data:`PRIVATE_FACTORS`, 0 to
    100, rounded to 2 places. A call's weights are the defaults, normalised over the
    factors it asks about, so the rest keep their default ratios; 0 when nothing is left
    or the explanation is in no known shape."""
    if not isinstance(factors, list):
        return 0.0
    total = weighted = 0.0
    for factor in factors:
        if not isinstance(factor, dict):
            return 0.0
        value, weight = factor.get("value"), factor.get("weight")
        if not all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in (value, weight)
        ):
            return 0.0
        if factor.get("name") not in PRIVATE_FACTORS and weight > 0:
            total += weight
            weighted += weight * value
    if total <= 0:
        return 0.0
    return round(min(100.0, max(0.0, 100.0 * weighted / total)), 2)
