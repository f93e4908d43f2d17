"""A demo call for collaboration for `make run`, opened (and so matched) by the demo
manufacturer. Needs the demo accounts (``seed_demo --with-accounts``) and the taxonomy.
Never run this on a real deployment."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from matching.collaboration import services
from matching.collaboration.models import CollaborationCall
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization
from suppliers.models import Capability

DEMO_CALL: dict[str, Any] = {
    "kind": "co_development",
    "topic": "Heavy-rare-earth-free sintered NdFeB for traction motors",
    "summary": "Co-develop grain-boundary diffusion and Ce/La substitution for "
    "heavy-rare-earth-free N42SH-class magnets, with prototyping and magnetic testing.",
    "description": "Target: HcJ of at least 1.6 MA/m at 20 °C without Dy or Tb, Br of at "
    "least 1.28 T; 20 kg of trial alloy a month from our strip caster; results shared "
    "under the NDA.",
    "required_capabilities": ["materials-rnd", "prototyping", "test-method-development"],
    "preferred_facilities": ["facility-vsm", "facility-sem-eds", "facility-xrd"],
    "requires_nda": True,
    "nda_text": "The recipient keeps the call's technical details and results confidential "
    "for five years and uses them only to prepare its expression of interest.",
    "latitude": 12.84,
    "longitude": 77.66,
    "contact_name": "Demo R&D Lead",
    "contact_email": "rnd@demo-buyer.remag.invalid",
}


def demo_calls_ensure() -> int:
    """Post and open the demo call for the demo manufacturer (once); its run is queued on
    commit (in-process without a broker). Returns the number of calls created."""
    poster = Organization.objects.filter(
        name__startswith="Demo ", kind=OrganizationKind.MANUFACTURER
    ).first()
    if poster is None or CollaborationCall.objects.filter(owner=poster).exists():
        return 0
    today = timezone.localdate()
    data = dict(DEMO_CALL)
    for name in ("required_capabilities", "preferred_facilities"):
        data[name] = list(Capability.objects.filter(code__in=DEMO_CALL[name], is_active=True))
    data["timeframe_start"] = today + timedelta(days=30)
    data["timeframe_end"] = today + timedelta(days=395)
    data["response_deadline"] = today + timedelta(days=21)
    with transaction.atomic():
        call = services.call_create(owner=poster, created_by=None, data=data)
        services.call_open(call=call, by=None)
    return 1
