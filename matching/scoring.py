"""Scoring: candidates in, ranked and explained matches out. Pure Python and NumPy, no
Django, so the algorithm can be read, tested and profiled on its own.

The contract (docs/matching.md has every formula and a worked example):

1. **Hard constraints** exclude a candidate: not active; offers none of the required
   capabilities; lacks a certificate valid from the run date through the needed-by date
   for a required certification (each missing certification is one constraint; for a
   scoped accreditation the certificate must cover the request, which the loader decides);
   farther than the maximum distance (checked only against exact coordinates; a
   candidate's coordinates are those of its site nearest the delivery point among its
   main location and the plants offering a required capability, chosen by the loader);
   when the request marks its grades required, offers no grade meeting a requested grade
   (each such grade is one constraint). A candidate excluded by exactly one constraint is
   a **near miss**, reported with that constraint (a certificate valid today that expires
   before the needed-by date says so, and so does an accreditation whose scope does not
   cover the request; a missing grade names the supplier's nearest one).
2. **Soft factors**, each a value in [0, 1], weighted: capability coverage, capacity,
   lead time, distance, track record, preferred certifications, text relevance, policy
   preference, grade compatibility. A factor the request does not ask about (no
   quantity, no needed-by date, no location, no grade or only required ones, ...) gets
   weight 0 and the others are renormalised, so every score is on the same 0 to 100
   scale. Supplier-side unknowns (capacity not stated, no coordinates, no grades stated)
   score a neutral 0.5 and the explanation says so.
3. score = 100 * sum(w_i * v_i) / sum(w_i); each factor's contribution is its term of
   that sum, so contributions add up to the score. The **public score**, what the
   matched supplier reads, is the same sum over the factors it may see (not the
   :data:`PRIVATE_FACTORS`) with the default weights: the buyer's delivery point, policy
   preferences and weights never move it (:attr:`ScoringResult.public_scores`).
4. Deterministic: ranking by score, ties by supplier id; ``ALGORITHM_VERSION`` names the
   algorithm.

Candidates are given as a columnar :class:`CandidateBatch` (arrays, one row per
candidate, one column per required capability or certification), which is what makes
scoring 100,000 candidates take milliseconds rather than seconds; :func:`batch_from`
builds one from row-shaped :class:`Candidate` objects for tests and small callers.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ALGORITHM_VERSION = "remag-2026.11.7"

# The factors of the versions before grade compatibility was scored.
FACTORS_BEFORE_GRADES = (
    "capability_coverage",
    "capacity",
    "lead_time",
    "distance",
    "track_record",
    "preferred_certifications",
    "text_relevance",
    "policy",
)
FACTORS = (*FACTORS_BEFORE_GRADES, "grade_compatibility")
# Every algorithm version ever written, with its factors in the order its stored
# explanations list them: a match is read with its own version's names, so a version
# that adds or reorders a factor cannot relabel old matches. Never remove an entry.
FACTORS_BY_VERSION: dict[str, tuple[str, ...]] = {
    "remag-2026.11.1": FACTORS_BEFORE_GRADES,
    # Women-owned and SC/ST-owned policy credit only for micro and small enterprises.
    "remag-2026.11.2": FACTORS_BEFORE_GRADES,
    # A certificate counts only if valid through the needed-by date too.
    "remag-2026.11.3": FACTORS_BEFORE_GRADES,
    # A stale (past financial year) classification counts as unknown for policy.
    "remag-2026.11.4": FACTORS_BEFORE_GRADES,
    # Magnet grades: a hard constraint when required, the grade_compatibility factor
    # otherwise; the other default weights scaled by 0.8 (their ratios kept).
    "remag-2026.11.5": FACTORS,
    # A scoped accreditation (ISO/IEC 17025, ...) counts only if its scope covers the request.
    "remag-2026.11.6": FACTORS,
    # Track record from delivery outcomes (on time, accepted), recency-weighted, instead
    # of the buyer's good/poor outcome (docs/procurement.md).
    ALGORITHM_VERSION: FACTORS,
}
# The column of each factor in the value matrix (the code addresses columns by name).
COLUMN: dict[str, int] = {name: j for j, name in enumerate(FACTORS)}
NEUTRAL = 0.5
DISTANCE_HALF_LIFE_KM = 300.0
TRACK_RECORD_PRIOR = 0.5
TRACK_RECORD_PRIOR_WEIGHT = 3.0  # as if every supplier had 3 past engagements at the prior
DAYS_PER_MONTH = 30.0
EARTH_RADIUS_KM = 6371.0

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Weights:
    """Relative importance of each factor. Defaults sum to 1; any non-negative set that is
    not all zero works (they are normalised). The fields are in :data:`FACTORS` order.

    ``grade_compatibility`` came last (``remag-2026.11.5``) with 0.20, the others scaled by
    0.8 from 0.25, 0.15, 0.15, 0.10, 0.10, 0.10, 0.10, 0.05: a request naming no grade
    (the factor unasked, its weight 0, the others renormalised) scores as before."""

    capability_coverage: float = 0.20
    capacity: float = 0.12
    lead_time: float = 0.12
    distance: float = 0.08
    track_record: float = 0.08
    preferred_certifications: float = 0.08
    text_relevance: float = 0.08
    policy: float = 0.04
    grade_compatibility: float = 0.20

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
class GradeRequirement:
    """A requested magnet grade, with the taxonomy's answer to which grades meet it
    (:mod:`matching.candidates` asks ``suppliers.grades``; this module knows no grade
    rule of its own)."""

    code: str
    meeting: tuple[str, ...]  # the grades that meet it (itself included), least demanding first
    family: tuple[str, ...] = ()  # every grade of its family, least demanding first


@dataclass(frozen=True)
class Criteria:
    """What a procurement request asks for, in plain data."""

    required_capabilities: tuple[str, ...]
    run_date: date
    required_certifications: tuple[str, ...] = ()
    preferred_certifications: tuple[str, ...] = ()
    quantity_base: float | None = None  # in the base unit of quantity_dimension (kg for mass)
    quantity_dimension: str | None = None  # "mass", "pieces", "tests", "hours"
    needed_by: date | None = None
    latitude: float | None = None
    longitude: float | None = None
    max_distance_km: float | None = None
    prefer_micro_small: bool = False
    prefer_women_owned: bool = False
    prefer_sc_st_owned: bool = False
    has_text: bool = False  # the request has a description to compare profiles against
    weights: Weights = DEFAULT_WEIGHTS
    grades: tuple[GradeRequirement, ...] = ()
    grades_required: bool = False  # each grade a hard constraint, not the soft factor

    def __post_init__(self) -> None:
        if not self.required_capabilities:
            raise ValueError("at least one required capability")

    @property
    def days_left(self) -> int | None:
        return None if self.needed_by is None else (self.needed_by - self.run_date).days

    @property
    def policy_asked(self) -> bool:
        return self.prefer_micro_small or self.prefer_women_owned or self.prefer_sc_st_owned


# ------------------------------------------------------------------ candidates


@dataclass(frozen=True)
class Offer:
    """A candidate's offer of one capability; capacity already in the base unit."""

    capacity_base: float | None = None
    dimension: str | None = None
    lead_time_days: int | None = None


