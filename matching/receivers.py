"""Keep opportunities fresh when the registry changes (connected in ``apps.py``)."""

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver

from remag.celery import enqueue_on_commit
from suppliers.signals import supplier_changed


def debounce_key(supplier_id: object) -> str:
    return f"remag:opportunities-refresh:{supplier_id}"


@receiver(supplier_changed, dispatch_uid="matching.schedule_opportunities_refresh")
def schedule_opportunities_refresh(supplier_id: object, **_: Any) -> None:
    """Refresh the supplier's opportunities once its burst of changes is over.

    The first change marks the supplier in the cache for the debounce window and sends
    the refresh with a countdown just past it; changes inside the window find the mark
    and send nothing, and the refresh, which runs after all of them, sees them all. With
    tasks in-process (no Redis) there is no window: each change refreshes at once.
    """
    from matching.tasks import supplier_opportunities_refresh as task

    window = settings.REMAG_OPPORTUNITY_REFRESH_DEBOUNCE_SECONDS
    if settings.CELERY_TASK_ALWAYS_EAGER or window <= 0:
        enqueue_on_commit(task, str(supplier_id))
        return

    def send() -> None:
        if cache.add(debounce_key(supplier_id), "1", timeout=window):
            task.apply_async(args=[str(supplier_id)], countdown=window + 1)

    transaction.on_commit(send, robust=True)
