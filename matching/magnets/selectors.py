"""Reads of the magnet market, already limited to what the caller may see.

* Offers: published ones are public (to anyone signed in: makers publish to be found);
  drafts, withdrawn and expired ones only to their maker and operators.
* Requirements: their buyer and operators. A maker reads a requirement only as a lead
  (a match with one of its offers), with the buyer's name once the buyer is interested.
* Matches: the buyer, the maker and operators. Pools: makers, operators and the members'
  buyers; never who the members are.
* Aggregated demand: makers and operators (``demand.py``).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from matching.magnets.choices import OfferStatus, PoolStatus, RequirementStatus
from matching.magnets.models import (
    MagnetMatch,
    MagnetNearMiss,
    MagnetOffer,
    MagnetPool,
    MagnetRequirement,
    MagnetRun,
)
from remag.accounts.caller import Caller
from remag.accounts.choices import OrganizationKind
from remag.errors import NotAllowed

MAKER_KINDS = frozenset({OrganizationKind.MANUFACTURER})
# Who may post a magnet requirement: downstream SMEs, and manufacturers that buy magnets.
BUYER_KINDS = (OrganizationKind.SME, OrganizationKind.MANUFACTURER)


def is_maker(caller: Caller) -> bool:
    return bool(caller.organization_kinds & MAKER_KINDS)


def offer_list(*, caller: Caller) -> QuerySet[MagnetOffer]:
    queryset = MagnetOffer.objects.select_related("owner").prefetch_related("certifications")
    if caller.is_operator:
        return queryset
    return queryset.filter(
        Q(status=OfferStatus.PUBLISHED) | Q(owner_id__in=caller.organization_ids)
    )


def requirement_list(*, caller: Caller) -> QuerySet[MagnetRequirement]:
    queryset = MagnetRequirement.objects.select_related("owner", "pool").prefetch_related(
        "required_certifications", "preferred_certifications"
    )
    if caller.is_operator:
        return queryset
    return queryset.filter(owner_id__in=caller.organization_ids)


def run_list(*, caller: Caller) -> QuerySet[MagnetRun]:
    queryset = MagnetRun.objects.all()
    if caller.is_operator:
        return queryset
    ids = caller.organization_ids
    return queryset.filter(Q(requirement__owner_id__in=ids) | Q(offer__owner_id__in=ids))


def runs_of(
    *, requirement: MagnetRequirement | None = None, offer: MagnetOffer | None = None
) -> QuerySet[MagnetRun]:
    if requirement is not None:
        return MagnetRun.objects.filter(requirement=requirement)
    return MagnetRun.objects.filter(offer=offer)


def _matches() -> QuerySet[MagnetMatch]:
    """Matches with what their serializer reads (the offer and its maker, the requirement,
    its buyer and its required certifications), in a fixed number of queries."""
    return MagnetMatch.objects.select_related(
        "requirement", "requirement__owner", "offer", "offer__owner"
    ).prefetch_related("requirement__required_certifications")


# A draft requirement may be run (its buyer previews the offers) but is nobody's lead.
NOT_A_LEAD = Q(requirement__status=RequirementStatus.DRAFT)


def match_list(*, caller: Caller) -> QuerySet[MagnetMatch]:
    queryset = _matches()
    if caller.is_operator:
        return queryset
    ids = caller.organization_ids
    return queryset.filter(
        Q(requirement__owner_id__in=ids) | (Q(offer__owner_id__in=ids) & ~NOT_A_LEAD)
    )


def matches_of_requirement(*, requirement: MagnetRequirement) -> QuerySet[MagnetMatch]:
    """The requirement's ranked offers, best first (ties by offer id)."""
    return _matches().filter(requirement=requirement).order_by("-score", "offer_id")


def leads_of_offer(*, offer: MagnetOffer) -> QuerySet[MagnetMatch]:
    """The offer's leads: open requirements it matches, best first by the score the maker
    reads (its public score), ties by requirement."""
    return (
        _matches()
        .filter(offer=offer)
        .exclude(NOT_A_LEAD)
        .order_by("-public_score", "requirement_id")
    )


def leads_of_maker(*, caller: Caller) -> QuerySet[MagnetMatch]:
    """Every lead of the caller's offers (operators: all), best first by public score."""
    queryset = _matches().exclude(NOT_A_LEAD)
    if not caller.is_operator:
        queryset = queryset.filter(offer__owner_id__in=caller.organization_ids)
    return queryset.order_by("-public_score", "requirement_id", "offer_id")


def near_misses_of(
    *, requirement: MagnetRequirement | None = None, offer: MagnetOffer | None = None
) -> QuerySet[MagnetNearMiss]:
    if requirement is not None:
        return (
            MagnetNearMiss.objects.filter(requirement=requirement)
            .select_related("offer", "offer__owner")
            .order_by("offer_id")
        )
    return (
        MagnetNearMiss.objects.filter(offer=offer)
        .exclude(NOT_A_LEAD)
        .select_related("requirement")
        .prefetch_related("requirement__required_certifications")
        .order_by("requirement_id")
    )


def pool_list(*, caller: Caller) -> QuerySet[MagnetPool]:
    queryset = MagnetPool.objects.select_related("answered_offer").prefetch_related(
        "required_certifications"
    )
    if caller.is_operator:
        return queryset
    if is_maker(caller):
        return queryset.exclude(status=PoolStatus.DISSOLVED)
    return queryset.filter(members__owner_id__in=caller.organization_ids).distinct()


def demand_check(*, caller: Caller) -> None:
    if not (caller.is_operator or is_maker(caller)):
        raise NotAllowed("Only magnet makers and operators see the aggregated demand.")
