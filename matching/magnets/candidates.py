"""Load offers and requirements as plain rows and pair them into a
:class:`~matching.magnets.scoring.PairBatch`. The grade rule is ``suppliers.grades``'s
(asked once per distinct requested grade and offered set); everything else the pure
scoring decides."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from django.db.models import CharField, Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from matching.magnets.choices import (
    DENSITY_G_PER_CM3,
    MATERIAL_FAMILIES,
    Coating,
    Magnetisation,
    OfferStatus,
    Outcome,
    RequirementStatus,
)
from matching.magnets.models import MagnetMatch, MagnetOffer, MagnetPool, MagnetRequirement
from matching.magnets.scoring import PairBatch, piece_mass_g, size_extent_mm
from suppliers.choices import SupplierStatus
from suppliers.grades import grade_meets, grade_order_key, parse_grade
from suppliers.models import Supplier, SupplierCertificate, certificate_valid_q

NAN = math.nan
# A row's updated_at as text, what a run notes of each candidate it read (``seen``) and
# compares at its write: as exact as the value, and read at a tenth of the cost of
# 50,000 datetimes (0.08 s against 0.66 s with their ids).
STAMP = Cast("updated_at", CharField())
NOTHING: list[str] = []  # shared by the rows missing no certification (never changed)
COATING_LABELS = dict(Coating.choices)
MAGNETISATION_LABELS = dict(Magnetisation.choices)


def grade_label(code: str) -> str:
    """How a grade is written for people: N42SH, Sm2Co17-28, BNP-10."""
    return code.upper().replace("SMCO", "SmCo").replace("SM2CO", "Sm2Co")


@lru_cache(maxsize=4096)
def grade_answer(requested: str, offered: tuple[str, ...]) -> tuple[bool, str]:
    """``(met, note)``: whether any offered grade meets ``requested``; the note names the
    least demanding one that does, else the offer's most demanding of the family."""
    want = parse_grade(requested)
    specs = []
    for code in offered:
        try:
            specs.append((parse_grade(code), code))
        except ValueError:
            continue
    meeting = [(grade_order_key(s), c) for s, c in specs if grade_meets(offered=s, requested=want)]
    if meeting:
        return True, grade_label(min(meeting)[1])
    family = [(grade_order_key(s), c) for s, c in specs if s.family == want.family]
    return False, grade_label(max(family)[1]) if family else ""


def magnetisation_label(code: str) -> str:
    """ "diametral", "axial", "multipole": the label's first word, as reasons use it."""
    return MAGNETISATION_LABELS.get(code, code).split(" (")[0].lower()


def piece_mass_for(material: str, shape: str, dimensions: dict[str, float]) -> float:
    return piece_mass_g(shape, dimensions, DENSITY_G_PER_CM3[material])


def families_of(material: str) -> frozenset[str]:
    return MATERIAL_FAMILIES[material]


# ------------------------------------------------------------------ rows


@dataclass(frozen=True)
class OfferRow:
    id: str
    owner_id: str
    grades: tuple[str, ...]
    shapes: dict[str, tuple[float, float, float]]  # shape -> (min_mm, max_mm, tolerance_mm)
    coatings: frozenset[str]
    magnetisations: frozenset[str]
    capacity: float
    capacity_is_pieces: bool
    min_order: float
    lead_time_days: float
    valid_until: float  # ordinal or NaN
    latitude: float
    longitude: float
    price_min: float
    price_max: float
    certifications: frozenset[str]
    past_supplies: float = 0.0
    past_good: float = 0.0
    valid_from: float = NAN  # ordinal or NaN


class RequirementRow(NamedTuple):
    """One requirement as plain data (a named tuple: a run may build 50,000 of them)."""

    id: str
    grade: str
    shape: str
    size_min_mm: float
    size_max_mm: float
    tolerance_mm: float
    coating: str
    magnetisation: str
    quantity: float
    quantity_is_pieces: bool
    piece_mass_kg: float
    duration_months: float
    needed_from: float  # ordinal
    latitude: float
    longitude: float
    budget_per_kg: float
    required: tuple[str, ...]
    preferred: tuple[str, ...]


