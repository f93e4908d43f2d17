"""Magnet matching: (offer, requirement) pairs in, ranked and explained matches out. Pure
Python and NumPy, no Django, like :mod:`matching.scoring`, whose explanation types
(:class:`~matching.scoring.FactorScore`) and distance (``haversine_km``) it reuses.

``ALGORITHM_VERSION = "remag-magnets-2026.11.1"``. The contract (docs/magnets.md has every
formula and a worked example):

1. **Pairs.** One row per (offer, requirement) pair, in columns (:class:`PairBatch`). A
   requirement's run pairs it with every published offer of its material; an offer's
   run pairs it with every open requirement of its material (its leads). The same
   function scores both directions, so a pair has the same score, explanation and near
   miss whichever side asked.
2. **Hard constraints** exclude a pair, each counted once: ``grade`` (no offered grade
   meets the requested one: same family, the same or a higher energy class and
   temperature class; the loader asks ``suppliers.grades``, this module knows no grade
   rule); ``shape`` (the shape is not offered); ``size`` (the part's largest dimension
   above the offer's maximum, or its thinnest section below its minimum); ``tolerance``
   (the offer holds that shape no tighter than a coarser tolerance than asked);
   ``coating``; ``magnetisation``; ``capacity`` (the offer's monthly capacity below
   :data:`MIN_CAPACITY_SHARE` of the monthly quantity); ``min_order`` (the monthly
   quantity below the offer's minimum order: pooling answers this one); ``validity``
   (the offer ends before supply is needed, or starts after the schedule ends);
   ``certification:<code>`` per required
   certification the offer does not hold. A pair excluded by exactly one constraint is
   a **near miss**, reported with that constraint ("offers arcs only up to 40 mm").
3. **Units.** Capacities, minimum orders and quantities are in kg or pieces a month;
   where they differ they are compared in kg, a piece weighing what its dimensions and
   its material's density say (:func:`piece_mass_g`). Reasons speak the requirement's unit.
4. **Soft factors**, each a value in [0, 1]: ``capacity_headroom`` (capacity over the
   monthly quantity, capped at 1, times the share of the supply schedule the offer's
   validity window covers), ``lead_time`` (as in matching: 1 when the lead time fits the days
   until supply is needed, falling linearly after), ``distance`` (halving every
   300 km, plant to delivery point; asked only when the requirement gives coordinates,
   neutral 0.5 when the offer does not), ``track_record`` (past supplies that went well,
   with a prior of 0.5 worth 3 supplies), ``price`` (asked only when the requirement
   states a budget; the share of the offer's price band within it; neutral when the
   offer states none), ``preferred_certifications`` (share held; asked only when some are
   preferred). A factor not asked gets weight 0 and the others are renormalised, row by
   row, so every score is on the same 0 to 100 scale.
5. score = 100 * sum(w_i * v_i); each factor's contribution is its term, so the
   contributions add up to the score. Deterministic: by score, ties by the candidate's id.
   The **public score**, what the maker reads, is the same sum over the factors it may
   see (not distance or price) with the default weights (:func:`public_weights`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from matching import scoring as base_scoring
from matching.scoring import (
    DISTANCE_HALF_LIFE_KM,
    NEUTRAL,
    FactorScore,
    _text_crcs,
    fold_digests,
    haversine_km,
    names_of,
    public_factors,
)

ALGORITHM_VERSION = "remag-magnets-2026.11.1"
FACTORS = (
    "capacity_headroom",
    "lead_time",
    "distance",
    "track_record",
    "price",
    "preferred_certifications",
)
# Every version ever written with its factors in stored order (never remove an entry).
FACTORS_BY_VERSION: dict[str, tuple[str, ...]] = {ALGORITHM_VERSION: FACTORS}
COLUMN = {name: j for j, name in enumerate(FACTORS)}
# This module's text, in every pair's digest (ScoringResult.digests): a change of how a
# pair is scored or explained rewrites each pair once on its next run.
try:
    SOURCE_FINGERPRINT = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=16).hexdigest()
except OSError:  # pragma: no cover (a build without sources)
    SOURCE_FINGERPRINT = ""
MIN_CAPACITY_SHARE = 0.25
TRACK_RECORD_PRIOR = 0.5
TRACK_RECORD_PRIOR_WEIGHT = 3.0
DAYS_PER_MONTH = 30.0
# Private to the buyer: the maker sees no weight or contribution, and nothing of these.
PRIVATE_FACTORS = frozenset({"distance", "price"})
CONSTRAINTS = (
    "grade",
    "shape",
    "size",
    "tolerance",
    "coating",
    "magnetisation",
    "capacity",
    "min_order",
    "validity",
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Weights:
    """Default relative importance of the factors (sum 1), in :data:`FACTORS` order."""

    capacity_headroom: float = 0.30
    lead_time: float = 0.20
    distance: float = 0.15
    track_record: float = 0.15
    price: float = 0.10
    preferred_certifications: float = 0.10

    def as_array(self) -> FloatArray:
        return np.array([getattr(self, name) for name in FACTORS], dtype=np.float64)


DEFAULT_WEIGHTS = Weights()


# ------------------------------------------------------------------ geometry


def piece_volume_mm3(shape: str, dimensions: dict[str, float]) -> float:
    """A piece's volume from its dimensions (``choices.SHAPE_DIMENSIONS``)."""
    d = dimensions
    if shape == "block":
        return d["length_mm"] * d["width_mm"] * d["thickness_mm"]
    if shape == "disc":
        return math.pi / 4 * d["diameter_mm"] ** 2 * d["thickness_mm"]
    if shape == "ring":
        return (
            math.pi
            / 4
            * (d["outer_diameter_mm"] ** 2 - d["inner_diameter_mm"] ** 2)
            * (d["thickness_mm"])
        )
    if shape == "arc":
        area = math.pi * (d["outer_radius_mm"] ** 2 - d["inner_radius_mm"] ** 2)
        return d["angle_deg"] / 360.0 * area * d["length_mm"]
    raise ValueError(f"unknown shape {shape!r}")


