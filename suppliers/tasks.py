"""Thin tasks: ids in, a service call, nothing else (see remag/jobs.py for the rules)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from remag.jobs import JobTask
from suppliers import imports, representations, services


@shared_task(bind=True, base=JobTask, kind=imports.IMPORT_JOB, name="suppliers.import_job_execute")
def import_job_execute(self: JobTask, job_id: str) -> None:
    imports.import_job_execute(job_id=job_id, holder=self.holder)


@shared_task(name="suppliers.import_jobs_sweep")
def import_jobs_sweep() -> list[str]:
    return imports.import_jobs_sweep()


@shared_task(name="suppliers.import_files_purge")
def import_files_purge() -> int:
    return imports.import_files_purge(
        older_than=timedelta(days=settings.REMAG_IMPORT_FILE_RETENTION_DAYS)
    )


@shared_task(name="suppliers.representations_refresh")
def representations_refresh(supplier_ids: list[str]) -> int:
    return representations.representations_refresh(supplier_ids)


@shared_task(name="suppliers.representations_sweep")
def representations_sweep() -> int:
    return representations.representations_sweep()


@shared_task(name="suppliers.certificates_validity_sweep")
def certificates_validity_sweep() -> list[str]:
    return services.certificates_validity_sweep()