@dataclass(frozen=True)
class Candidate:
    """One supplier as plain data (row-shaped; see :func:`batch_from`)."""

    supplier_id: str
    is_active: bool = True
    offers: Mapping[str, Offer] = field(default_factory=dict)
    certificates: Sequence[tuple[str, date, date | None]] = ()  # (code, valid_from, valid_until)
    latitude: float | None = None
    longitude: float | None = None
    location_approximate: bool = False
    location_name: str = ""  # the plant the coordinates are of; "" the main location
    enterprise_size: str = "small"
    women_owned: bool = False
    sc_st_owned: bool = False
    past_awards: float = 0  # engagements (or recency-weighted deliveries) counted
    past_successes: float = 0  # of which went well (same weighting)
    text_relevance: float = 0.0
    grades: Sequence[str] = ()  # grade codes stated with its offers of required capabilities
    # For the explanation: deliveries in the last 12 months, how many on time, and the
    # share of the delivered quantity accepted. None: no delivery history is kept.
    recent_deliveries: int | None = None
    recent_on_time: int = 0
    recent_accepted_share: float | None = None


@dataclass(frozen=True)
class CandidateBatch:
    """Candidates as columns. ``k`` required capabilities, ``r`` required and ``p``
    preferred certifications, in the order the criteria list them."""

    supplier_ids: Sequence[str]  # n
    is_active: BoolArray  # (n,)
    offers: BoolArray  # (n, k) offers required capability j
    capacity_base: FloatArray  # (n, k) NaN when unknown or in another dimension
    lead_time_days: FloatArray  # (n, k) NaN when unknown
    required_held: BoolArray  # (n, r) a certificate valid from the run date through needed-by
    preferred_held: BoolArray  # (n, p) likewise
    latitude: FloatArray  # (n,) NaN when unknown
    longitude: FloatArray  # (n,)
    location_approximate: BoolArray  # (n,)
    micro_small: BoolArray  # (n,) micro or small, by a classification not of a past year
    women_owned: BoolArray  # (n,) at least 51% women-owned, whatever the size
    sc_st_owned: BoolArray  # (n,) at least 51% SC/ST-owned, whatever the size
    past_awards: FloatArray  # (n,)
    past_successes: FloatArray  # (n,)
    text_relevance: FloatArray  # (n,) in [0, 1]
    # (n, r) a certificate valid on the run date, though perhaps not through needed-by:
    # where it differs from required_held the near miss says the certificate expires too
    # soon. None: the same as required_held.
    required_valid_today: BoolArray | None = None
    # (n,) the plant whose coordinates ``latitude``/``longitude`` are (the nearest to the
    # delivery point of those offering a required capability), "" for the supplier's main
    # location. None: every candidate at its main location.
    location_names: Sequence[str] | None = None
    # Magnet grades, ``g`` requested (criteria.grades), from :func:`grade_columns`. None
    # when the request names none.
    grade_met: BoolArray | None = None  # (n, g) offers a grade meeting requested grade j
    grades_stated: BoolArray | None = None  # (n,) states any grade for a required capability
    # (n, g) the least demanding offered grade that meets grade j; failing that, its most
    # demanding offered grade of that family; else "". For the reasons.
    grade_notes: Sequence[Sequence[str]] | None = None
    # (n, r) a certificate valid through needed-by whose accreditation scope covers none of
    # the required capabilities the candidate offers (not counted in required_held): the
    # near miss says so. None: no such certificate.
    required_out_of_scope: BoolArray | None = None
    # (n, r) among those, one whose scope is empty (not stated): the near miss asks for it.
    required_scope_unstated: BoolArray | None = None
    # (n,) each, for the track record's explanation: deliveries in the last 12 months,
    # those on time, and the share of the delivered quantity accepted (NaN without
    # deliveries). None: the track record counts engagements, not deliveries.
    recent_deliveries: FloatArray | None = None
    recent_on_time: FloatArray | None = None
    recent_accepted_share: FloatArray | None = None

    def __len__(self) -> int:
        return len(self.supplier_ids)


def grade_columns(
    requirements: Sequence[GradeRequirement], offered: Sequence[Collection[str]]
) -> tuple[BoolArray, BoolArray, list[list[str]]]:
    """``(grade_met, grades_stated, grade_notes)`` of a batch from each candidate's offered
    grade codes: one column per requirement. Candidates stating no grade cost nothing."""
    n, g = len(offered), len(requirements)
    met = np.zeros((n, g), dtype=bool)
    stated = np.fromiter((bool(codes) for codes in offered), dtype=bool, count=n)
    notes = [[""] * g for _ in range(n)]
    ranks = [
        (
            {code: r for r, code in enumerate(req.meeting)},
            {code: r for r, code in enumerate(req.family)},
        )
        for req in requirements
    ]
    for i in np.flatnonzero(stated).tolist():
        codes = offered[i]
        for j, (meeting, family) in enumerate(ranks):
            best = min((meeting[c] for c in codes if c in meeting), default=None)
            if best is not None:
                met[i, j] = True
                notes[i][j] = requirements[j].meeting[best]
                continue
            top = max((family[c] for c in codes if c in family), default=None)
            if top is not None:
                notes[i][j] = requirements[j].family[top]
    return met, stated, notes


def certificate_counts(
    valid_from: date, valid_until: date | None, *, day: date, through: date | None = None
) -> bool:
    """``suppliers.models.SupplierCertificate.is_valid_on`` over plain dates (this module
    imports nothing of the project; tests/suppliers/test_certificates.py holds the two to
    agreement): valid on ``day`` and every day through ``through`` (the needed-by date).
    No end date (an open-ended self-declaration) never expires."""
    last_day_needed = day if through is None else max(day, through)
    return valid_from <= day and (valid_until is None or last_day_needed <= valid_until)


