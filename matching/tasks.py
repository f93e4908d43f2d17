"""Thin tasks: ids in, a service call, nothing else (see remag/celery.py for the rules)."""

from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings

from matching import runs


@shared_task(bind=True, name="matching.match_run_execute", acks_late=True, max_retries=None)
def match_run_execute(self: Task, run_id: str) -> None:
    while True:
        try:
            runs.match_run_execute(run_id=run_id)
            return
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            delay = runs.match_run_attempt_failed(run_id=run_id, error=error)
            if delay is None:
                raise
            if not self.request.is_eager:
                raise self.retry(exc=exc, countdown=delay) from exc
            # In-process (no broker, no sweep): try again at once.


@shared_task(name="matching.match_runs_sweep")
def match_runs_sweep() -> list[str]:
    return runs.match_runs_sweep(
        queued_after=timedelta(seconds=settings.REMAG_MATCH_RUN_QUEUED_TIMEOUT_SECONDS),
        lease=timedelta(seconds=settings.REMAG_MATCH_RUN_LEASE_SECONDS),
    )


@shared_task(name="matching.supplier_opportunities_refresh", acks_late=True)
def supplier_opportunities_refresh(supplier_id: str) -> int:
    return runs.supplier_opportunities_refresh(supplier_id=supplier_id)
