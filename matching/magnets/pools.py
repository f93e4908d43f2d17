"""Pooled requirements: small buyers' requirements grouped into one a maker can answer.

The rules (docs/magnets.md, "Pooled requirements"):

* **Who may be pooled.** An open requirement whose buyer opted in (``pool_opt_in``),
  in no open or answered pool, that is a near miss of at least one published offer on
  the minimum order alone (it would qualify but for its size).
* **Who pools with whom.** The same material, grade (energy and temperature class),
  shape, coating, magnetisation, delivery state and required certifications (an
  answering maker must hold them all, as for any member alone); every dimension within
  the tighter of the two tolerances of the pool's first member (its anchor); ``needed_from`` within
  :data:`~matching.magnets.choices.POOL_NEEDED_FROM_WINDOW_DAYS` days of the anchor's.
  A requirement joins an open pool it fits before a new pool is formed; a new pool needs
  :data:`~matching.magnets.choices.POOL_MIN_MEMBERS` members.
* **The pooled spec.** The anchor's dimensions, the tightest member tolerance, the
  earliest ``needed_from``, the shortest duration, and the members' monthly quantities
  summed in kg. A maker answers the pool as one (``pool_answer``), with a published
  offer that meets the pooled spec outright (every hard constraint, the minimum order and
  capacity against the summed quantity).
* **Leaving.** A member closed or cancelled leaves its pool; an open pool left with
  fewer than two members is dissolved and the rest may pool again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from matching.magnets import candidates, scoring
from matching.magnets.choices import (
    MAX_QUANTITY_COLUMN,
    POOL_MIN_MEMBERS,
    POOL_NEEDED_FROM_WINDOW_DAYS,
    OfferStatus,
    PoolStatus,
    RequirementStatus,
)
from matching.magnets.models import MagnetNearMiss, MagnetOffer, MagnetPool, MagnetRequirement
from remag.errors import Conflict, InvalidInput
from remag.webhooks import events
from remag.webhooks.choices import EventType

POOL_LOCK_KEY = 7_305_118_001  # any constant; names the pooling lock
POOL_KEY = ("material", "grade", "shape", "coating", "magnetisation", "delivery_state")


def dimensions_fit(a: dict[str, float], b: dict[str, float], tolerance_mm: float) -> bool:
    """Every dimension of ``a`` within ``tolerance_mm`` of ``b``'s (an arc's angle within
    one degree)."""
    if set(a) != set(b):
        return False
    for name, value in a.items():
        allowed = 1.0 if name == "angle_deg" else tolerance_mm
        if abs(float(value) - float(b[name])) > allowed + 1e-9:
            return False
    return True


def required_of(obj: MagnetRequirement | MagnetPool) -> tuple[str, ...]:
    """The sorted codes of the required certifications (prefetched or read)."""
    return tuple(sorted(c.code for c in obj.required_certifications.all()))


def _fits(anchor: MagnetRequirement | MagnetPool, candidate: MagnetRequirement) -> bool:
    tolerance = float(min(anchor.tolerance_mm, candidate.tolerance_mm))
    window = timedelta(days=POOL_NEEDED_FROM_WINDOW_DAYS)
    return abs(candidate.needed_from - anchor.needed_from) <= window and dimensions_fit(
        candidate.dimensions, anchor.dimensions, tolerance
    )


def pool_eligible(*, material: str | None = None) -> list[MagnetRequirement]:
    """Requirements that may be pooled now (see the module's rules)."""
    queryset = MagnetRequirement.objects.filter(
        status=RequirementStatus.OPEN, pool_opt_in=True, pool__isnull=True
    )
    if material is not None:
        queryset = queryset.filter(material=material)
    short = MagnetNearMiss.objects.filter(
        constraint="min_order", offer__status=OfferStatus.PUBLISHED
    ).values("requirement_id")
    return list(
        queryset.filter(id__in=short)
        .prefetch_related("required_certifications")
        .order_by("needed_from", "id")
    )


def _refresh(pool: MagnetPool) -> MagnetPool:
    members = list(pool.members.filter(status=RequirementStatus.OPEN).order_by("needed_from", "id"))
    pool.tolerance_mm = min(m.tolerance_mm for m in members)
    pool.needed_from = min(m.needed_from for m in members)
    pool.duration_months = min(m.duration_months for m in members)
    # Capped at what the column holds: one pool's sum must never break pool forming
    # (members are at most MAX_KG_PER_MONTH each; rows written before that cap may not be).
    total = sum((m.quantity_kg_per_month for m in members), Decimal(0))
    pool.quantity_kg_per_month = min(total, Decimal(MAX_QUANTITY_COLUMN))
    pool.save()
    return pool


def member_count(pool: MagnetPool) -> int:
    return pool.members.filter(status=RequirementStatus.OPEN).count()


def _event(
    event_type: str,
    pool: MagnetPool,
    extra: Iterable[object] = (),
    audience: Iterable[object] | None = None,
) -> None:
    """To the members' buyers (or ``audience``), and ``extra``."""
    pool.member_count = member_count(pool)  # type: ignore[attr-defined]
    pool.quantity_kg_float = float(pool.quantity_kg_per_month)  # type: ignore[attr-defined]
    if audience is None:
        audience = pool.members.values_list("owner_id", flat=True).distinct()
    events.magnet_pool_event(event_type, pool, [*audience, *extra])


def _pool_key(obj: MagnetRequirement | MagnetPool) -> tuple[object, ...]:
    """What a requirement and a pool must share to pool (``POOL_KEY`` and the required
    certifications)."""
    return (*(getattr(obj, f) for f in POOL_KEY), required_of(obj))


def _open_pools_of(
    groups: dict[tuple[object, ...], list[MagnetRequirement]], *, material: str | None
) -> dict[tuple[object, ...], list[MagnetPool]]:
    """The open pools a waiting group could join, by key, locked (``FOR UPDATE``: an
    answer or a member leaving waits for the forming) and read again under the lock.

    Two queries (each with its prefetch of the certifications) whatever the number of
    groups: a run against 50,000 requirements left some 230 groups of one waiting
    requirement, and a query each for their open pools took a quarter of a second after
    every run (bench/bench_magnets.py)."""
    if not groups:
        return {}
    candidates = MagnetPool.objects.filter(status=PoolStatus.OPEN).prefetch_related(
        "required_certifications"
    )
    if material is not None:
        candidates = candidates.filter(material=material)
    wanted = [pool.id for pool in candidates if _pool_key(pool) in groups]
    if not wanted:
        return {}
    locked = (
        MagnetPool.objects.select_for_update()
        .filter(id__in=wanted, status=PoolStatus.OPEN)
        .prefetch_related("required_certifications")
    )
    by_key: dict[tuple[object, ...], list[MagnetPool]] = defaultdict(list)
    for pool in locked:
        by_key[_pool_key(pool)].append(pool)
    return by_key


@transaction.atomic
def pools_form(*, material: str | None = None) -> list[MagnetPool]:
    """Put eligible requirements into pools (existing open ones first). Returns the pools
    formed or grown. One at a time (a transaction-scoped advisory lock on PostgreSQL), so
    two runs finishing together never pool the same requirements twice."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [POOL_LOCK_KEY])
    groups: dict[tuple[object, ...], list[MagnetRequirement]] = defaultdict(list)
    for requirement in pool_eligible(material=material):
        groups[_pool_key(requirement)].append(requirement)
    changed: list[MagnetPool] = []
    open_pools = _open_pools_of(groups, material=material)
    for (*key, required), waiting in groups.items():
        spec = dict(zip(POOL_KEY, key, strict=True))
        for pool in open_pools.get((*key, required), ()):
            joining = [r for r in waiting if _fits(pool, r)]
            if joining:
                MagnetRequirement.objects.filter(id__in=[r.id for r in joining]).update(pool=pool)
                waiting = [r for r in waiting if r not in joining]
                changed.append(_refresh(pool))
                _event(EventType.MAGNET_POOL_JOINED, pool, audience={r.owner_id for r in joining})
        while len(waiting) >= POOL_MIN_MEMBERS:
            anchor, *rest = waiting
            members = [anchor, *(r for r in rest if _fits(anchor, r))]
            waiting = [r for r in waiting if r not in members]
            if len(members) < POOL_MIN_MEMBERS:
                continue
            pool = MagnetPool(
                **spec,
                dimensions=anchor.dimensions,
                tolerance_mm=anchor.tolerance_mm,
                needed_from=anchor.needed_from,
                duration_months=anchor.duration_months,
                quantity_kg_per_month=Decimal(0),
            )
            pool.save()
            pool.required_certifications.set(anchor.required_certifications.all())
            MagnetRequirement.objects.filter(id__in=[r.id for r in members]).update(pool=pool)
            _refresh(pool)
            _event(EventType.MAGNET_POOL_FORMED, pool)
            changed.append(pool)
    return changed


def pool_leave(*, requirement: MagnetRequirement) -> None:
    """Take a closed or cancelled requirement out of its open pool; dissolve a pool left
    with fewer than two members. Call in the requirement's transaction."""
    pool = requirement.pool
    if pool is None or pool.status != PoolStatus.OPEN:
        return
    MagnetRequirement.objects.filter(id=requirement.id).update(pool=None)
    requirement.pool = None
    if member_count(pool) < POOL_MIN_MEMBERS:
        pool.status = PoolStatus.DISSOLVED
        pool.dissolved_at = timezone.now()
        pool.save(update_fields=["status", "dissolved_at", "updated_at"])
        _event(EventType.MAGNET_POOL_DISSOLVED, pool, extra=[requirement.owner_id])
        pool.members.update(pool=None)
    else:
        _refresh(pool)


def pool_check(pool: MagnetPool, offer: MagnetOffer) -> scoring.ScoringResult:
    """Score the pooled spec against ``offer`` (the requirement-side scoring, as one)."""
    day = timezone.localdate()
    offer_row = candidates.offer_rows(MagnetOffer.objects.filter(id=offer.id))
    batch = candidates.pair([candidates.pool_row(pool)], offer_row)
    return scoring.score(batch, run_date=day)


@transaction.atomic
def pool_answer(
    *, pool: MagnetPool, offer: MagnetOffer, acting_for: Sequence[object]
) -> MagnetPool:
    """A maker answers an open pool with one of its published offers that meets the pooled
    spec outright."""
    pool = MagnetPool.objects.select_for_update().get(id=pool.id)
    if offer.owner_id not in acting_for:
        raise InvalidInput("Answer with an offer of your own.", field="offer")
    if pool.status != PoolStatus.OPEN:
        raise Conflict(f"The pool is {pool.status}.", code="pool_not_open")
    if offer.status != OfferStatus.PUBLISHED or offer.material != pool.material:
        raise InvalidInput("Answer with a published offer of the pool's material.", field="offer")
    result = pool_check(pool, offer)
    if result.matched_count == 0:
        misses = result.near_misses()
        why = misses[0].reason if misses else "it misses several of the pooled spec's constraints"
        raise InvalidInput(f"The offer does not meet the pooled requirement: {why}.", field="offer")
    pool.status = PoolStatus.ANSWERED
    pool.answered_offer = offer
    pool.answered_at = timezone.now()
    pool.save(update_fields=["status", "answered_offer", "answered_at", "updated_at"])
    _event(EventType.MAGNET_POOL_ANSWERED, pool, extra=[offer.owner_id])
    return pool
