"""Keep magnet leads fresh when a maker's registration changes (connected in ``apps.py``).

An offer's certifications count only as far as its maker's supplier profile registers
them (``candidates.registered_certifications``), so a change of that profile (its
certificates, or its being registered or deactivated) changes the maker's pairs without
any offer changing: every published offer of the maker is rescored.
"""

from typing import Any

from django.db.models import Subquery
from django.dispatch import receiver

from matching.magnets.choices import OfferStatus
from matching.magnets.models import MagnetOffer
from remag.celery import enqueue_on_commit
from suppliers.models import Supplier
from suppliers.signals import supplier_changed


@receiver(supplier_changed, dispatch_uid="magnets.rescore_maker_offers")
def rescore_maker_offers(supplier_id: object, **_: Any) -> None:
    """Queue the maker's offer runs once the change commits, if it has published offers
    (one query; most suppliers make no magnets)."""
    from matching.magnets.tasks import maker_offers_rescore as task

    owner = Supplier.objects.filter(id=supplier_id).values("owner_id")
    offers = MagnetOffer.objects.filter(owner_id=Subquery(owner), status=OfferStatus.PUBLISHED)
    owner_id = offers.values_list("owner_id", flat=True).first()
    if owner_id is not None:
        enqueue_on_commit(task, str(owner_id))