def batch_from(criteria: Criteria, candidates: Sequence[Candidate]) -> CandidateBatch:
    n, day = len(candidates), criteria.run_date
    caps, required, preferred = (
        criteria.required_capabilities,
        criteria.required_certifications,
        criteria.preferred_certifications,
    )

    def held(
        candidate: Candidate, codes: tuple[str, ...], through: date | None = criteria.needed_by
    ) -> list[bool]:
        valid = {
            code
            for code, start, end in candidate.certificates
            if certificate_counts(start, end, day=day, through=through)
        }
        return [code in valid for code in codes]

    def capacity(offer: Offer | None) -> float:
        if offer is None or offer.capacity_base is None:
            return math.nan
        if criteria.quantity_dimension and offer.dimension != criteria.quantity_dimension:
            return math.nan
        return float(offer.capacity_base)

    def lead(offer: Offer | None) -> float:
        return math.nan if offer is None or offer.lead_time_days is None else offer.lead_time_days

    def nan(value: float | None) -> float:
        return math.nan if value is None else float(value)

    grade_met, grades_stated, grade_notes = grade_columns(
        criteria.grades, [frozenset(c.grades) for c in candidates]
    )
    return CandidateBatch(
        supplier_ids=[c.supplier_id for c in candidates],
        is_active=np.array([c.is_active for c in candidates], dtype=bool),
        offers=np.array(
            [[code in c.offers for code in caps] for c in candidates], dtype=bool
        ).reshape(n, len(caps)),
        capacity_base=np.array(
            [[capacity(c.offers.get(code)) for code in caps] for c in candidates]
        ).reshape(n, len(caps)),
        lead_time_days=np.array(
            [[lead(c.offers.get(code)) for code in caps] for c in candidates]
        ).reshape(n, len(caps)),
        required_held=np.array([held(c, required) for c in candidates], dtype=bool).reshape(
            n, len(required)
        ),
        preferred_held=np.array([held(c, preferred) for c in candidates], dtype=bool).reshape(
            n, len(preferred)
        ),
        required_valid_today=np.array(
            [held(c, required, through=None) for c in candidates], dtype=bool
        ).reshape(n, len(required)),
        latitude=np.array([nan(c.latitude) for c in candidates], dtype=np.float64),
        longitude=np.array([nan(c.longitude) for c in candidates], dtype=np.float64),
        location_approximate=np.array([c.location_approximate for c in candidates], dtype=bool),
        micro_small=np.array(
            [c.enterprise_size in ("micro", "small") for c in candidates], dtype=bool
        ),
        women_owned=np.array([c.women_owned for c in candidates], dtype=bool),
        sc_st_owned=np.array([c.sc_st_owned for c in candidates], dtype=bool),
        past_awards=np.array([c.past_awards for c in candidates], dtype=np.float64),
        past_successes=np.array([c.past_successes for c in candidates], dtype=np.float64),
        text_relevance=np.clip(
            np.array([c.text_relevance for c in candidates], dtype=np.float64), 0, 1
        ),
        location_names=[c.location_name for c in candidates],
        grade_met=grade_met,
        grades_stated=grades_stated,
        grade_notes=grade_notes,
        **_delivery_columns(candidates),
    )


def _delivery_columns(candidates: Sequence[Candidate]) -> dict[str, FloatArray | None]:
    if all(c.recent_deliveries is None for c in candidates):
        return {}
    return {
        "recent_deliveries": np.array(
            [c.recent_deliveries or 0 for c in candidates], dtype=np.float64
        ),
        "recent_on_time": np.array([c.recent_on_time for c in candidates], dtype=np.float64),
        "recent_accepted_share": np.array(
            [math.nan if c.recent_accepted_share is None else c.recent_accepted_share
             for c in candidates],
            dtype=np.float64,
        ),
    }  # fmt: skip


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class FactorScore:
    name: str
    value: float  # in [0, 1]
    weight: float  # normalised: the weights of a run sum to 1
    contribution: float  # points of the 0-100 score


