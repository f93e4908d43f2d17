"""Thin tasks: ids in, a service call, nothing else."""

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError

from suppliers import imports


@shared_task(
    bind=True,
    name="suppliers.import_job_execute",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=imports.MAX_ATTEMPTS,
)
def import_job_execute(self: object, job_id: str) -> None:
    try:
        imports.import_job_execute(job_id=job_id)
    except OperationalError:
        raise
    except Exception as exc:
        imports.import_job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="suppliers.import_jobs_sweep")
def import_jobs_sweep() -> list[str]:
    return imports.import_jobs_sweep(queued_after=timedelta(minutes=5), lease=timedelta(minutes=10))
