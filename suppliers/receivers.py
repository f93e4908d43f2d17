"""The registry's own reactions to its changes (connected in ``apps.py``)."""

from typing import Any

from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from remag.celery import enqueue_on_commit
from suppliers.models import Capability, Certification
from suppliers.signals import supplier_changed


@receiver(supplier_changed, dispatch_uid="suppliers.schedule_representation_refresh")
def schedule_representation_refresh(supplier_id: object, **_: Any) -> None:
    """Rebuild the supplier's stored list representation once the change commits (the
    triggers have cleared it; until the refresh runs, the list builds it live)."""
    from suppliers.tasks import representations_refresh as task

    enqueue_on_commit(task, [str(supplier_id)])


@receiver(post_save, sender=Capability, dispatch_uid="suppliers.taxonomy_ids_forget_capability")
@receiver(post_delete, sender=Capability, dispatch_uid="suppliers.taxonomy_ids_forget_cap_del")
@receiver(post_save, sender=Certification, dispatch_uid="suppliers.taxonomy_ids_forget_cert")
@receiver(post_delete, sender=Certification, dispatch_uid="suppliers.taxonomy_ids_forget_cert_del")
@receiver(post_migrate, dispatch_uid="suppliers.taxonomy_ids_forget_migrate")
def forget_taxonomy_ids(**_: Any) -> None:
    """This process's copy of the taxonomy's ids (``selectors.taxonomy_ids``) is read
    again after a change made here (other processes read theirs within a minute)."""
    from suppliers import selectors

    selectors.forget_taxonomy_ids()
