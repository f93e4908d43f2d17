"""Thin tasks: ids in, a service call, nothing else (see remag/jobs.py for the rules)."""

from celery import shared_task

from matching.magnets import runs
from remag.jobs import JobTask


@shared_task(bind=True, base=JobTask, kind=runs.MAGNET_RUN_JOB, name="magnets.magnet_run_execute")
def magnet_run_execute(self: JobTask, run_id: str) -> None:
    runs.magnet_run_execute(run_id=run_id, holder=self.holder)


@shared_task(name="magnets.magnet_runs_sweep")
def magnet_runs_sweep() -> list[str]:
    return runs.magnet_runs_sweep()