def id_text(value: object) -> str:
    """A UUID in its canonical text form (PostgreSQL's ``::text`` already is; SQLite
    stores 32 hex digits), so ids from casts and from UUID objects compare equal."""
    text = str(value)
    return text if len(text) == 36 else str(uuid.UUID(text))


def _num(value: object) -> float:
    return NAN if value is None else float(value)  # type: ignore[arg-type]


def track_records(owner_ids: Iterable[object]) -> dict[str, tuple[float, float]]:
    """Each maker's ``(supplies with an outcome, of which good)`` over all its offers;
    never an outcome its own organisation recorded (a maker buying from itself)."""
    rows = (
        MagnetMatch.objects.filter(offer__owner_id__in=list(owner_ids))
        .exclude(outcome="")
        .exclude(requirement__owner_id=F("offer__owner_id"))
        .values("offer__owner_id")
        .annotate(total=Count("id"), good=Count("id", filter=Q(outcome=Outcome.GOOD)))
    )
    return {str(r["offer__owner_id"]): (float(r["total"]), float(r["good"])) for r in rows}


def registered_certifications(
    owner_ids: Iterable[object], *, day: date
) -> dict[str, frozenset[str]]:
    """The certification codes each organisation that has a supplier profile holds on
    ``day``: a certificate registered on an active, unsuspended profile and valid that
    day (DESIGN.md: an expired one counts for nothing). A deactivated or suspended
    profile backs no certificate, and still counts as a profile: withdrawing it from the
    registry does not lift the check. Organisations without a profile are absent."""
    owners = [str(o) for o in owner_ids]
    out: dict[str, set[str]] = {
        id_text(o): set()
        for o in Supplier.objects.filter(owner_id__in=owners).values_list("owner_id", flat=True)
    }
    valid = (
        SupplierCertificate.objects.filter(
            certificate_valid_q(day), supplier__owner_id__in=owners, supplier__is_active=True
        )
        .exclude(supplier__status=SupplierStatus.SUSPENDED)
        .values_list("supplier__owner_id", "certification__code")
    )
    for owner, code in valid:
        out[id_text(owner)].add(code)
    return {owner: frozenset(codes) for owner, codes in out.items()}