@dataclass(frozen=True)
class Match:
    supplier_id: str
    rank: int
    score: float
    factors: tuple[FactorScore, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class NearMiss:
    supplier_id: str
    constraint: str  # "active", "capability", "certification:<code>", "distance", "grade:<code>"
    reason: str


@dataclass
class ScoringResult:
    """Scores for a batch. Arrays hold every candidate; :meth:`matches` materialises the
    ranked, explained matches (all of them, or the best ``limit``)."""

    algorithm_version: str
    criteria: Criteria
    batch: CandidateBatch
    weights: FloatArray  # (len(FACTORS),) normalised, 0 for factors not asked
    values: FloatArray  # (n, len(FACTORS))
    scores: FloatArray  # (n,)
    # (n,) what the matched supplier reads as its score: :func:`public_weights`.
    public_scores: FloatArray
    eligible: BoolArray  # (n,)
    order: npt.NDArray[np.intp]  # eligible candidate indices, best first
    distance_km: FloatArray  # (n,)
    near_misses: list[NearMiss]

    @property
    def candidate_count(self) -> int:
        return len(self.batch)

    @property
    def matched_count(self) -> int:
        return len(self.order)

    def matches(self, limit: int | None = None) -> list[Match]:
        """The eligible candidates, best first, explained (all of them, or ``limit``)."""
        chosen = self.order if limit is None else self.order[:limit]
        return self.explain(chosen, first_rank=1)

    def match(self, index: int, rank: int = 0) -> Match:
        """The explained match of candidate ``index`` (a row of the batch)."""
        return self.explain(np.array([index], dtype=np.intp), first_rank=rank)[0]

    def explain(self, indices: npt.NDArray[np.intp], *, first_rank: int = 1) -> list[Match]:
        """Explanations for the candidates at ``indices``, ranked from ``first_rank``."""
        weights = self.rounded_weights()
        ids = self.batch.supplier_ids
        return [
            Match(
                supplier_id=ids[index],
                rank=first_rank + n,
                score=score,
                factors=tuple(
                    FactorScore(name, values[j], weights[j], contributions[j])
                    for j, name in enumerate(FACTORS)
                ),
                reasons=reasons,
            )
            for n, (index, score, values, contributions, reasons) in enumerate(
                self.explain_rows(indices)
            )
        ]

    def rounded_weights(self) -> list[float]:
        return np.round(self.weights, 4).tolist()

    def explain_rows(
        self, indices: npt.NDArray[np.intp]
    ) -> Iterator[tuple[int, float, list[float], list[float], tuple[str, ...]]]:
        """``(index, score, values, contributions, reasons)`` per candidate, as plain Python
        (the weights are :meth:`rounded_weights`, the same for every row).

        Every array is sliced and turned into lists once, so explaining tens of thousands
        of matches costs microseconds each instead of a NumPy scalar operation per number.
        Values are rounded to 4 places, contributions and scores to 2.
        """
        sel = np.asarray(indices, dtype=np.intp)
        scores, value_rows, contribution_rows = self._rounded(sel)
        reasons = _Reasons(self, sel)
        for n, index in enumerate(sel.tolist()):
            yield index, scores[n], value_rows[n], contribution_rows[n], reasons.of(n)

    def explain_rows_json(
        self, indices: npt.NDArray[np.intp]
    ) -> Iterator[tuple[int, float, list[float], list[float], str]]:
        """As :meth:`explain_rows`, with each row's reasons as the text of a JSON array
        (what a run stores), encoded for all the rows at once."""
        sel = np.asarray(indices, dtype=np.intp)
        scores, value_rows, contribution_rows = self._rounded(sel)
        reasons = _Reasons(self, sel).json_rows()
        return zip(sel.tolist(), scores, value_rows, contribution_rows, reasons, strict=True)

    def _rounded(
        self, sel: npt.NDArray[np.intp]
    ) -> tuple[list[float], list[list[float]], list[list[float]]]:
        """Scores, factor values and contributions of the rows ``sel``, rounded as shown."""
        values = self.values[sel]
        return (
            np.round(self.scores[sel], 2).tolist(),
            np.round(values, 4).tolist(),
            np.round(100.0 * self.weights * values, 2).tolist(),
        )


# ------------------------------------------------------------------ scoring


def haversine_km(lat1: float, lon1: float, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Great-circle distances in km from one point to arrays of points (NaN stays NaN)."""
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - math.radians(lon1)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _nanmin_rows(matrix: FloatArray, mask: BoolArray) -> FloatArray:
    masked = np.where(mask & ~np.isnan(matrix), matrix, np.inf)
    out = masked.min(axis=1) if matrix.shape[1] else np.full(matrix.shape[0], np.inf)
    return np.where(np.isinf(out), np.nan, out)


def _nanmax_rows(matrix: FloatArray, mask: BoolArray) -> FloatArray:
    masked = np.where(mask & ~np.isnan(matrix), matrix, -np.inf)
    out = masked.max(axis=1) if matrix.shape[1] else np.full(matrix.shape[0], -np.inf)
    return np.where(np.isinf(out), np.nan, out)


def score(criteria: Criteria, batch: CandidateBatch) -> ScoringResult:
    n = len(batch)
    k = len(criteria.required_capabilities)
    days_left = criteria.days_left
    has_location = criteria.latitude is not None and criteria.longitude is not None

    # ---------------------------------------------------------- hard constraints
    offers_any = batch.offers.any(axis=1) if k else np.zeros(n, dtype=bool)
    exact_location = ~np.isnan(batch.latitude) & ~batch.location_approximate
    if has_location:
        distance = haversine_km(
            criteria.latitude, criteria.longitude, batch.latitude, batch.longitude
        )  # type: ignore[arg-type]
    else:
        distance = np.full(n, np.nan)
    too_far = np.zeros(n, dtype=bool)
    if has_location and criteria.max_distance_km is not None:
        too_far = exact_location & (distance > criteria.max_distance_km)
    missing_certs = ~batch.required_held  # (n, r)
    grade_met = _grade_met(criteria, batch)  # (n, g)
    violations = (
        (~batch.is_active).astype(np.int64)
        + (~offers_any).astype(np.int64)
        + missing_certs.sum(axis=1)
        + too_far.astype(np.int64)
    )
    if criteria.grades_required:
        violations = violations + (~grade_met).sum(axis=1)
    eligible = violations == 0

    # ---------------------------------------------------------- soft factors
    values = np.full((n, len(FACTORS)), NEUTRAL)
    asked = np.ones(len(FACTORS), dtype=bool)

    values[:, COLUMN["capability_coverage"]] = batch.offers.sum(axis=1) / k

    if criteria.quantity_base and criteria.quantity_base > 0:
        months = max(1.0, (days_left or DAYS_PER_MONTH) / DAYS_PER_MONTH)
        bottleneck = _nanmin_rows(batch.capacity_base, batch.offers)
        ratio = np.minimum(1.0, bottleneck * months / criteria.quantity_base)
        values[:, COLUMN["capacity"]] = np.where(np.isnan(ratio), NEUTRAL, ratio)
    else:
        asked[COLUMN["capacity"]] = False

    if days_left is not None:
        slowest = _nanmax_rows(batch.lead_time_days, batch.offers)
        slack = days_left - slowest
        lead = np.where(slack >= 0, 1.0, np.maximum(0.0, 1.0 + slack / max(days_left, 7)))
        values[:, COLUMN["lead_time"]] = np.where(np.isnan(slowest), NEUTRAL, lead)
    else:
        asked[COLUMN["lead_time"]] = False

    if has_location:
        decay = np.power(0.5, distance / DISTANCE_HALF_LIFE_KM)
        values[:, COLUMN["distance"]] = np.where(
            exact_location & ~np.isnan(distance), decay, NEUTRAL
        )
    else:
        asked[COLUMN["distance"]] = False

    values[:, COLUMN["track_record"]] = (
        batch.past_successes + TRACK_RECORD_PRIOR * TRACK_RECORD_PRIOR_WEIGHT
    ) / (batch.past_awards + TRACK_RECORD_PRIOR_WEIGHT)

    if criteria.preferred_certifications:
        values[:, COLUMN["preferred_certifications"]] = batch.preferred_held.mean(axis=1)
    else:
        asked[COLUMN["preferred_certifications"]] = False

    if criteria.has_text:
        values[:, COLUMN["text_relevance"]] = np.clip(batch.text_relevance, 0.0, 1.0)
    else:
        asked[COLUMN["text_relevance"]] = False

    if criteria.policy_asked:
        women, sc_st = policy_sub_targets(batch)
        wanted = [
            flag
            for flag, on in (
                (batch.micro_small, criteria.prefer_micro_small),
                (women, criteria.prefer_women_owned),
                (sc_st, criteria.prefer_sc_st_owned),
            )
            if on
        ]
        values[:, COLUMN["policy"]] = np.mean(np.stack(wanted, axis=1), axis=1)
    else:
        asked[COLUMN["policy"]] = False

    # Required grades are a hard constraint (every eligible candidate meets them all), so
    # the factor ranks only by grades the buyer asked for without requiring them.
    if criteria.grades and not criteria.grades_required:
        stated = _grades_stated(batch)
        values[:, COLUMN["grade_compatibility"]] = np.where(stated, grade_met.mean(axis=1), NEUTRAL)
    else:
        asked[COLUMN["grade_compatibility"]] = False

    raw = criteria.weights.as_array() * asked
    if raw.sum() == 0:  # only unasked factors were weighted: fall back to coverage
        raw = np.zeros(len(FACTORS))
        raw[COLUMN["capability_coverage"]] = 1.0
    weights = raw / raw.sum()
    scores = 100.0 * (values @ weights)
    public_scores = 100.0 * (values @ public_weights(asked))

    # ---------------------------------------------------------- ranking
    eligible_idx = np.flatnonzero(eligible)
    ids = np.asarray(batch.supplier_ids, dtype=object)[eligible_idx].astype(str)
    order = eligible_idx[np.lexsort((ids, -np.round(scores[eligible_idx], 9)))]

    near = np.flatnonzero(violations == 1)
    near_misses = _near_misses(criteria, batch, near, too_far, distance)
    near_misses.sort(key=lambda m: m.supplier_id)

    return ScoringResult(
        algorithm_version=ALGORITHM_VERSION,
        criteria=criteria,
        batch=batch,
        weights=weights,
        values=values,
        scores=scores,
        public_scores=public_scores,
        eligible=eligible,
        order=order,
        distance_km=distance,
        near_misses=near_misses,
    )


def _grade_met(criteria: Criteria, batch: CandidateBatch) -> BoolArray:
    n, g = len(batch), len(criteria.grades)
    if batch.grade_met is None:
        return np.zeros((n, g), dtype=bool)
    return batch.grade_met


def _grades_stated(batch: CandidateBatch) -> BoolArray:
    if batch.grades_stated is None:
        return np.zeros(len(batch), dtype=bool)
    return batch.grades_stated


def _grade_note(batch: CandidateBatch, i: int, j: int) -> str:
    return batch.grade_notes[i][j] if batch.grade_notes is not None else ""


def policy_sub_targets(batch: CandidateBatch) -> tuple[BoolArray, BoolArray]:
    """Who counts towards the women-owned (3%) and SC/ST-owned (4%) sub-targets of the
    Public Procurement Policy for Micro and Small Enterprises: the 25% target and both
    sub-targets are shares of purchases from micro and small enterprises, so a medium
    enterprise earns no credit however it is owned (docs/matching.md)."""
    return batch.women_owned & batch.micro_small, batch.sc_st_owned & batch.micro_small


def _near_misses(
    criteria: Criteria,
    batch: CandidateBatch,
    near: npt.NDArray[np.intp],
    too_far: BoolArray,
    distance: FloatArray,
) -> list[NearMiss]:
    """:func:`_near_miss` of each candidate at ``near`` (each violates exactly one hard
    constraint), with the tests that decide which made for all of them at once: a
    request's near misses can be thousands, and indexing the arrays row by row cost
    about 2 us each (9 of the 11 ms of scoring 7,638 candidates). Rows too far, missing
    a grade, or missing a certificate whose reason needs more (expiring, scope) take
    :func:`_near_miss`'s own path. tests/matching/test_scoring.py holds the two equal."""
    if not len(near):
        return []
    ids = [batch.supplier_ids[i] for i in near.tolist()]
    inactive = (~batch.is_active[near]).tolist()
    no_offer = (~batch.offers[near].any(axis=1)).tolist()
    far = too_far[near].tolist()
    grades_unmet = (
        (~_grade_met(criteria, batch)[near]).any(axis=1).tolist()
        if criteria.grades_required
        else [False] * len(near)
    )
    r = len(criteria.required_certifications)
    if r:
        unheld = ~batch.required_held[near]
        first = np.argmax(unheld, axis=1)
        rows = np.arange(len(near))
        plain = unheld[rows, first]  # an unheld certificate (else another constraint)
        for extra in (
            batch.required_valid_today,
            batch.required_scope_unstated,
            batch.required_out_of_scope,
        ):
            if extra is not None:
                plain &= ~extra[near, first]
        first_list, plain_list = first.tolist(), plain.tolist()
    else:
        first_list = plain_list = [0] * len(near)
    reasons = {
        code: (f"certification:{code}", f"needs a valid {code} certificate")
        for code in criteria.required_certifications
    }
    out: list[NearMiss] = []
    for k, i in enumerate(near.tolist()):
        if inactive[k]:
            out.append(NearMiss(ids[k], "active", "the profile is not active"))
        elif no_offer[k]:
            out.append(NearMiss(ids[k], "capability", "offers none of the required capabilities"))
        elif not far[k] and not grades_unmet[k] and r and plain_list[k]:
            out.append(NearMiss(ids[k], *reasons[criteria.required_certifications[first_list[k]]]))
        else:
            out.append(_near_miss(criteria, batch, i, too_far, distance))
    return out


def _near_miss(
    criteria: Criteria, batch: CandidateBatch, i: int, too_far: BoolArray, distance: FloatArray
) -> NearMiss:
    supplier_id = batch.supplier_ids[i]
    if not batch.is_active[i]:
        return NearMiss(supplier_id, "active", "the profile is not active")
    if not batch.offers[i].any():
        return NearMiss(supplier_id, "capability", "offers none of the required capabilities")
    if too_far[i]:
        return NearMiss(
            supplier_id,
            "distance",
            f"{distance[i]:.0f}{KM_AWAY}, beyond the {criteria.max_distance_km:.0f} km limit",
        )
    if criteria.grades_required:
        unmet = np.flatnonzero(~_grade_met(criteria, batch)[i])
        if unmet.size:
            j = int(unmet[0])
            code = criteria.grades[j].code
            if not _grades_stated(batch)[i]:
                reason = f"states no magnet grades; needs one compatible with {code}"
            elif note := _grade_note(batch, i, j):
                reason = f"offers no grade compatible with {code} (highest offered: {note})"
            else:
                reason = f"offers no grade compatible with {code}"
            return NearMiss(supplier_id, f"grade:{code}", reason)
    j = int(np.flatnonzero(~batch.required_held[i])[0])
    code = criteria.required_certifications[j]
    today = batch.required_valid_today
    if today is not None and today[i, j] and criteria.needed_by is not None:
        return NearMiss(
            supplier_id,
            f"certification:{code}",
            f"its {code} certificate expires before the needed-by date "
            f"({criteria.needed_by.isoformat()})",
        )
    unstated = batch.required_scope_unstated
    if unstated is not None and unstated[i, j]:
        return NearMiss(
            supplier_id,
            f"certification:{code}",
            f"its {code} certificate states no scope; list the capabilities it accredits",
        )
    out_of_scope = batch.required_out_of_scope
    if out_of_scope is not None and out_of_scope[i, j]:
        offered = [
            c for c, yes in zip(criteria.required_capabilities, batch.offers[i], strict=True) if yes
        ]
        return NearMiss(
            supplier_id,
            f"certification:{code}",
            f"its {code} scope does not cover {', '.join(offered)}",
        )
    return NearMiss(supplier_id, f"certification:{code}", f"needs a valid {code} certificate")


def _offered_texts(capabilities: Sequence[str], offers: BoolArray) -> list[str]:
    """Per row of ``offers``, "offers i of k required capabilities (a, b)": formatted once
    per distinct combination offered (a request has few, its candidates many)."""
    if not len(offers):
        return []
    # Each row's combination as a key of 64-bit words (its bits packed), so finding the
    # distinct ones sorts numbers, not rows of booleans: with 26 capabilities, np.unique
    # over the rows took a fifth of explaining 35,000 matches.
    packed = np.packbits(offers, axis=1)
    words = np.zeros((len(offers), -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
    words[:, : packed.shape[1]] = packed
    keys = words.view(np.uint64)
    if keys.shape[1] == 1:
        _, first, row_combination = np.unique(keys[:, 0], return_index=True, return_inverse=True)
    else:
        _, first, row_combination = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    combinations = offers[first]
    texts = []
    for combination in combinations.tolist():
        offered = [code for code, yes in zip(capabilities, combination, strict=True) if yes]
        texts.append(
            f"offers {len(offered)} of {len(capabilities)} required capabilities "
            f"({', '.join(offered)})"
        )
    return [texts[c] for c in np.asarray(row_combination).reshape(-1).tolist()]


def _texts_by_value(values: FloatArray, text: Callable[[float], str]) -> list[str]:
    """``text(value)`` for each of ``values``, called once per distinct value: distinct by
    their bits, so every value, -0.0 and NaN included, gets exactly its own text."""
    if not len(values):
        return []
    values = np.ascontiguousarray(values, dtype=np.float64)
    _, first, inverse = np.unique(values.view(np.int64), return_index=True, return_inverse=True)
    texts = np.array([text(value) for value in values[first].tolist()], dtype=object)
    return texts[np.asarray(inverse).reshape(-1)].tolist()  # type: ignore[no-any-return]


def _json_column(column: Sequence[str | None]) -> list[str]:
    """Each reason of a column as a JSON string ("" where a row has none), encoding each
    distinct reason once (most columns hold a handful of distinct texts)."""
    encoded: dict[str | None, str] = {None: ""}
    encode = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
    encoded.update((text, encode(text)) for text in set(column) if text is not None)
    return list(map(encoded.__getitem__, column))


class _Reasons:
    """Plain-language reasons for a slice of candidates, built a column at a time.

    Each column is one kind of reason, in the order a match lists them, with one entry per
    row of the slice: its text, or None where that row has no such reason. Texts that
    depend on a number are formatted once per distinct number, texts that depend on a
    combination once per combination, so explaining tens of thousands of matches costs
    list operations, not a branch-laden method call per row. :meth:`of` reads one row;
    :meth:`json_rows` encodes every row's reasons as a JSON array at once (a run's write).
    """

    def __init__(self, result: ScoringResult, sel: npt.NDArray[np.intp]) -> None:
        criteria, batch = result.criteria, result.batch
        rows = len(sel)
        offers = batch.offers[sel]
        columns: list[list[str | None]] = [
            list(_offered_texts(criteria.required_capabilities, offers))
        ]
        columns += [
            [f"holds a valid {code} certificate"] * rows
            for code in criteria.required_certifications
        ]
        columns += _grade_columns(criteria, batch, sel)
        if criteria.preferred_certifications:
            columns.append(_preferred_column(criteria, batch.preferred_held[sel]))
        if criteria.quantity_base:
            needed = f" per month against {criteria.quantity_base:g} needed"
            columns.append(
                _texts_by_value(
                    _nanmin_rows(batch.capacity_base[sel], offers),
                    lambda capacity: (
                        "capacity not stated"
                        if math.isnan(capacity)
                        else f"capacity {capacity:g}{needed}"
                    ),
                )
            )
        if criteria.days_left is not None:
            days_left = criteria.days_left
            columns.append(
                _texts_by_value(
                    _nanmax_rows(batch.lead_time_days[sel], offers),
                    lambda lead: (
                        "lead time not stated"
                        if math.isnan(lead)
                        else f"lead time {lead:.0f} days, needed in {days_left}"
                    ),
                )
            )
        if criteria.latitude is not None and criteria.longitude is not None:
            columns.append(_location_column(result, sel))
        columns.append(_track_record_column(batch, sel))
        women, sc_st = policy_sub_targets(batch)
        for wanted, flags, text in (
            (criteria.prefer_micro_small, batch.micro_small, "micro or small enterprise"),
            (criteria.prefer_women_owned, women, "women-owned micro or small enterprise"),
            (criteria.prefer_sc_st_owned, sc_st, "SC/ST-owned micro or small enterprise"),
        ):
            if wanted:
                reason = text + POLICY_PREFERENCE
                columns.append([reason if flag else None for flag in flags[sel].tolist()])
        self.columns = columns

    def of(self, n: int) -> tuple[str, ...]:
        """Row ``n``'s reasons, in order."""
        return tuple(text for column in self.columns if (text := column[n]) is not None)

    def json_rows(self) -> list[str]:
        """Every row's reasons as the text of a JSON array, as ``json.dumps`` writes the
        list of :meth:`of` (ASCII, ", " between items)."""
        encoded = [_json_column(column) for column in self.columns]
        return ["[" + ", ".join(filter(None, row)) + "]" for row in zip(*encoded, strict=True)]


def _grade_columns(
    criteria: Criteria, batch: CandidateBatch, sel: npt.NDArray[np.intp]
) -> list[list[str | None]]:
    """A column per required grade: whether the row offers a compatible grade; a row that
    states no grades has the one "not stated" reason, in the first column."""
    grades = criteria.grades
    if not grades:
        return []
    stated = _grades_stated(batch)[sel].tolist()
    met = _grade_met(criteria, batch)[sel].tolist()
    notes = batch.grade_notes
    row_notes = (
        [notes[i] for i in sel.tolist()] if notes is not None else [[""] * len(grades)] * len(sel)
    )
    columns: list[list[str | None]] = []
    for k, requirement in enumerate(grades):
        code = requirement.code
        first = GRADES_NOT_STATED if k == 0 else None
        column: list[str | None] = []
        for row_stated, row_met, row_note in zip(stated, met, row_notes, strict=True):
            note = row_note[k]
            if not row_stated:
                column.append(first)
            elif row_met[k]:
                column.append(f"offers {note}, compatible with {code}")
            elif note:
                column.append(f"offers no grade compatible with {code} (highest offered: {note})")
            else:
                column.append(f"offers no grade compatible with {code}")
        columns.append(column)
    return columns


def _preferred_column(criteria: Criteria, held: BoolArray) -> list[str | None]:
    """ "holds i of k preferred certifications (a, b)", formatted once per combination."""
    preferred = criteria.preferred_certifications
    texts: dict[tuple[bool, ...], str] = {}
    for combination in set(map(tuple, held.tolist())):
        codes = [code for code, yes in zip(preferred, combination, strict=True) if yes]
        text = f"holds {len(codes)} of {len(preferred)} preferred certifications"
        texts[combination] = f"{text} ({', '.join(codes)})" if codes else text
    return [texts[combination] for combination in map(tuple, held.tolist())]


def _location_column(result: ScoringResult, sel: npt.NDArray[np.intp]) -> list[str | None]:
    """Where the row is, for a request with a delivery point."""
    batch = result.batch
    kilometres = _texts_by_value(result.distance_km[sel], lambda distance: f"{distance:.0f}")
    names = batch.location_names
    named = [names[i] for i in sel.tolist()] if names is not None else [None] * len(sel)
    unknown = f"location unknown, {DISTANCE_NEUTRAL}"
    approximate = f"location approximate (state centre), {DISTANCE_NEUTRAL}"
    return [
        unknown
        if missing
        else approximate
        if rough
        else f"about {km}{KM_FROM}{plant_label(name)}"
        if name
        else f"about {km}{KM_AWAY}"
        for missing, rough, km, name in zip(
            np.isnan(batch.latitude[sel]).tolist(),
            batch.location_approximate[sel].tolist(),
            kilometres,
            named,
            strict=True,
        )
    ]


def _track_record_column(batch: CandidateBatch, sel: npt.NDArray[np.intp]) -> list[str | None]:
    """The supplier's record: its recent deliveries (with the buyer's delivery records),
    else its past awards with the buyer and how they ended."""
    awards = batch.past_awards[sel].tolist()
    if batch.recent_deliveries is None:  # engagements with the buyer's good/poor outcome
        successes = batch.past_successes[sel].tolist()
        return [
            f"{done:.0f} of {awarded:.0f} past awards completed well" if awarded else None
            for awarded, done in zip(awards, successes, strict=True)
        ]
    on_time = batch.recent_on_time[sel].tolist()  # type: ignore[index]
    accepted = batch.recent_accepted_share[sel].tolist()  # type: ignore[index]
    column: list[str | None] = []
    for count, timely, share, awarded in zip(
        (int(delivered) for delivered in batch.recent_deliveries[sel].tolist()),
        on_time,
        accepted,
        awards,
        strict=True,
    ):
        if count:
            text = f"{int(timely)} of {count} deliveries on time in the last 12 months"
            if not math.isnan(share):
                text += f", {share:.0%} of the delivered quantity accepted"
            column.append(text)
        elif awarded:
            column.append("no deliveries in the last 12 months; older ones weigh less")
        else:
            column.append(None)
    return column


# ------------------------------------------------------------------ digests

_DIGEST_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(1))
# What the digests' seeds fold in besides the version: this module's own text, so that
# any change of how a score or an explanation is computed (a constant, a reason's
# wording, the rounding) rewrites each match once on its next run, whether or not the
# version was raised. Empty where the source is not shipped (the version still counts).
try:
    SOURCE_FINGERPRINT = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=16).hexdigest()
except OSError:  # pragma: no cover (a build without sources)
    SOURCE_FINGERPRINT = ""


def _mixed(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finalizer: a bijection of 64-bit words in which every output bit
    depends on every input bit. Folded with multiplications and additions alone, the
    steps added up linearly, and two inputs changed together could cancel out (a maker's
    record of 1 supply, 0 good, and of 88, 52, had one digest)."""
    h = (h ^ (h >> _SHIFTS[0])) * _MIX_1
    h = (h ^ (h >> _SHIFTS[1])) * _MIX_2
    return h ^ (h >> _SHIFTS[2])


def fold_digests(seed: str, columns: Iterable[Any], n: int) -> npt.NDArray[np.int64]:
    """A 63-bit digest per row of ``seed`` and the rows of ``columns`` (each a number, or
    several, per row; None for a column absent altogether): ``h = mix(h * M + bits)``
    per number, ``M`` odd and ``mix`` a bijection, so a change in any single number of
    a row always changes its digest (NaN and -0.0 are normalised first), and changes in
    several are as unlikely to cancel as any two random digests are to meet."""
    start = hashlib.blake2b(seed.encode(), digest_size=8).digest()
    h = np.full(n, int.from_bytes(start, "little"), dtype=np.uint64)
    for column in columns:
        if column is None:
            h = _mixed(h * _DIGEST_MULTIPLIER + np.uint64(1))
            continue
        numbers = np.asarray(column, dtype=np.float64).reshape(n, -1) + 0.0  # -0.0 -> 0.0
        numbers = np.where(np.isnan(numbers), np.nan, numbers)  # one NaN bit pattern
        bits = numbers.view(np.uint64)
        for j in range(bits.shape[1]):
            h = _mixed(h * _DIGEST_MULTIPLIER + bits[:, j])
        h = _mixed(h * _DIGEST_MULTIPLIER + np.uint64(bits.shape[1]))
    return (h >> _SHIFTS[3]).astype(np.int64)


def _text_crcs(texts: Sequence[object], n: int) -> npt.NDArray[np.float64]:
    """The CRC-32 of each text (of ``str(text)``; 0 for an empty one, as
    ``zlib.crc32(b"")`` is), each distinct text hashed once: most candidates' texts are
    empty or shared."""
    crcs: dict[str, float] = {"": 0.0}
    out = np.zeros(n)
    for i, text in enumerate(map(str, texts)):
        if text:
            crc = crcs.get(text)
            if crc is None:
                crc = crcs[text] = float(zlib.crc32(text.encode()))
            out[i] = crc
    return out


def row_digests(criteria: Criteria, batch: CandidateBatch) -> npt.NDArray[np.int64]:
    """A 63-bit digest per candidate of everything its score, factor values and reasons
    are computed from: the criteria (run date and weights included), the algorithm
    version, factor names and this module's text (:data:`SOURCE_FINGERPRINT`), and the
    candidate's row of every column of the batch (:func:`fold_digests`; texts by their
    CRC-32).

    Equal digests mean an unchanged explanation, so a rerun writes only the matches whose
    digest changed.
    """
    n = len(batch)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    seed = repr((ALGORITHM_VERSION, FACTORS, SOURCE_FINGERPRINT, criteria))

    def columns() -> Iterator[Any]:
        for spec in fields(batch):
            if spec.name == "supplier_ids":
                continue
            column = getattr(batch, spec.name)
            if column is not None and not isinstance(column, np.ndarray):
                column = _text_crcs(column, n)  # text per candidate (e.g. plant names)
            yield column

    return fold_digests(seed, columns(), n)


# ------------------------------------------------------------------ the supplier's view

# What a supplier may read of its own match. The request's delivery point, radius,
# weights and policy preferences are private to the buyer (docs/matching.md), so the
# supplier sees each factor's value but no weight or contribution, nothing of the distance
# and policy factors, and none of the reasons that speak of them.
PRIVATE_FACTORS = frozenset({"distance", "policy"})
DISTANCE_NEUTRAL = "distance scored neutrally"
GRADES_NOT_STATED = "magnet grades not stated, grade compatibility scored neutrally"
KM_AWAY = " km away"
KM_FROM = " km from the "
_PLANT_WORDS = ("plant", "works", "unit", "factory", "facility", "lab", "laboratory")


_PUBLIC_COLUMNS = np.array([name not in PRIVATE_FACTORS for name in FACTORS])


def public_weights(asked: BoolArray) -> FloatArray:
    """The weights of the public score (the score the matched supplier reads): the
    default weights of the factors the request asks about that are not private, summing
    to 1; capability coverage alone if none is left.

    Which factors are asked depends only on what the buyer published (a quantity, a
    needed-by date, preferred certifications, a text, grades), so the supplier could
    compute it from its own factor values. Neither the private factors nor the buyer's
    own weights move it: a supplier changing its plant's coordinates and watching its
    score cannot find the buyer's delivery point, nor read the buyer's weights from
    several of its scores. The buyer ranks by the whole score."""
    raw = DEFAULT_WEIGHTS.as_array() * asked * _PUBLIC_COLUMNS
    if raw.sum() == 0:
        raw = np.zeros(len(FACTORS))
        raw[COLUMN["capability_coverage"]] = 1.0
    return raw / raw.sum()


def plant_label(name: str) -> str:
    """How a reason names a plant: "Hosur plant", but "Hosur Unit 2" as it is."""
    words = name.lower().split()
    return name if any(word in _PLANT_WORDS for word in words) else f"{name} plant"


POLICY_PREFERENCE = " (policy preference)"


def reason_is_private(reason: str) -> bool:
    """Whether a reason (as this module writes them) reveals the buyer's private criteria."""
    return (
        reason.endswith((DISTANCE_NEUTRAL, KM_AWAY, POLICY_PREFERENCE))
        or " km away, beyond the " in reason
        or (reason.startswith("about ") and KM_FROM in reason)
    )


def factors_of(algorithm_version: str, count: int | None = None) -> tuple[str, ...]:
    """The factor names of ``algorithm_version``, in the order its matches store them.

    An unknown version (one missing from :data:`FACTORS_BY_VERSION`, a bug) is named
    by position (``factor_1``...) rather than guessed: a wrong label would be worse.
    With ``count`` (how many factors a match stores), names that do not fit it (stored
    factors of another length: a bug, or a row edited by hand) give way to names by
    position too, so that the match is shown rather than refused.
    """
    return names_of(FACTORS_BY_VERSION, FACTORS, algorithm_version, count)


def names_of(
    by_version: Mapping[str, tuple[str, ...]],
    current: Sequence[str],
    algorithm_version: str,
    count: int | None = None,
) -> tuple[str, ...]:
    """:func:`factors_of`'s rule over any kind of match's factor names by version
    (``by_version``; ``current`` the present version's, for the count of an unknown one)."""
    known = by_version.get(algorithm_version)
    if known is not None and (count is None or len(known) == count):
        return known
    return tuple(f"factor_{n}" for n in range(1, (len(current) if count is None else count) + 1))


def supplier_factors(algorithm_version: str, factors: list[list[float]]) -> list[dict[str, Any]]:
    """A match's stored ``factors`` as the matched supplier may see them: each value of
    the factors that depend only on what the buyer published, without weights or
    contributions (:data:`PRIVATE_FACTORS` left out), named by ``algorithm_version``.
    Empty when the stored factors do not fit the version's names: which of them are
    private could not be told."""
    return public_factors(FACTORS_BY_VERSION, PRIVATE_FACTORS, algorithm_version, factors)


def public_factors(
    by_version: Mapping[str, tuple[str, ...]],
    private: Collection[str],
    algorithm_version: str,
    factors: list[list[float]],
) -> list[dict[str, Any]]:
    """:func:`supplier_factors`'s rule over any kind of match's factors: the values of
    those not in ``private``, named by ``by_version``; empty when they do not fit."""
    names = by_version.get(algorithm_version)
    if names is None or len(names) != len(factors):
        return []
    return [
        {"name": name, "value": value, "weight": None, "contribution": None}
        for name, (value, _, _) in zip(names, factors, strict=True)
        if name not in private
    ]


def supplier_reasons(reasons: list[str]) -> list[str]:
    """A match's stored ``reasons`` as the matched supplier may read them."""
    return [reason for reason in reasons if not reason_is_private(reason)]


__all__ = [
    "ALGORITHM_VERSION",
    "COLUMN",
    "DEFAULT_WEIGHTS",
    "FACTORS",
    "FACTORS_BEFORE_GRADES",
    "FACTORS_BY_VERSION",
    "PRIVATE_FACTORS",
    "Candidate",
    "CandidateBatch",
    "Criteria",
    "FactorScore",
    "GradeRequirement",
    "Match",
    "NearMiss",
    "reason_is_private",
    "supplier_factors",
    "supplier_reasons",
    "Offer",
    "ScoringResult",
    "Weights",
    "batch_from",
    "certificate_counts",
    "factors_of",
    "haversine_km",
    "names_of",
    "public_factors",
    "plant_label",
    "public_weights",
    "grade_columns",
    "policy_sub_targets",
    "fold_digests",
    "row_digests",
    "score",
]
