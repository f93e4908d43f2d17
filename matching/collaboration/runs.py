"""Call runs: load a call's candidates, score them, write the matches. A run is a job
(:mod:`remag.jobs`) like a procurement match run: the row is written before the task is
sent (on commit), the task may run twice and leaves the same rows, and the sweep resends
a lost or orphaned run. The writes happen in one transaction holding the call's row lock.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from matching.collaboration import candidates, scoring
from matching.collaboration.choices import CallRunStatus, CallStatus
from matching.collaboration.models import CallMatch, CallNearMiss, CallRun, CollaborationCall
from remag import jobs
from remag.errors import Conflict
from remag.webhooks import events
from remag.webhooks.choices import EventType

logger = logging.getLogger(__name__)

RUNNABLE = (CallStatus.OPEN,)


def _run_finished(run: CallRun) -> None:
    call = CollaborationCall.objects.get(id=run.call_id)
    event_type = (
        EventType.CALL_MATCHED
        if run.status == CallRunStatus.SUCCEEDED
        else EventType.CALL_MATCH_FAILED
    )
    events.call_event(event_type, call, audience=[call.owner_id], call_run=run)


CALL_RUN_JOB = jobs.JobKind(
    name="call run",
    model=CallRun,
    task_name="collaboration.call_run_execute",
    queued_timeout=lambda: timedelta(seconds=settings.REMAG_MATCH_RUN_QUEUED_TIMEOUT_SECONDS),
    lease=lambda: timedelta(seconds=settings.REMAG_MATCH_RUN_LEASE_SECONDS),
    on_finished=_run_finished,
)


def call_run_create(
    *, call: CollaborationCall, trigger: str, triggered_by: object = None
) -> tuple[CallRun, bool]:
    """Queue a run of an open ``call``; a run still queued is reused. ``(run, created)``."""
    with transaction.atomic():
        call = CollaborationCall.objects.select_for_update().get(id=call.id)
        if call.status not in RUNNABLE:
            raise Conflict(
                f"The call is {call.status}; only open calls are matched.",
                code="call_not_runnable",
                current_status=call.status,
            )
        waiting = CallRun.objects.filter(call=call, status=CallRunStatus.QUEUED).first()
        if waiting is not None:
            return waiting, False
        run = CallRun.objects.create(
            call=call,
            trigger=trigger,
            triggered_by=triggered_by,
            algorithm_version=scoring.ALGORITHM_VERSION,
            enqueued_at=timezone.now(),
        )
        jobs.job_send(CALL_RUN_JOB, run.id)
    return run, True


def call_run_execute(*, run_id: object, holder: str = "") -> CallRun | None:
    """Run (or finish) a call run; the run as it stands afterwards (None if none)."""
    run = jobs.job_start(
        CALL_RUN_JOB,
        job_id=run_id,
        holder=holder,
        progress=5,
        algorithm_version=scoring.ALGORITHM_VERSION,
    )
    if run is None:
        return CallRun.objects.filter(id=run_id).first()
    call = CollaborationCall.objects.get(id=run.call_id)
    loaded = candidates.load(call)
    result = scoring.score(loaded.criteria, loaded.batch)
    jobs.job_heartbeat(CALL_RUN_JOB, run, progress=50, candidate_count=result.candidate_count)
    with transaction.atomic():
        CollaborationCall.objects.select_for_update().get(id=call.id)
        run = CallRun.objects.select_for_update().get(id=run.id)
        if run.status != CallRunStatus.RUNNING:
            return run  # a duplicate delivery finished it meanwhile
        newly_matched = write_results(call=call, result=result, run=run)
        jobs.job_succeed(
            CALL_RUN_JOB,
            run,
            progress=100,
            candidate_count=result.candidate_count,
            matched_count=result.matched_count,
            near_miss_count=len(result.near_misses),
        )
        _tell_the_newly_matched(call, newly_matched)
    logger.info(
        "call run %s: %d candidates, %d matches",
        run.id,
        result.candidate_count,
        result.matched_count,
    )
    return run


def _tell_the_newly_matched(call: CollaborationCall, supplier_ids: list[object]) -> None:
    """Each supplier this run matched for the first time hears of it (its organisation,
    and its onboarding portal until claimed): the call's public part and its own score,
    nothing of the other candidates. A rerun that keeps a match says nothing again."""
    for match in CallMatch.objects.filter(call=call, supplier_id__in=supplier_ids).select_related(
        "supplier"
    ):
        events.call_event(
            EventType.CALL_MATCHED_YOU,
            call,
            audience=events.supplier_audience(match.supplier),
            match=match,
        )


def call_runs_sweep() -> list[str]:
    """Resend runs whose message was lost or whose worker died (``jobs_sweep``)."""
    return jobs.jobs_sweep(CALL_RUN_JOB)


def supplier_calls_refresh(*, supplier_id: object) -> int:
    """Match again (queue a run of) every open call the supplier could now match or
    matched before: a supplier's change reaches the calls' matches as it reaches
    procurement opportunities. A run still queued is reused, so a burst of changes makes
    one run per call. Returns the number of calls queued."""
    from suppliers.models import SupplierCapability

    open_calls = CollaborationCall.objects.filter(status=CallStatus.OPEN)
    if not open_calls.exists():  # the common case: one cheap query per supplier change
        return 0
    codes = list(
        SupplierCapability.objects.filter(supplier_id=supplier_id).values_list(
            "capability__code", flat=True
        )
    )
    # Each relation read on its own, then the calls by id: as one OR over the four
    # many-valued joins, the database joined every open call's matches to its near
    # misses and its capabilities before filtering (rows multiplying with each).
    related: set[object] = set()
    for field in ("required_capabilities", "required_facilities"):
        related.update(
            open_calls.filter(**{f"{field}__code__in": codes})
            .order_by()
            .values_list("id", flat=True)
        )
    for table in (CallMatch.objects, CallNearMiss.objects):
        related.update(
            table.filter(supplier_id=supplier_id, call__status=CallStatus.OPEN)
            .order_by()
            .values_list("call_id", flat=True)
        )
    calls = list(open_calls.filter(id__in=related).exclude(owner__suppliers__id=supplier_id))
    for call in calls:
        try:
            call_run_create(call=call, trigger="supplier")
        except Conflict:  # closed meanwhile
            continue
    return len(calls)


def write_results(
    *, call: CollaborationCall, result: scoring.CallScoringResult, run: CallRun | None
) -> list[object]:
    """Replace the call's matches and near misses by ``result``'s (upserted in place, so a
    match keeps its id and the expressions of interest pointing at it). Returns the
    suppliers matched now that were not matched before."""
    now = timezone.now()
    matches = result.matches()
    before = {
        str(i) for i in CallMatch.objects.filter(call=call).values_list("supplier_id", flat=True)
    }
    CallMatch.objects.bulk_create(
        [
            CallMatch(
                call_id=call.id,
                supplier_id=m.supplier_id,
                run=run,
                rank=m.rank,
                score=m.score,
                factors=[
                    {
                        "name": f.name,
                        "value": f.value,
                        "weight": f.weight,
                        "contribution": f.contribution,
                    }
                    for f in m.factors
                ],
                reasons=list(m.reasons),
                algorithm_version=result.algorithm_version,
                created_at=now,
                updated_at=now,
            )
            for m in matches
        ],
        update_conflicts=True,
        unique_fields=["call", "supplier"],
        update_fields=[
            "run",
            "rank",
            "score",
            "factors",
            "reasons",
            "algorithm_version",
            "updated_at",
        ],
        batch_size=2000,
    )
    CallMatch.objects.filter(call=call).exclude(
        supplier_id__in=[m.supplier_id for m in matches]
    ).delete()
    CallNearMiss.objects.filter(call=call).delete()
    CallNearMiss.objects.bulk_create(
        [
            CallNearMiss(
                call_id=call.id,
                supplier_id=miss.supplier_id,
                constraint=miss.constraint[:80],
                reason=miss.reason[:300],
            )
            for miss in result.near_misses
        ],
        batch_size=2000,
    )
    return [m.supplier_id for m in matches if str(m.supplier_id) not in before]