def offer_rows(
    offers: QuerySet[MagnetOffer],
    *,
    day: date | None = None,
    seen: dict[str, str] | None = None,
) -> list[OfferRow]:
    """The rows of ``offers``, read as plain columns, with their makers' track records.

    An offer's certifications are its maker's declaration; when the maker organisation
    has a supplier profile, only those also registered there with a certificate valid on
    ``day`` (today by default) count. ``seen``, if given, gets each row's ``updated_at``
    as read; the rows are read before their certifications (see
    :func:`requirement_rows`)."""
    rows = list(
        offers.annotate(
            id_text=Cast("id", CharField()),
            owner_text=Cast("owner_id", CharField()),
            capacity=Cast("capacity_per_month", FloatField()),
            min_order=Cast("min_order_per_month", FloatField()),
            price_min=Cast("price_min_inr_per_kg", FloatField()),
            price_max=Cast("price_max_inr_per_kg", FloatField()),
            stamp=STAMP,
        ).values_list(
            "id_text", "owner_text", "grades", "shapes", "coatings", "magnetisations", "capacity",
            "capacity_unit", "min_order", "lead_time_days", "valid_until", "valid_from",
            "plant_latitude",
            "plant_longitude", "price_min", "price_max", "stamp",
        )
    )  # fmt: skip
    certs: dict[str, set[str]] = defaultdict(set)
    through = MagnetOffer.certifications.through
    for offer_id, code in through.objects.filter(magnetoffer__in=offers.values("id")).values_list(
        "magnetoffer_id", "certification__code"
    ):
        certs[str(offer_id)].add(code)
    records = track_records({id_text(row[1]) for row in rows})
    registered = registered_certifications(
        {id_text(row[1]) for row in rows}, day=day or timezone.localdate()
    )
    out = []
    for (raw_id, raw_owner, grades, shapes, coatings, magnetisations, capacity, unit,
         min_order, lead, until, since, lat, lon, low, high, stamp) in rows:  # fmt: skip
        oid, owner = id_text(raw_id), id_text(raw_owner)
        if seen is not None:
            seen[oid] = stamp
        supplies, good = records.get(owner, (0.0, 0.0))
        out.append(
            OfferRow(
                id=oid,
                owner_id=owner,
                grades=tuple(sorted(grades)),
                shapes={
                    s["shape"]: (float(s["min_mm"]), float(s["max_mm"]), float(s["tolerance_mm"]))
                    for s in shapes
                },
                coatings=frozenset(coatings),
                magnetisations=frozenset(magnetisations),
                capacity=capacity,
                capacity_is_pieces=unit == "pieces",
                min_order=min_order,
                lead_time_days=float(lead),
                valid_until=NAN if until is None else float(until.toordinal()),
                valid_from=float(since.toordinal()),
                latitude=_num(lat),
                longitude=_num(lon),
                price_min=_num(low),
                price_max=_num(high),
                certifications=(
                    frozenset(certs[oid] & registered[owner])
                    if owner in registered
                    else frozenset(certs[oid])
                ),
                past_supplies=supplies,
                past_good=good,
            )
        )
    return out


def requirement_row(
    *,
    id: str,  # noqa: A002 (the row's own name for it)
    material: str,
    grade: str,
    shape: str,
    dimensions: dict[str, float],
    tolerance_mm: float,
    coating: str,
    magnetisation: str,
    quantity: float,
    quantity_unit: str,
    duration_months: float,
    needed_from: date,
    latitude: float | None = None,
    longitude: float | None = None,
    budget_per_kg: float | None = None,
    required: Sequence[str] = (),
    preferred: Sequence[str] = (),
) -> RequirementRow:
    smallest, largest = size_extent_mm(shape, dimensions)
    return RequirementRow(
        id=id,
        grade=grade,
        shape=shape,
        size_min_mm=smallest,
        size_max_mm=largest,
        tolerance_mm=float(tolerance_mm),
        coating=coating,
        magnetisation=magnetisation,
        quantity=float(quantity),
        quantity_is_pieces=quantity_unit == "pieces",
        piece_mass_kg=piece_mass_for(material, shape, dimensions) / 1000.0,
        duration_months=float(duration_months),
        needed_from=float(needed_from.toordinal()),
        latitude=_num(latitude),
        longitude=_num(longitude),
        budget_per_kg=_num(budget_per_kg),
        required=tuple(sorted(required)),
        preferred=tuple(sorted(preferred)),
    )


