"""Thin tasks: ids in, a service call, nothing else."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from remag.webhooks import services


@shared_task(name="webhooks.delivery_attempt", acks_late=True)
def delivery_attempt(delivery_id: str) -> None:
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.deliveries_sweep")
def deliveries_sweep() -> list[str]:
    return services.deliveries_sweep(
        grace=timedelta(seconds=settings.REMAG_WEBHOOK_SWEEP_GRACE_SECONDS)
    )
