"""Thin tasks: ids in, a service call, nothing else (see remag/jobs.py for the rules)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from remag.jobs import JobTask
from remag.webhooks import events, services


@shared_task(bind=True, base=JobTask, kind=services.DELIVERY_JOB, name=events.DELIVERY_TASK)
def delivery_attempt(self: JobTask, delivery_id: str) -> None:
    services.delivery_attempt(delivery_id=delivery_id, holder=self.holder)


@shared_task(name="webhooks.deliveries_sweep")
def deliveries_sweep() -> list[str]:
    return services.deliveries_sweep()


@shared_task(name="webhooks.events_purge")
def events_purge() -> int:
    return services.events_purge(older_than=timedelta(days=settings.REMAG_EVENT_RETENTION_DAYS))