def requirement_rows(
    requirements: QuerySet[MagnetRequirement], *, seen: dict[str, str] | None = None
) -> list[RequirementRow]:
    """The rows of ``requirements``, read as plain columns (no model instances, no JSON:
    a run may read 50,000 of them). ``seen``, if given, gets each row's ``updated_at``
    as read (a run checks against it which requirements changed since: ``runs``).

    The rows are read before their certifications: a change committing between the two
    reads shows in ``updated_at`` as read after it or not at all, so a row whose
    certifications are newer than its columns is one whose stamp is stale too."""
    rows = list(
        requirements.annotate(
            id_text=Cast("id", CharField()),
            tolerance=Cast("tolerance_mm", FloatField()),
            quantity=Cast("quantity_per_month", FloatField()),
            budget=Cast("budget_inr_per_kg", FloatField()),
            stamp=STAMP,
        ).values_list(
            "id_text", "grade", "shape", "size_min_mm", "size_max_mm", "tolerance", "coating",
            "magnetisation", "quantity", "quantity_unit", "piece_mass_g", "duration_months",
            "needed_from", "delivery_latitude", "delivery_longitude", "budget", "stamp",
        )
    )  # fmt: skip
    required: dict[str, list[str]] = defaultdict(list)
    preferred: dict[str, list[str]] = defaultdict(list)
    for relation, into in (
        (MagnetRequirement.required_certifications.through, required),
        (MagnetRequirement.preferred_certifications.through, preferred),
    ):
        for req_id, code in relation.objects.filter(
            magnetrequirement__in=requirements.values("id")
        ).values_list("magnetrequirement_id", "certification__code"):
            into[str(req_id)].append(code)
    # Positional and inlined: this builds one row per open requirement of a material.
    out = []
    for (raw_id, grade, shape, size_min, size_max, tolerance, coating, magnetisation, quantity,
         unit, mass_g, months, needed, lat, lon, budget, stamp) in rows:  # fmt: skip
        rid = id_text(raw_id)
        if seen is not None:
            seen[rid] = stamp
        out.append(
            RequirementRow(
                rid,
                grade,
                shape,
                size_min,
                size_max,
                tolerance,
                coating,
                magnetisation,
                quantity,
                unit == "pieces",
                mass_g / 1000.0,
                float(months),
                float(needed.toordinal()),
                NAN if lat is None else lat,
                NAN if lon is None else lon,
                NAN if budget is None else budget,
                tuple(sorted(required[rid])) if rid in required else (),
                tuple(sorted(preferred[rid])) if rid in preferred else (),
            )
        )
    return out


def pool_row(pool: MagnetPool) -> RequirementRow:
    """A pool as one requirement: the members' shared spec (their required certifications
    included) and their summed quantity (kg)."""
    return requirement_row(
        id=str(pool.id),
        material=pool.material,
        grade=pool.grade,
        shape=pool.shape,
        dimensions=pool.dimensions,
        tolerance_mm=float(pool.tolerance_mm),
        coating=pool.coating,
        magnetisation=pool.magnetisation,
        quantity=float(pool.quantity_kg_per_month),
        quantity_unit="kg",
        duration_months=pool.duration_months,
        needed_from=pool.needed_from,
        required=[c.code for c in pool.required_certifications.all()],
    )


# ------------------------------------------------------------------ querysets


def published_offers(*, material: str, day: date, buyer_id: object = None) -> QuerySet[MagnetOffer]:
    """Offers a requirement is paired with: published, of its material, not ended, and
    not of the buyer's own organisation (no self-leads, no self-made track record)."""
    return (
        MagnetOffer.objects.filter(status=OfferStatus.PUBLISHED, material=material)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .exclude(owner_id=buyer_id)
        .order_by("id")
    )


def open_requirements(*, material: str, maker_id: object = None) -> QuerySet[MagnetRequirement]:
    """Requirements an offer is paired with: open, of its material, not the maker's own."""
    return (
        MagnetRequirement.objects.filter(status=RequirementStatus.OPEN, material=material)
        .exclude(owner_id=maker_id)
        .order_by("id")
    )


# ------------------------------------------------------------------ pairing


def pair(requirements: Sequence[RequirementRow], offers: Sequence[OfferRow]) -> PairBatch:
    """Every (requirement, offer) pair of the two lists (one of them usually of one)."""
    if len(offers) == 1 and len(requirements) > 1:
        return pair_with_offer(requirements, offers[0])
    return pair_rows(requirements, offers)