def piece_mass_g(shape: str, dimensions: dict[str, float], density_g_per_cm3: float) -> float:
    return piece_volume_mm3(shape, dimensions) / 1000.0 * density_g_per_cm3


def size_extent_mm(shape: str, dimensions: dict[str, float]) -> tuple[float, float]:
    """``(thinnest section, largest dimension)`` of a piece, in mm: what an offer's
    ``min_mm``/``max_mm`` for the shape bound. A ring's and an arc's section is its wall."""
    d = dimensions
    if shape == "block":
        sizes = (d["length_mm"], d["width_mm"], d["thickness_mm"])
        return min(sizes), max(sizes)
    if shape == "disc":
        return min(d["diameter_mm"], d["thickness_mm"]), max(d["diameter_mm"], d["thickness_mm"])
    if shape == "ring":
        wall = (d["outer_diameter_mm"] - d["inner_diameter_mm"]) / 2
        return min(wall, d["thickness_mm"]), max(d["outer_diameter_mm"], d["thickness_mm"])
    if shape == "arc":
        wall = d["outer_radius_mm"] - d["inner_radius_mm"]
        return min(wall, d["length_mm"]), max(d["outer_radius_mm"], d["length_mm"])
    raise ValueError(f"unknown shape {shape!r}")


# ------------------------------------------------------------------ pairs


