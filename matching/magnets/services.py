"""Writes for magnet offers, requirements and their matches. Views validate the shape of
the input; these decide, queue the runs that keep both sides fresh, and record the events
in the same transaction (docs/magnets.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from matching.magnets import pools
from matching.magnets.candidates import piece_mass_for
from matching.magnets.choices import (
    BUYER_MOVES,
    MAKER_MOVES,
    MatchStatus,
    OfferStatus,
    RequirementStatus,
    RunTrigger,
)
from matching.magnets.models import MagnetMatch, MagnetOffer, MagnetRequirement, MagnetRun
from matching.magnets.runs import magnet_run_create, offer_matches_retire
from matching.magnets.scoring import size_extent_mm
from remag.accounts.caller import Caller
from remag.accounts.models import Organization, User
from remag.errors import Conflict, InvalidInput, NotAllowed
from remag.webhooks import events
from remag.webhooks.choices import EventType
from suppliers.grades import parse_grade

OFFER_M2M = ("certifications",)
REQUIREMENT_M2M = ("required_certifications", "preferred_certifications")


@dataclass(frozen=True)
class Actor:
    caller: Caller
    user: User | None


def _assign(obj: Any, data: dict[str, Any], m2m: tuple[str, ...]) -> None:
    for name, value in data.items():
        if name not in m2m:
            setattr(obj, name, value)


def _relate(obj: Any, data: dict[str, Any], m2m: tuple[str, ...]) -> None:
    for name in m2m:
        if name in data:
            getattr(obj, name).set(data[name])


def _changed(obj: Any, data: dict[str, Any], m2m: tuple[str, ...]) -> set[str]:
    """The names in ``data`` whose values differ from ``obj``'s (a PUT repeating the same
    values changes nothing)."""
    out = set()
    for name, value in data.items():
        if name in m2m:
            if {c.pk for c in getattr(obj, name).all()} != {c.pk for c in value}:
                out.add(name)
        elif getattr(obj, name) != value:
            out.add(name)
    return out


# ------------------------------------------------------------------ offers


@transaction.atomic
def offer_create(
    *, owner: Organization, created_by: User | None, data: dict[str, Any]
) -> MagnetOffer:
    offer = MagnetOffer(owner=owner, created_by=created_by)
    _assign(offer, data, OFFER_M2M)
    offer.save()
    _relate(offer, data, OFFER_M2M)
    return offer


@transaction.atomic
def offer_update(*, offer: MagnetOffer, data: dict[str, Any], by: User | None) -> MagnetOffer:
    """Change a draft or published offer; a published one's leads are rescored."""
    offer = MagnetOffer.objects.select_for_update().get(id=offer.id)
    if offer.status not in (OfferStatus.DRAFT, OfferStatus.PUBLISHED):
        raise Conflict(
            f"The offer is {offer.status}; only draft and published offers can be changed.",
            code="offer_not_editable",
        )
    _assign(offer, data, OFFER_M2M)
    offer.save()
    _relate(offer, data, OFFER_M2M)
    if offer.status == OfferStatus.PUBLISHED:
        magnet_run_create(offer=offer, trigger=RunTrigger.UPDATE, triggered_by=by)
    return offer


def _move_offer(offer: MagnetOffer, allowed: tuple[str, ...], verb: str) -> MagnetOffer:
    locked = MagnetOffer.objects.select_for_update().get(id=offer.id)
    if locked.status not in allowed:
        raise Conflict(
            f"A {locked.status} offer cannot be {verb}.",
            code="offer_status_conflict",
            current_status=locked.status,
        )
    return locked


@transaction.atomic
def offer_publish(*, offer: MagnetOffer, by: User | None) -> tuple[MagnetOffer, MagnetRun]:
    """Publish a draft: it becomes public and is matched to the open requirements."""
    offer = _move_offer(offer, (OfferStatus.DRAFT,), "published")
    if offer.valid_until is not None and offer.valid_until < timezone.localdate():
        raise InvalidInput(
            "The validity window has ended; change valid_until first.", field="valid_until"
        )
    offer.status = OfferStatus.PUBLISHED
    offer.published_at = timezone.now()
    offer.save(update_fields=["status", "published_at", "updated_at"])
    events.magnet_offer_event(EventType.MAGNET_OFFER_PUBLISHED, offer)
    run, _ = magnet_run_create(offer=offer, trigger=RunTrigger.PUBLISH, triggered_by=by)
    return offer, run


