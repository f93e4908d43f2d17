"""Reads of calls for collaboration: who sees which calls, matches and interests."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from matching.collaboration.access import call_visible_q, nda_digest
from matching.collaboration.models import (
    CallMatch,
    CallNearMiss,
    CallRun,
    CollaborationCall,
    ExpressionOfInterest,
    NdaAcknowledgement,
)
from remag.accounts.caller import Caller
from suppliers.access import supplier_managed_q
from suppliers.models import Capability, Supplier

_CODES = Capability.objects.only("id", "code")


def call_list(*, caller: Caller) -> QuerySet[CollaborationCall]:
    """The calls the caller may read, with their taxonomy codes and the caller's own
    NDA acknowledgements prefetched (the serializer decides what each caller sees)."""
    return (
        CollaborationCall.objects.filter(call_visible_q(caller))
        .prefetch_related(
            Prefetch("required_capabilities", queryset=_CODES),
            Prefetch("required_facilities", queryset=_CODES),
            Prefetch("preferred_facilities", queryset=_CODES),
            Prefetch(
                "nda_acknowledgements",
                queryset=NdaAcknowledgement.objects.filter(
                    organization_id__in=caller.organization_ids
                ),
                to_attr="caller_acknowledgements",
            ),
        )
        .order_by("-created_at", "id")
    )


def details_visible(*, caller: Caller, call: CollaborationCall) -> bool:
    """As :func:`access.call_details_visible`, from the prefetched acknowledgements."""
    if caller.may_access(call.owner_id) or not call.requires_nda:
        return True
    digest = nda_digest(call.nda_text)
    acks = getattr(call, "caller_acknowledgements", None)
    if acks is None:
        acks = list(call.nda_acknowledgements.filter(organization_id__in=caller.organization_ids))
    return any(a.text_sha256 == digest for a in acks)


def caller_acknowledged_at(*, caller: Caller, call: CollaborationCall) -> object:
    digest = nda_digest(call.nda_text)
    for ack in getattr(call, "caller_acknowledgements", ()):
        if ack.text_sha256 == digest:
            return ack.acknowledged_at
    return None


def matches_of(*, call: CollaborationCall) -> QuerySet[CallMatch]:
    return CallMatch.objects.filter(call=call).select_related("supplier").order_by("rank", "id")


def near_misses_of(*, call: CollaborationCall) -> QuerySet[CallNearMiss]:
    return CallNearMiss.objects.filter(call=call).select_related("supplier").order_by("supplier_id")


def runs_of(*, call: CollaborationCall) -> QuerySet[CallRun]:
    return CallRun.objects.filter(call=call).order_by("-created_at", "id")


def run_list(*, caller: Caller) -> QuerySet[CallRun]:
    runs = CallRun.objects.all()
    if not caller.is_operator:
        runs = runs.filter(call__owner_id__in=caller.organization_ids)
    return runs.order_by("-created_at", "id")


def interest_list(*, caller: Caller) -> QuerySet[ExpressionOfInterest]:
    """The poster sees the interests in its calls; the respondent its own; operators all."""
    queryset = ExpressionOfInterest.objects.select_related("call", "supplier", "match")
    if not caller.is_operator:
        managed = Supplier.objects.filter(supplier_managed_q(caller)).values("id")
        queryset = queryset.filter(
            Q(call__owner_id__in=caller.organization_ids)
            | Q(supplier_id__in=managed)
            | Q(organization_id__in=caller.organization_ids)
        )
    return queryset.order_by("-submitted_at", "id")