def pair_rows(requirements: Sequence[RequirementRow], offers: Sequence[OfferRow]) -> PairBatch:
    """:func:`pair`, one pair at a time (any sizes)."""
    pairs = [(r, o) for r in requirements for o in offers]
    n = len(pairs)

    def floats(values: Iterable[float]) -> np.ndarray:
        return np.fromiter(values, dtype=np.float64, count=n)

    def bools(values: Iterable[bool]) -> np.ndarray:
        return np.fromiter(values, dtype=bool, count=n)

    grades = [grade_answer(r.grade, o.grades) for r, o in pairs]
    shape_spec = [o.shapes.get(r.shape) for r, o in pairs]
    return PairBatch(
        offer_ids=[o.id for _, o in pairs],
        requirement_ids=[r.id for r, _ in pairs],
        grade_met=bools(met for met, _ in grades),
        grade_label=[grade_label(r.grade) for r, _ in pairs],
        grade_note=[note for _, note in grades],
        shape=[r.shape for r, _ in pairs],
        shape_offered=bools(s is not None for s in shape_spec),
        size_min_mm=floats(r.size_min_mm for r, _ in pairs),
        size_max_mm=floats(r.size_max_mm for r, _ in pairs),
        tolerance_mm=floats(r.tolerance_mm for r, _ in pairs),
        offer_min_mm=floats(NAN if s is None else s[0] for s in shape_spec),
        offer_max_mm=floats(NAN if s is None else s[1] for s in shape_spec),
        offer_tolerance_mm=floats(NAN if s is None else s[2] for s in shape_spec),
        coating=[COATING_LABELS.get(r.coating, r.coating) for r, _ in pairs],
        coating_offered=bools(r.coating in o.coatings for r, o in pairs),
        magnetisation=[magnetisation_label(r.magnetisation) for r, _ in pairs],
        magnetisation_offered=bools(r.magnetisation in o.magnetisations for r, o in pairs),
        capacity=floats(o.capacity for _, o in pairs),
        capacity_is_pieces=bools(o.capacity_is_pieces for _, o in pairs),
        min_order=floats(o.min_order for _, o in pairs),
        min_order_is_pieces=bools(o.capacity_is_pieces for _, o in pairs),
        quantity=floats(r.quantity for r, _ in pairs),
        quantity_is_pieces=bools(r.quantity_is_pieces for r, _ in pairs),
        piece_mass_kg=floats(r.piece_mass_kg for r, _ in pairs),
        duration_months=floats(r.duration_months for r, _ in pairs),
        needed_from=floats(r.needed_from for r, _ in pairs),
        valid_until=floats(o.valid_until for _, o in pairs),
        valid_from=floats(o.valid_from for _, o in pairs),
        lead_time_days=floats(o.lead_time_days for _, o in pairs),
        delivery_latitude=floats(r.latitude for r, _ in pairs),
        delivery_longitude=floats(r.longitude for r, _ in pairs),
        plant_latitude=floats(o.latitude for _, o in pairs),
        plant_longitude=floats(o.longitude for _, o in pairs),
        past_supplies=floats(o.past_supplies for _, o in pairs),
        past_good=floats(o.past_good for _, o in pairs),
        budget_per_kg=floats(r.budget_per_kg for r, _ in pairs),
        price_min_per_kg=floats(o.price_min for _, o in pairs),
        price_max_per_kg=floats(o.price_max for _, o in pairs),
        required_missing=[[c for c in r.required if c not in o.certifications] for r, o in pairs],
        preferred_asked=floats(len(r.preferred) for r, _ in pairs),
        preferred_held=floats(sum(c in o.certifications for c in r.preferred) for r, o in pairs),
    )  # fmt: skip