def maker_offers_rescore(*, owner_ids: Iterable[object]) -> list[MagnetRun]:
    """Queue a run of every published offer of the makers ``owner_ids`` (a run queued
    for an offer and never started is reused), for when what its offers are scored from changed
    outside the offers: the maker's supplier profile (the registered certificates an
    offer's declaration is checked against) or its track record (an outcome a buyer
    recorded). Each offer's run rescores it against every open requirement.

    Called once the change has committed (the callers use ``on_commit``): an offer
    published after this reads the change itself. Each run is queued in a transaction of
    its own, holding one offer's lock for as long as it takes to write the run's row."""
    queued = []
    offers = MagnetOffer.objects.filter(
        owner_id__in=list(owner_ids), status=OfferStatus.PUBLISHED
    ).order_by("id")
    for offer in offers:
        try:
            run, _ = magnet_run_create(offer=offer, trigger=RunTrigger.UPDATE)
        except Conflict:  # withdrawn or expired since read: nothing to rescore
            continue
        queued.append(run)
    return queued


def maker_offers_rescore_on_commit(owner_ids: Iterable[object]) -> None:
    """:func:`maker_offers_rescore` once the current transaction commits (at once
    outside one), in the committing process: the runs' rows are the record, and the
    sweep resends a run whose message is lost, so no message of its own stands between
    the change and them (a lost one would lose the rescore)."""
    owners = [str(owner) for owner in owner_ids]
    transaction.on_commit(lambda: maker_offers_rescore(owner_ids=owners), robust=True)


@transaction.atomic
def offer_withdraw(*, offer: MagnetOffer) -> MagnetOffer:
    offer = _move_offer(offer, (OfferStatus.DRAFT, OfferStatus.PUBLISHED), "withdrawn")
    offer.status = OfferStatus.WITHDRAWN
    offer.withdrawn_at = timezone.now()
    offer.save(update_fields=["status", "withdrawn_at", "updated_at"])
    offer_matches_retire(offer=offer, ended=OfferStatus.WITHDRAWN)
    events.magnet_offer_event(EventType.MAGNET_OFFER_WITHDRAWN, offer)
    return offer


# ------------------------------------------------------------------ requirements


def _derive(requirement: MagnetRequirement) -> None:
    """The grade's structure, the piece mass and the monthly quantity in kg."""
    spec = parse_grade(requirement.grade)
    requirement.energy_class = spec.energy_class
    requirement.temperature_class = spec.temperature_class
    mass_g = piece_mass_for(requirement.material, requirement.shape, requirement.dimensions)
    requirement.piece_mass_g = round(mass_g, 4)
    requirement.size_min_mm, requirement.size_max_mm = size_extent_mm(
        requirement.shape, requirement.dimensions
    )
    quantity = Decimal(requirement.quantity_per_month)
    kg = quantity if requirement.quantity_unit == "kg" else quantity * Decimal(mass_g) / 1000
    requirement.quantity_kg_per_month = kg.quantize(Decimal("0.001"))


@transaction.atomic
def requirement_create(
    *, owner: Organization, created_by: User | None, data: dict[str, Any]
) -> MagnetRequirement:
    requirement = MagnetRequirement(owner=owner, created_by=created_by)
    _assign(requirement, data, REQUIREMENT_M2M)
    _derive(requirement)
    requirement.save()
    _relate(requirement, data, REQUIREMENT_M2M)
    return requirement


@transaction.atomic
def requirement_update(
    *, requirement: MagnetRequirement, data: dict[str, Any], by: User | None
) -> MagnetRequirement:
    """Change a draft or open requirement; an open one is rescored."""
    requirement = MagnetRequirement.objects.select_for_update().get(id=requirement.id)
    if not requirement.is_editable:
        raise Conflict(
            f"The requirement is {requirement.status}; only draft and open ones can be changed.",
            code="requirement_not_editable",
        )
    changed = _changed(requirement, data, REQUIREMENT_M2M)
    _assign(requirement, data, REQUIREMENT_M2M)
    _derive(requirement)
    requirement.save()
    _relate(requirement, data, REQUIREMENT_M2M)
    if requirement.pool_id is not None and changed - {"title"}:
        # A changed spec (or an opt-out) may no longer fit the pool: it leaves, and may
        # pool again after its run.
        pools.pool_leave(requirement=requirement)
    if requirement.status == RequirementStatus.OPEN:
        magnet_run_create(requirement=requirement, trigger=RunTrigger.UPDATE, triggered_by=by)
    return requirement


def _move_requirement(
    requirement: MagnetRequirement, allowed: tuple[str, ...], to: str, verb: str
) -> MagnetRequirement:
    locked = MagnetRequirement.objects.select_for_update().get(id=requirement.id)
    if locked.status not in allowed:
        raise Conflict(
            f"A {locked.status} requirement cannot be {verb}.",
            code="requirement_status_conflict",
            current_status=locked.status,
        )
    locked.status = to
    return locked


