"""The registry's own reactions to its changes (connected in ``apps.py``)."""

from typing import Any

from django.dispatch import receiver

from remag.celery import enqueue_on_commit
from suppliers.signals import supplier_changed


@receiver(supplier_changed, dispatch_uid="suppliers.schedule_representation_refresh")
def schedule_representation_refresh(supplier_id: object, **_: Any) -> None:
    """Rebuild the supplier's stored list representation once the change commits (the
    triggers have cleared it; until the refresh runs, the list builds it live)."""
    from suppliers.tasks import representations_refresh as task

    enqueue_on_commit(task, [str(supplier_id)])
