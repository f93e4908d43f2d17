"""Thin tasks: ids in, a service call, nothing else (see remag/jobs.py for the rules)."""

from celery import shared_task

from matching.collaboration import runs, services
from remag.jobs import JobTask


@shared_task(bind=True, base=JobTask, kind=runs.CALL_RUN_JOB, name="collaboration.call_run_execute")
def call_run_execute(self: JobTask, run_id: str) -> None:
    runs.call_run_execute(run_id=run_id, holder=self.holder)


@shared_task(name="collaboration.call_runs_sweep")
def call_runs_sweep() -> list[str]:
    return runs.call_runs_sweep()


@shared_task(name="collaboration.calls_close_due")
def calls_close_due() -> list[str]:
    return services.calls_close_due()
