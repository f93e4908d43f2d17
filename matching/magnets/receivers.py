"""Keep magnet leads fresh when a maker's registration changes (connected in ``apps.py``).

An offer's certifications count only as far as its maker's supplier profile registers
them (``candidates.registered_certifications``), so a change of that profile (its
certificates, its being registered, deactivated, suspended, verified (which also
lifts a suspension) or claimed by another organisation) changes the maker's pairs
without any offer changing: every published offer of the maker is rescored.
"""

from typing import Any

from django.dispatch import receiver

from matching.magnets import services
from suppliers.models import Supplier
from suppliers.signals import supplier_changed


@receiver(supplier_changed, dispatch_uid="magnets.rescore_maker_offers")
def rescore_maker_offers(supplier_id: object, previous_owner_id: object = None, **_: Any) -> None:
    """Once the change commits, queue the runs of the published offers of the profile's
    owner (and of its previous owner, for a claim); most owners make no magnets, and
    then this is two indexed reads. The offers are looked up after the commit, so one
    published meanwhile is not missed."""
    owners = set(Supplier.objects.filter(id=supplier_id).values_list("owner_id", flat=True))
    if previous_owner_id is not None:
        owners.add(previous_owner_id)
    services.maker_offers_rescore_on_commit(owners)