def pair_with_offer(requirements: Sequence[RequirementRow], offer: OfferRow) -> PairBatch:
    """:func:`pair` for one offer and many requirements (an offer's run): the requirements'
    columns taken whole, the offer's broadcast, each rule asked once per distinct value.
    The same batch as :func:`pair_rows` (tests/matching/magnets/test_scoring.py)."""
    n = len(requirements)
    column = dict(zip(RequirementRow._fields, zip(*requirements, strict=True), strict=True))

    def floats(values: Iterable[float]) -> np.ndarray:
        return np.fromiter(values, dtype=np.float64, count=n)

    def full(value: float) -> np.ndarray:
        return np.full(n, value, dtype=np.float64)

    def flags(values: Sequence[str], allowed: frozenset[str]) -> np.ndarray:
        known = {v: v in allowed for v in set(values)}
        return np.fromiter((known[v] for v in values), dtype=bool, count=n)

    grades = column["grade"]
    answers = {g: grade_answer(g, offer.grades) for g in set(grades)}
    labels = {g: grade_label(g) for g in answers}
    shapes = column["shape"]
    spec = {shape: offer.shapes.get(shape) for shape in set(shapes)}
    nan_spec = (NAN, NAN, NAN)
    coatings, magnetisations = column["coating"], column["magnetisation"]
    coating_labels = {c: COATING_LABELS.get(c, c) for c in set(coatings)}
    magnetisation_labels = {m: magnetisation_label(m) for m in set(magnetisations)}
    certs = offer.certifications
    return PairBatch(
        offer_ids=[offer.id] * n,
        requirement_ids=list(column["id"]),
        grade_met=np.fromiter((answers[g][0] for g in grades), dtype=bool, count=n),
        grade_label=[labels[g] for g in grades],
        grade_note=[answers[g][1] for g in grades],
        shape=list(shapes),
        shape_offered=np.fromiter((spec[x] is not None for x in shapes), dtype=bool, count=n),
        size_min_mm=floats(column["size_min_mm"]),
        size_max_mm=floats(column["size_max_mm"]),
        tolerance_mm=floats(column["tolerance_mm"]),
        offer_min_mm=floats((spec[x] or nan_spec)[0] for x in shapes),
        offer_max_mm=floats((spec[x] or nan_spec)[1] for x in shapes),
        offer_tolerance_mm=floats((spec[x] or nan_spec)[2] for x in shapes),
        coating=[coating_labels[c] for c in coatings],
        coating_offered=flags(coatings, offer.coatings),
        magnetisation=[magnetisation_labels[m] for m in magnetisations],
        magnetisation_offered=flags(magnetisations, offer.magnetisations),
        capacity=full(offer.capacity),
        capacity_is_pieces=np.full(n, offer.capacity_is_pieces, dtype=bool),
        min_order=full(offer.min_order),
        min_order_is_pieces=np.full(n, offer.capacity_is_pieces, dtype=bool),
        quantity=floats(column["quantity"]),
        quantity_is_pieces=np.fromiter(column["quantity_is_pieces"], dtype=bool, count=n),
        piece_mass_kg=floats(column["piece_mass_kg"]),
        duration_months=floats(column["duration_months"]),
        needed_from=floats(column["needed_from"]),
        valid_until=full(offer.valid_until),
        valid_from=full(offer.valid_from),
        lead_time_days=full(offer.lead_time_days),
        delivery_latitude=floats(column["latitude"]),
        delivery_longitude=floats(column["longitude"]),
        plant_latitude=full(offer.latitude),
        plant_longitude=full(offer.longitude),
        past_supplies=full(offer.past_supplies),
        past_good=full(offer.past_good),
        budget_per_kg=floats(column["budget_per_kg"]),
        price_min_per_kg=full(offer.price_min),
        price_max_per_kg=full(offer.price_max),
        required_missing=[
            [c for c in required if c not in certs] if required else NOTHING
            for required in column["required"]
        ],
        preferred_asked=floats(len(p) for p in column["preferred"]),
        preferred_held=floats(sum(c in certs for c in p) for p in column["preferred"]),
    )


__all__ = [
    "OfferRow",
    "RequirementRow",
    "families_of",
    "grade_answer",
    "grade_label",
    "offer_rows",
    "open_requirements",
    "pair",
    "pair_rows",
    "pair_with_offer",
    "piece_mass_for",
    "pool_row",
    "published_offers",
    "requirement_row",
    "requirement_rows",
]
