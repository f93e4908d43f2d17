"""Thin tasks: ids in, a service call, nothing else (see remag/jobs.py for the rules)."""

from celery import shared_task

from matching import runs
from remag.jobs import JobTask


@shared_task(bind=True, base=JobTask, kind=runs.MATCH_RUN_JOB, name="matching.match_run_execute")
def match_run_execute(self: JobTask, run_id: str) -> None:
    runs.match_run_execute(run_id=run_id, holder=self.holder)


@shared_task(name="matching.match_runs_sweep")
def match_runs_sweep() -> list[str]:
    return runs.match_runs_sweep()


@shared_task(name="matching.supplier_opportunities_refresh", acks_late=True)
def supplier_opportunities_refresh(supplier_id: str) -> int:
    return runs.supplier_opportunities_refresh(supplier_id=supplier_id)
