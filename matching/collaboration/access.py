"""Who may see what of a call for collaboration: the one rule, used by the selectors,
the services and the admin."""

from __future__ import annotations

import hashlib

from django.db.models import Q

from matching.collaboration.choices import CallStatus
from matching.collaboration.models import CollaborationCall, NdaAcknowledgement
from remag.accounts.caller import Caller

# Calls every signed-in caller reads (their public part); drafts and cancelled calls are
# the poster's (and operators').
PUBLIC_STATUSES = (CallStatus.OPEN, CallStatus.CLOSED, CallStatus.AWARDED)


def call_visible_q(caller: Caller) -> Q:
    if caller.is_operator:
        return Q()
    return Q(status__in=PUBLIC_STATUSES) | Q(owner_id__in=caller.organization_ids)


def nda_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def call_is_poster(*, caller: Caller, call: CollaborationCall) -> bool:
    """The caller acts for the poster (or is an operator): sees everything of the call."""
    return caller.may_access(call.owner_id)


def nda_acknowledged_by(*, call: CollaborationCall, organization_ids: object) -> bool:
    """An organisation among ``organization_ids`` acknowledged the call's current NDA."""
    return NdaAcknowledgement.objects.filter(
        call=call, organization_id__in=organization_ids, text_sha256=nda_digest(call.nda_text)
    ).exists()


def call_details_visible(*, caller: Caller, call: CollaborationCall) -> bool:
    """The confidential details: the poster, operators, anyone when no NDA is required,
    else an organisation of the caller that acknowledged the current NDA text."""
    if call_is_poster(caller=caller, call=call) or not call.requires_nda:
        return True
    return nda_acknowledged_by(call=call, organization_ids=caller.organization_ids)