@dataclass(frozen=True)
class PairBatch:
    """(offer, requirement) pairs as columns, one row per pair. Text columns are for
    the reasons; numbers NaN when unknown. Quantities are per month; ``*_is_pieces``
    says the unit (else kg). Dates are ordinals (``date.toordinal``), NaN for none."""

    offer_ids: Sequence[str]
    requirement_ids: Sequence[str]
    # grade
    grade_met: BoolArray
    grade_label: Sequence[str]  # the requested grade, as written: "N42SH"
    grade_note: Sequence[str]  # the offer's least grade meeting it; else its highest; else ""
    # shape and size
    shape: Sequence[str]  # the requirement's shape
    shape_offered: BoolArray
    size_min_mm: FloatArray
    size_max_mm: FloatArray
    tolerance_mm: FloatArray
    offer_min_mm: FloatArray  # NaN where the shape is not offered
    offer_max_mm: FloatArray
    offer_tolerance_mm: FloatArray
    # finish
    coating: Sequence[str]  # labels
    coating_offered: BoolArray
    magnetisation: Sequence[str]
    magnetisation_offered: BoolArray
    # quantities
    capacity: FloatArray
    capacity_is_pieces: BoolArray
    min_order: FloatArray  # 0 when none
    min_order_is_pieces: BoolArray
    quantity: FloatArray
    quantity_is_pieces: BoolArray
    piece_mass_kg: FloatArray
    duration_months: FloatArray
    # time
    needed_from: FloatArray
    valid_until: FloatArray  # NaN: open-ended
    valid_from: FloatArray  # NaN: already valid
    lead_time_days: FloatArray
    # place
    delivery_latitude: FloatArray  # NaN: not given (distance not asked)
    delivery_longitude: FloatArray
    plant_latitude: FloatArray  # NaN: unknown (neutral)
    plant_longitude: FloatArray
    # record, price, certifications
    past_supplies: FloatArray
    past_good: FloatArray
    budget_per_kg: FloatArray  # NaN: no budget (price not asked)
    price_min_per_kg: FloatArray  # NaN: no price band
    price_max_per_kg: FloatArray
    required_missing: Sequence[Sequence[str]]  # codes of required certifications not held
    preferred_asked: FloatArray  # how many preferred
    preferred_held: FloatArray  # of which held

    def __post_init__(self) -> None:
        n = len(self.offer_ids)
        for spec in fields(self):
            column = getattr(self, spec.name)
            if len(column) != n:
                raise ValueError(f"{spec.name}: {len(column)} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.offer_ids)


@dataclass(frozen=True)
class Match:
    offer_id: str
    requirement_id: str
    rank: int
    score: float
    factors: tuple[FactorScore, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class NearMiss:
    offer_id: str
    requirement_id: str
    constraint: str
    reason: str


def _kg(value: FloatArray, is_pieces: BoolArray, piece_mass_kg: FloatArray) -> FloatArray:
    return np.where(is_pieces, value * piece_mass_kg, value)


def _in_requirement_unit(kg: FloatArray, batch: PairBatch) -> FloatArray:
    return np.where(batch.quantity_is_pieces, kg / batch.piece_mass_kg, kg)


def largest_remainder(
    raw: npt.NDArray[np.float64], totals: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Round each row of ``raw`` to integers that add up to the row's ``totals`` (an
    integer within the row's number of terms of its sum): every term is rounded down,
    then the row's shortfall goes one each to its largest remainders (ties to the first)."""
    if raw.size == 0:
        return np.zeros_like(raw)
    floors = np.floor(raw + 1e-9)
    remainders = raw - floors
    shortfall = np.clip(totals - floors.sum(axis=1), 0, raw.shape[1]).astype(np.intp)
    order = np.argsort(-remainders, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(raw.shape[1])[None, :].repeat(len(raw), 0), axis=1)
    return floors + (ranks < shortfall[:, None])


@dataclass
class ScoringResult:
    algorithm_version: str
    batch: PairBatch
    run_ordinal: int
    violations: npt.NDArray[np.int64]  # (n,)
    failed: dict[str, BoolArray]  # constraint -> (n,)
    weights: FloatArray  # (n, F) normalised per row, 0 where not asked
    values: FloatArray  # (n, F)
    scores: FloatArray  # (n,)
    # (n,) what the maker reads as its score: :func:`public_weights`.
    public_scores: FloatArray
    distance_km: FloatArray
    capacity_kg: FloatArray
    quantity_kg: FloatArray
    min_order_kg: FloatArray
    covered_share: FloatArray
    schedule_end: FloatArray  # the schedule's last day (ordinal)
    order: npt.NDArray[np.intp]  # eligible rows, best first

    @property
    def eligible(self) -> BoolArray:
        return self.violations == 0

    @property
    def matched_count(self) -> int:
        return len(self.order)

    def matches(self, limit: int | None = None) -> list[Match]:
        chosen = self.order if limit is None else self.order[:limit]
        return [
            Match(
                offer_id=self.batch.offer_ids[i],
                requirement_id=self.batch.requirement_ids[i],
                rank=n + 1,
                score=score,
                factors=tuple(
                    FactorScore(name, values[j], weights[j], contributions[j])
                    for j, name in enumerate(FACTORS)
                ),
                reasons=reasons,
            )
            for n, (i, score, values, weights, contributions, reasons) in enumerate(
                self.explain_rows(chosen)
            )
        ]

    def explain_rows(
        self, indices: npt.NDArray[np.intp]
    ) -> Iterator[tuple[int, float, list[float], list[float], list[float], tuple[str, ...]]]:
        """``(row, score, values, weights, contributions, reasons)`` per pair, as plain
        Python: values and weights to 4 places, the score to 2, and the contributions to 2
        by largest remainder, so that they add up to the rounded score exactly."""
        sel = np.asarray(indices, dtype=np.intp)
        values = np.round(self.values[sel], 4).tolist()
        weights = np.round(self.weights[sel], 4).tolist()
        hundredths = np.round(self.scores[sel] * 100.0)
        contributions = (
            largest_remainder(10_000.0 * self.weights[sel] * self.values[sel], hundredths) / 100.0
        ).tolist()
        scores = (hundredths / 100.0).tolist()
        for n, i in enumerate(sel.tolist()):
            yield i, scores[n], values[n], weights[n], contributions[n], self.reasons(i)

    def digests(self, indices: npt.NDArray[np.intp]) -> list[int]:
        """A 63-bit digest per pair of ``indices`` of everything its score, public score,
        factors and reasons are computed from: the algorithm version, factor names and
        the text of this module and of :mod:`matching.scoring` (any change of how a pair
        is scored or explained rewrites it once), the run's day, the pair's weights as
        used, and its row of every column of the batch but the two ids
        (:func:`matching.scoring.fold_digests`; texts by their CRC-32). The pair's
        outputs depend on nothing else (no factor is relative to other pairs), so a
        rerun rewrites only the pairs whose digest changed."""
        sel = np.asarray(indices, dtype=np.intp)
        n = len(sel)
        if n == 0:
            return []
        seed = repr(
            (
                self.algorithm_version,
                FACTORS,
                SOURCE_FINGERPRINT,
                base_scoring.SOURCE_FINGERPRINT,
                self.run_ordinal,
            )
        )
        columns: list[Any] = [self.weights[sel]]
        for spec in fields(self.batch):
            if spec.name in ("offer_ids", "requirement_ids"):
                continue
            column = getattr(self.batch, spec.name)
            if isinstance(column, np.ndarray):
                columns.append(column[sel])
            else:  # text per pair; the missing certifications as one text
                texts = [column[i] for i in sel.tolist()]
                if spec.name == "required_missing":
                    texts = [",".join(codes) for codes in texts]
                columns.append(_text_crcs(texts, n))
        return fold_digests(seed, columns, n).tolist()

    def near_misses(self) -> list[NearMiss]:
        rows = np.flatnonzero(self.violations == 1).tolist()
        out = [
            NearMiss(
                self.batch.offer_ids[i],
                self.batch.requirement_ids[i],
                *self._one_constraint(i),
            )
            for i in rows
        ]
        out.sort(key=lambda m: (m.requirement_id, m.offer_id))
        return out

    # -------------------------------------------------------------- wording

    def _unit(self, i: int) -> str:
        return "pieces" if self.batch.quantity_is_pieces[i] else "kg"

    def _amount(self, kg: float, i: int) -> str:
        value = kg / self.batch.piece_mass_kg[i] if self.batch.quantity_is_pieces[i] else kg
        return f"{value:,.0f} {self._unit(i)}/month"

    def _one_constraint(self, i: int) -> tuple[str, str]:
        b = self.batch
        shape = f"{b.shape[i]}s"
        if self.failed["grade"][i]:
            note = b.grade_note[i]
            text = f"offers no grade compatible with {b.grade_label[i]}"
            return "grade", f"{text} (highest offered: {note})" if note else text
        if self.failed["shape"][i]:
            return "shape", f"does not offer {shape}"
        if self.failed["size"][i]:
            if b.size_max_mm[i] > b.offer_max_mm[i]:
                return "size", (
                    f"offers {shape} only up to {b.offer_max_mm[i]:g} mm "
                    f"(needs {b.size_max_mm[i]:g} mm)"
                )
            return "size", (
                f"offers {shape} only from {b.offer_min_mm[i]:g} mm (needs {b.size_min_mm[i]:g} mm)"
            )
        if self.failed["tolerance"][i]:
            return "tolerance", (
                f"holds {shape} to ±{b.offer_tolerance_mm[i]:g} mm at best "
                f"(needs ±{b.tolerance_mm[i]:g} mm)"
            )
        if self.failed["coating"][i]:
            return "coating", f"does not offer {b.coating[i]} coating"
        if self.failed["magnetisation"][i]:
            return "magnetisation", f"does not offer {b.magnetisation[i]} magnetisation"
        if self.failed["capacity"][i]:
            return "capacity", (
                f"capacity {self._amount(self.capacity_kg[i], i)} is below a quarter of the "
                f"{self._amount(self.quantity_kg[i], i)} needed"
            )
        if self.failed["min_order"][i]:
            return "min_order", (
                f"minimum order {self._amount(self.min_order_kg[i], i)}, above the "
                f"{self._amount(self.quantity_kg[i], i)} asked (a pooled requirement can "
                "reach it)"
            )
        if self.failed["validity"][i]:
            needed = date.fromordinal(int(b.needed_from[i])).isoformat()
            if not math.isnan(b.valid_from[i]) and b.valid_from[i] > self.schedule_end[i]:
                start = date.fromordinal(int(b.valid_from[i])).isoformat()
                end = date.fromordinal(int(self.schedule_end[i])).isoformat()
                return "validity", f"the offer starts only on {start}; the schedule ends on {end}"
            until = date.fromordinal(int(b.valid_until[i])).isoformat()
            return "validity", f"the offer is valid only until {until}; supply needed from {needed}"
        code = b.required_missing[i][0]
        return f"certification:{code}", f"does not hold {code}"

    def reasons(self, i: int) -> tuple[str, ...]:
        b = self.batch
        out = [
            f"offers {b.grade_note[i]}, compatible with {b.grade_label[i]}",
            f"makes {b.shape[i]}s {b.offer_min_mm[i]:g}–{b.offer_max_mm[i]:g} mm "
            f"to ±{b.offer_tolerance_mm[i]:g} mm",
            f"offers {b.coating[i]} coating and {b.magnetisation[i]} magnetisation",
        ]
        months = b.duration_months[i]
        cover = self.covered_share[i]
        text = (
            f"capacity {self._amount(self.capacity_kg[i], i)} against "
            f"{self._amount(self.quantity_kg[i], i)} needed"
        )
        if cover >= 1:
            text += f", for the whole {months:g}-month schedule"
        else:
            text += f"; the offer covers {cover * months:.0f} of the {months:g} months"
        out.append(text)
        days_left = int(b.needed_from[i]) - self.run_ordinal
        out.append(f"lead time {b.lead_time_days[i]:.0f} days, needed in {max(days_left, 0)}")
        if not math.isnan(b.delivery_latitude[i]):
            if math.isnan(self.distance_km[i]):
                out.append(DISTANCE_UNKNOWN)
            else:
                out.append(f"plant about {self.distance_km[i]:.0f} km from the delivery point")
        if b.past_supplies[i]:
            out.append(f"{b.past_good[i]:.0f} of {b.past_supplies[i]:.0f} past supplies went well")
        if not math.isnan(b.budget_per_kg[i]):
            if math.isnan(b.price_min_per_kg[i]):
                out.append(PRICE_UNKNOWN)
            else:
                out.append(
                    f"price band ₹{b.price_min_per_kg[i]:,.0f}–{b.price_max_per_kg[i]:,.0f}/kg "
                    f"against a budget of ₹{b.budget_per_kg[i]:,.0f}/kg"
                )
        if b.preferred_asked[i]:
            out.append(
                f"holds {b.preferred_held[i]:.0f} of {b.preferred_asked[i]:.0f} preferred "
                "certifications"
            )
        return tuple(out)


DISTANCE_UNKNOWN = "plant location unknown, distance scored neutrally"
PRICE_UNKNOWN = "no price band stated, price scored neutrally"


_PUBLIC_COLUMNS = np.array([name not in PRIVATE_FACTORS for name in FACTORS])


def public_weights(asked: BoolArray) -> FloatArray:
    """The weights of the public score, per pair (``asked`` is ``(n, F)``): the default
    weights of the factors asked that are not private, each row summing to 1 (capacity
    headroom alone if none is left). Whether a public factor is asked (only the preferred
    certifications may not be) shows in the factor values the maker reads, so neither
    the buyer's delivery point nor its budget moves the score the maker reads: a maker
    changing its price band or its plant and watching its score learns nothing of
    either."""
    raw = DEFAULT_WEIGHTS.as_array()[None, :] * asked * _PUBLIC_COLUMNS[None, :]
    none_left = raw.sum(axis=1) == 0
    raw[none_left, COLUMN["capacity_headroom"]] = 1.0
    return raw / raw.sum(axis=1, keepdims=True)


def reason_is_private(reason: str) -> bool:
    """Whether a reason speaks of the buyer's private criteria (delivery point, budget)."""
    return reason.startswith(("plant about ", "price band ")) or reason in (
        DISTANCE_UNKNOWN,
        PRICE_UNKNOWN,
    )


def score(
    batch: PairBatch, *, run_date: date, rank_by: str = "offer", weights: Weights = DEFAULT_WEIGHTS
) -> ScoringResult:
    """Score every pair. ``rank_by`` names the candidate side whose id breaks ties:
    ``"offer"`` for a requirement's run, ``"requirement"`` for an offer's leads."""
    n = len(batch)
    run = run_date.toordinal()
    b = batch

    capacity_kg = _kg(b.capacity, b.capacity_is_pieces, b.piece_mass_kg)
    quantity_kg = _kg(b.quantity, b.quantity_is_pieces, b.piece_mass_kg)
    min_order_kg = _kg(b.min_order, b.min_order_is_pieces, b.piece_mass_kg)
    shape_ok = b.shape_offered
    # The supply schedule, [start, schedule_end] in day ordinals, and the offer's window.
    schedule_days = np.maximum(b.duration_months, 1.0) * DAYS_PER_MONTH
    start = np.maximum(b.needed_from, run)
    schedule_end = start + schedule_days - 1
    valid_until = np.where(np.isnan(b.valid_until), np.inf, b.valid_until)
    valid_from = np.where(np.isnan(b.valid_from), -np.inf, b.valid_from)
    with np.errstate(invalid="ignore"):
        failed = {
            "grade": ~b.grade_met,
            "shape": ~shape_ok,
            "size": shape_ok
            & ((b.size_max_mm > b.offer_max_mm) | (b.size_min_mm < b.offer_min_mm)),
            "tolerance": shape_ok & (b.tolerance_mm < b.offer_tolerance_mm),
            "coating": ~b.coating_offered,
            "magnetisation": ~b.magnetisation_offered,
            "capacity": capacity_kg < MIN_CAPACITY_SHARE * quantity_kg,
            "min_order": quantity_kg < min_order_kg,
            "validity": (valid_until < start) | (valid_from > schedule_end),
        }
    missing = np.fromiter((len(codes) for codes in b.required_missing), np.int64, count=n)
    violations = missing + sum(f.astype(np.int64) for f in failed.values())

    values = np.full((n, len(FACTORS)), NEUTRAL)
    asked = np.ones((n, len(FACTORS)), dtype=bool)

    overlap = np.minimum(valid_until, schedule_end) - np.maximum(valid_from, start) + 1
    covered = np.clip(overlap / schedule_days, 0, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.minimum(1.0, capacity_kg / quantity_kg)
    values[:, COLUMN["capacity_headroom"]] = np.where(np.isnan(ratio), NEUTRAL, ratio * covered)

    days_left = b.needed_from - run
    slack = days_left - b.lead_time_days
    lead = np.where(slack >= 0, 1.0, np.maximum(0.0, 1.0 + slack / np.maximum(days_left, 7)))
    values[:, COLUMN["lead_time"]] = np.where(np.isnan(b.lead_time_days), NEUTRAL, lead)

    has_delivery = ~np.isnan(b.delivery_latitude)
    distance = np.full(n, np.nan)
    known = has_delivery & ~np.isnan(b.plant_latitude)
    if known.any():
        distance[known] = _pair_distances(
            b.delivery_latitude[known],
            b.delivery_longitude[known],
            b.plant_latitude[known],
            b.plant_longitude[known],
        )
    values[:, COLUMN["distance"]] = np.where(
        known, np.power(0.5, np.nan_to_num(distance) / DISTANCE_HALF_LIFE_KM), NEUTRAL
    )
    asked[:, COLUMN["distance"]] = has_delivery

    values[:, COLUMN["track_record"]] = (
        b.past_good + TRACK_RECORD_PRIOR * TRACK_RECORD_PRIOR_WEIGHT
    ) / (b.past_supplies + TRACK_RECORD_PRIOR_WEIGHT)

    budget, low, high = b.budget_per_kg, b.price_min_per_kg, b.price_max_per_kg
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(
            high > low, np.clip((budget - low) / (high - low), 0, 1), (low <= budget) * 1.0
        )
    values[:, COLUMN["price"]] = np.where(np.isnan(low) | np.isnan(budget), NEUTRAL, within)
    asked[:, COLUMN["price"]] = ~np.isnan(budget)

    with np.errstate(invalid="ignore", divide="ignore"):
        share = b.preferred_held / b.preferred_asked
    values[:, COLUMN["preferred_certifications"]] = np.where(b.preferred_asked > 0, share, NEUTRAL)
    asked[:, COLUMN["preferred_certifications"]] = b.preferred_asked > 0

    raw = weights.as_array()[None, :] * asked
    row_weights = raw / raw.sum(axis=1, keepdims=True)
    scores = 100.0 * (row_weights * values).sum(axis=1)
    public_scores = 100.0 * (public_weights(asked) * values).sum(axis=1)

    eligible_rows = np.flatnonzero(violations == 0)
    ids = b.offer_ids if rank_by == "offer" else b.requirement_ids
    tie = np.asarray(ids, dtype=object)[eligible_rows].astype(str)
    order = eligible_rows[np.lexsort((tie, -np.round(scores[eligible_rows], 9)))]

    return ScoringResult(
        algorithm_version=ALGORITHM_VERSION,
        batch=batch,
        run_ordinal=run,
        violations=violations,
        failed=failed,
        weights=row_weights,
        values=values,
        scores=scores,
        public_scores=public_scores,
        distance_km=distance,
        capacity_kg=capacity_kg,
        quantity_kg=quantity_kg,
        min_order_kg=min_order_kg,
        covered_share=covered,
        schedule_end=schedule_end,
        order=order,
    )


def _pair_distances(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Great-circle distances of aligned point pairs (``haversine_km`` for one origin)."""
    if np.all(lat1 == lat1[0]) and np.all(lon1 == lon1[0]):
        return haversine_km(float(lat1[0]), float(lon1[0]), lat2, lon2)
    if np.all(lat2 == lat2[0]) and np.all(lon2 == lon2[0]):
        return haversine_km(float(lat2[0]), float(lon2[0]), lat1, lon1)
    out = np.empty(len(lat1))
    for i in range(len(lat1)):  # mixed origins (pools): rare and small
        out[i] = haversine_km(float(lat1[i]), float(lon1[i]), lat2[i : i + 1], lon2[i : i + 1])[0]
    return out


def factors_of(algorithm_version: str, count: int | None = None) -> tuple[str, ...]:
    """The factor names of ``algorithm_version``, in the order its matches store them;
    by position (``factor_1``...) for an unknown version, or, with ``count`` (how many
    factors a match stores), when the version's names do not fit it (a bug, or a row
    edited by hand): the match is shown rather than refused, as
    :func:`matching.scoring.factors_of` does for a request's matches."""
    return names_of(FACTORS_BY_VERSION, FACTORS, algorithm_version, count)


def maker_factors(algorithm_version: str, factors: list[list[float]]) -> list[dict[str, Any]]:
    """A match's stored ``factors`` as the maker may read them: values of the factors not
    private to the buyer (:data:`PRIVATE_FACTORS`), no weights or contributions. Empty
    when the stored factors do not fit the version's names: which are private could not
    be told (as :func:`matching.scoring.supplier_factors` for a request's matches)."""
    return public_factors(FACTORS_BY_VERSION, PRIVATE_FACTORS, algorithm_version, factors)


__all__ = [
    "ALGORITHM_VERSION",
    "CONSTRAINTS",
    "DEFAULT_WEIGHTS",
    "FACTORS",
    "FACTORS_BY_VERSION",
    "MIN_CAPACITY_SHARE",
    "PRIVATE_FACTORS",
    "Match",
    "NearMiss",
    "PairBatch",
    "ScoringResult",
    "Weights",
    "factors_of",
    "maker_factors",
    "piece_mass_g",
    "piece_volume_mm3",
    "reason_is_private",
    "score",
    "size_extent_mm",
]
