"""Keep calls' matches fresh when the registry changes (connected in ``apps.py``)."""

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from suppliers.signals import supplier_changed


@receiver(supplier_changed, dispatch_uid="collaboration.schedule_calls_refresh")
def schedule_calls_refresh(supplier_id: object, **_: Any) -> None:
    """After the change commits, queue a run of each open call the supplier relates to
    (``runs.supplier_calls_refresh``; nothing but one query when no call is open)."""
    from matching.collaboration.runs import supplier_calls_refresh

    transaction.on_commit(lambda: supplier_calls_refresh(supplier_id=supplier_id), robust=True)
