"""Thin tasks: ids in, a service call, nothing else (see remag/jobs.py for the rules)."""

from celery import shared_task

from remag.jobs import JobTask
from suppliers import imports


@shared_task(bind=True, base=JobTask, kind=imports.IMPORT_JOB, name="suppliers.import_job_execute")
def import_job_execute(self: JobTask, job_id: str) -> None:
    imports.import_job_execute(job_id=job_id, holder=self.holder)


@shared_task(name="suppliers.import_jobs_sweep")
def import_jobs_sweep() -> list[str]:
    return imports.import_jobs_sweep()