@transaction.atomic
def requirement_open(
    *, requirement: MagnetRequirement, by: User | None
) -> tuple[MagnetRequirement, MagnetRun]:
    """Open a draft: it is matched to the published offers and becomes a lead for them."""
    requirement = _move_requirement(
        requirement, (RequirementStatus.DRAFT,), RequirementStatus.OPEN, "opened"
    )
    if requirement.needed_from < timezone.localdate():
        raise InvalidInput(
            "The needed-from date has passed; change it before opening.", field="needed_from"
        )
    requirement.published_at = timezone.now()
    requirement.save(update_fields=["status", "published_at", "updated_at"])
    events.magnet_requirement_event(EventType.MAGNET_REQUIREMENT_OPENED, requirement)
    run, _ = magnet_run_create(requirement=requirement, trigger=RunTrigger.PUBLISH, triggered_by=by)
    return requirement, run


def _end(requirement: MagnetRequirement, allowed: tuple[str, ...], to: str, verb: str) -> Any:
    requirement = _move_requirement(requirement, allowed, to, verb)
    requirement.closed_at = timezone.now()
    requirement.save(update_fields=["status", "closed_at", "updated_at"])
    pools.pool_leave(requirement=requirement)
    events.magnet_requirement_event(EventType.MAGNET_REQUIREMENT_CLOSED, requirement)
    return requirement


@transaction.atomic
def requirement_close(*, requirement: MagnetRequirement) -> MagnetRequirement:
    """Supply arranged, or no longer needed: no more leads; matches stay."""
    return _end(requirement, (RequirementStatus.OPEN,), RequirementStatus.CLOSED, "closed")


@transaction.atomic
def requirement_cancel(*, requirement: MagnetRequirement) -> MagnetRequirement:
    return _end(
        requirement,
        (RequirementStatus.DRAFT, RequirementStatus.OPEN),
        RequirementStatus.CANCELLED,
        "cancelled",
    )


# ------------------------------------------------------------------ matches


def parties_of(caller: Caller, match: MagnetMatch) -> set[str]:
    out = set()
    if caller.acts_for(match.requirement.owner_id):
        out.add("buyer")
    if caller.acts_for(match.offer.owner_id):
        out.add("maker")
    return out


@transaction.atomic
def match_transition(*, match: MagnetMatch, to_status: str, actor: Actor) -> MagnetMatch:
    """The buyer says interested (sharing its identity with the maker) or dismisses a
    proposed offer; the maker then accepts or declines an interested buyer."""
    match = (
        MagnetMatch.objects.select_for_update(of=("self",))
        .select_related("requirement", "offer")
        .get(id=match.id)
    )
    parties = parties_of(actor.caller, match)
    buyer_may = BUYER_MOVES.get(match.status, frozenset())
    maker_may = MAKER_MOVES.get(match.status, frozenset())
    if to_status not in buyer_may | maker_may:
        raise Conflict(
            f"A {match.status} match cannot become {to_status}.",
            code="match_transition_conflict",
            current_status=match.status,
        )
    who = "buyer" if to_status in buyer_may else "maker"
    if who not in parties:
        raise NotAllowed(f"Only the {who} may make a match {to_status}.")
    if who == "buyer" and match.requirement.status != RequirementStatus.OPEN:
        raise Conflict(
            f"The requirement is {match.requirement.status}.", code="requirement_status_conflict"
        )
    now = timezone.now()
    match.status = to_status
    match.status_changed_at = now
    if to_status == MatchStatus.INTERESTED:
        match.contact_shared_at = now
    match.save(update_fields=["status", "status_changed_at", "contact_shared_at", "updated_at"])
    if to_status == MatchStatus.INTERESTED:
        events.magnet_match_event(EventType.MAGNET_MATCH_INTERESTED, match)
    elif to_status == MatchStatus.DISMISSED:
        events.magnet_match_event(EventType.MAGNET_MATCH_DISMISSED, match)
    elif to_status in (MatchStatus.ACCEPTED, MatchStatus.DECLINED):
        events.magnet_match_event(EventType.MAGNET_MATCH_ANSWERED, match, decision=to_status)
    return match


@transaction.atomic
def match_record_outcome(*, match: MagnetMatch, outcome: str, actor: Actor) -> MagnetMatch:
    """The buyer says how an accepted supply went; it feeds the maker's track record."""
    match = (
        MagnetMatch.objects.select_for_update(of=("self",))
        .select_related("requirement", "offer")
        .get(id=match.id)
    )
    if "buyer" not in parties_of(actor.caller, match):
        raise NotAllowed("Only the buyer may record the outcome.")
    if match.status != MatchStatus.ACCEPTED:
        raise Conflict(
            "Only a match the maker accepted has an outcome.",
            code="match_not_accepted",
            current_status=match.status,
        )
    changed = match.outcome != outcome
    match.outcome = outcome
    match.save(update_fields=["outcome", "updated_at"])
    events.magnet_match_event(EventType.MAGNET_MATCH_OUTCOME, match, outcome=outcome)
    if changed and match.requirement.owner_id != match.offer.owner_id:
        # The maker's track record moved: every pair of its offers scores it.
        maker_offers_rescore_on_commit([match.offer.owner_id])
    return match
