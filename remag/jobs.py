"""The one job machine: match runs, supplier imports and webhook deliveries are jobs.

A job is a row before it is a message. The row says what state the work is in; the
broker (Redis, which here keeps nothing on disk) only carries "go look at job X", and may
lose, repeat or delay that message. Every rule below keeps the row right whatever the
broker does::

      create ──> queued ──job_start──> running ──job_succeed──> succeeded
                   ^                      │
                   └──── job_fail ────────┤ (an error; failures < the kind's limit:
                        (backoff)         │  back to queued, resent after the backoff)
                                          └──job_fail──> failed (limit reached, or the
                                                          time budget spent)

* ``job_start`` takes a job for one worker: it counts the attempt, stamps ``holder`` (the
  Celery task id) and ``heartbeat_at``. A message that finds the job held by another
  worker under a live lease (a repeated or swept message) does nothing and costs nothing.
  A job whose holder died (heartbeat older than the lease) is taken over; that costs an
  attempt but not a failure, so a job is never given up because workers were killed,
  only when its time budget (from its first start) is spent.
* ``job_fail`` records an error: the failure is counted and the job is queued again
  after the kind's backoff, or ends ``failed`` with the error once the limit is reached.
* ``job_succeed`` ends it, inside the transaction that wrote its results.
* ``jobs_sweep`` (beat, every minute or two) resends jobs whose message was lost (queued
  and due for longer than the kind's timeout) and jobs whose worker died (running with a
  stale heartbeat). It moves ``enqueued_at`` forward, so a backlog is not resent on
  every sweep.
* :class:`JobTask` is the Celery base of every job task: late acknowledgement, retries
  with backoff on transient database errors (the same holder takes the job up again),
  and an ``on_failure`` that records any other error with ``job_fail``.

Kinds differ only in data (:class:`JobKind`): their model, task name, limits, backoff and
what to do when a job ends (emit an event, count an endpoint's failures).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError, models, transaction
from django.db.models import Q
from django.utils import timezone

from remag.celery import app, enqueue_on_commit
from remag.db import BaseModel

logger = logging.getLogger(__name__)

# Errors that say "the database went away for a moment", not "the job is wrong".
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
# A retry due later than a second from now is early: a duplicate, or not yet due.
EARLY_TOLERANCE = timedelta(seconds=1)
ERROR_MAX_CHARS = 4000


class Job(BaseModel):
    """The state every job row carries. Concrete models declare ``status`` with their own
    choices and name their values in ``QUEUED``/``RUNNING``/``SUCCEEDED``/``FAILED``
    (a webhook delivery is ``pending`` both while queued and while being sent)."""

    QUEUED: ClassVar[str] = "queued"
    RUNNING: ClassVar[str] = "running"
    SUCCEEDED: ClassVar[str] = "succeeded"
    FAILED: ClassVar[str] = "failed"

    status = models.CharField(max_length=10)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker started the job (takeovers included)."
    )
    failures = models.PositiveSmallIntegerField(
        default=0, help_text="Attempts that ended with an error."
    )
    enqueued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the job was last sent to the broker, or when its retry is due.",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a worker holds the job."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    holder = models.CharField(
        max_length=64, blank=True, editable=False, help_text="The task holding the job."
    )
    error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (self.SUCCEEDED, self.FAILED)


J = TypeVar("J", bound=Job)


def _seconds(name: str) -> Callable[[], timedelta]:
    return lambda: timedelta(seconds=getattr(settings, name))


# Every kind of job, as its module defines it (metrics read them all).
KINDS: list[JobKind] = []


@dataclass(frozen=True)
class JobKind:
    """What one kind of job needs to say; everything else is shared.

    Limits are callables so they read settings when used (tests and operators change
    them). ``on_finished(job)`` runs in the transaction that ended the job, whichever way
    it ended; ``precheck(job)`` may return a reason to fail the job instead of starting it.
    """

    name: str
    model: type[Job]
    task_name: str
    queued_timeout: Callable[[], timedelta]
    lease: Callable[[], timedelta]
    max_failures: Callable[[], int] = lambda: settings.REMAG_JOB_MAX_ATTEMPTS
    budget: Callable[[], timedelta] = _seconds("REMAG_JOB_TIME_BUDGET_SECONDS")
    backoff: Callable[[int], float] = lambda failures: float(2**failures)
    on_finished: Callable[[Any], None] | None = None
    precheck: Callable[[Any], str | None] | None = None
    select_related: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        KINDS.append(self)

    @property
    def label(self) -> str:
        """The kind's name in metrics and logs (``match_run``)."""
        return self.name.replace(" ", "_")

    def locked(self, job_id: object) -> Any:
        """The job's row, locked for this transaction (None if it does not exist)."""
        query = self.model.objects.select_for_update()
        if self.select_related:
            query = query.select_related(*self.select_related).select_for_update(of=("self",))
        return query.filter(id=job_id).first()


# ------------------------------------------------------------------ sending


def job_send(kind: JobKind, job_id: object, *, countdown: float | None = None) -> None:
    """Send the job's task after the current transaction commits."""
    send_on_commit(kind.task_name, job_id, countdown=countdown)


def send_on_commit(task_name: str, job_id: object, *, countdown: float | None = None) -> None:
    """Send the task named ``task_name`` for ``job_id`` after the current transaction
    commits (by name, so the module writing the row need not import the tasks)."""
    options = {"countdown": countdown} if countdown else None
    enqueue_on_commit(_task(task_name), str(job_id), options=options)


def _task(name: str) -> Task:
    if name not in app.tasks:
        # A web process has not imported the apps' tasks modules yet: autodiscover them.
        app.loader.import_default_modules()
    return app.tasks[name]


# ------------------------------------------------------------------ the life of a job


def _held(job: Job, now: Any, lease: timedelta) -> bool:
    return job.heartbeat_at is not None and job.heartbeat_at >= now - lease


def job_start(kind: JobKind, *, job_id: object, holder: str = "", **fields: Any) -> Any:
    """Take the job for ``holder`` and count the attempt; None when there is nothing to do
    (finished, held by another live worker, not yet due, or given up now)."""
    with transaction.atomic():
        job = kind.locked(job_id)
        if job is None or job.is_finished:
            return None
        now = timezone.now()
        if _held(job, now, kind.lease()) and job.holder != holder:
            return None  # a live worker has it: this message is a duplicate
        if (
            job.status == kind.model.QUEUED
            and job.heartbeat_at is None
            and job.enqueued_at is not None
            and job.enqueued_at > now + EARLY_TOLERANCE
        ):
            return None  # early: the retry is not due yet (its own message will come)
        budget = kind.budget()
        if job.started_at is not None and now - job.started_at > budget:
            _end_failed(
                kind,
                job,
                job.error
                or f"Gave up: not finished within {int(budget.total_seconds())} s of its "
                f"first start ({job.attempts} attempts; workers lost).",
            )
            return None
        reason = kind.precheck(job) if kind.precheck else None
        if reason:
            _end_failed(kind, job, reason)
            return None
        job.status = kind.model.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.holder = holder[:64]
        for name, value in fields.items():
            setattr(job, name, value)
        job.save(
            update_fields=[
                "status",
                "attempts",
                "started_at",
                "heartbeat_at",
                "holder",
                "updated_at",
                *fields,
            ]
        )
    pause = settings.REMAG_JOB_PAUSE_SECONDS
    if pause:
        time.sleep(pause)  # drills and tests: a window to kill the worker or the database
    return job


def job_heartbeat(kind: JobKind, job: Job, **fields: Any) -> bool:
    """Say the job is alive (and update ``fields``); False if it is no longer running."""
    updated = kind.model.objects.filter(id=job.id, status=kind.model.RUNNING).update(
        heartbeat_at=timezone.now(), updated_at=timezone.now(), **fields
    )
    return bool(updated)


def job_succeed(kind: JobKind, job: Job, **fields: Any) -> None:
    """End a job that did its work. Call in the transaction that wrote the results, with
    the job's row locked."""
    now = timezone.now()
    job.status = kind.model.SUCCEEDED
    job.finished_at = now
    job.heartbeat_at = None
    job.holder = ""
    job.error = ""
    for name, value in fields.items():
        setattr(job, name, value)
    job.save()
    if kind.on_finished:
        kind.on_finished(job)


def _end_failed(kind: JobKind, job: Job, error: str) -> None:
    job.status = kind.model.FAILED
    job.error = error[:ERROR_MAX_CHARS]
    job.finished_at = timezone.now()
    job.heartbeat_at = None
    job.holder = ""
    job.save()
    logger.warning("%s %s failed: %s", kind.name, job.id, job.error)
    if kind.on_finished:
        kind.on_finished(job)


def job_fail(
    kind: JobKind, *, job_id: object, error: str, holder: str | None = None
) -> float | None:
    """Record a failed attempt. Returns the delay before the retry, or None when the job
    is now ``failed`` (or was not ours to fail: finished, or taken over by another
    worker since ``holder`` started it)."""
    with transaction.atomic():
        job = kind.locked(job_id)
        if job is None or job.is_finished:
            return None
        if holder is not None and job.holder and job.holder != holder:
            return None  # another worker took the job over; its outcome counts
        job.failures += 1
        if job.failures >= kind.max_failures():
            _end_failed(kind, job, error)
            return None
        delay = max(0.0, kind.backoff(job.failures))
        job.status = kind.model.QUEUED
        job.error = error[:ERROR_MAX_CHARS]
        job.heartbeat_at = None
        job.holder = ""
        job.enqueued_at = timezone.now() + timedelta(seconds=delay)
        job.save()
        if delay <= settings.REMAG_JOB_DIRECT_RETRY_MAX_SECONDS:
            job_send(kind, job.id, countdown=delay)
        # Longer delays are left to the sweep (no long-lived ETA messages in Redis).
    return delay


def jobs_sweep(
    kind: JobKind,
    *,
    queued_after: timedelta | None = None,
    lease: timedelta | None = None,
    limit: int = 1000,
) -> list[str]:
    """Resend jobs whose message was lost (due for longer than ``queued_after``) and jobs
    whose worker died (no heartbeat for ``lease``); both default to the kind's settings.
    Returns the ids resent, oldest due first."""
    now = timezone.now()
    queued_after = kind.queued_timeout() if queued_after is None else queued_after
    lease = kind.lease() if lease is None else lease
    model = kind.model
    with transaction.atomic():
        due = (
            model.objects.select_for_update(skip_locked=True)
            .filter(status__in={model.QUEUED, model.RUNNING})
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - queued_after))
            .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - lease))
            .order_by("enqueued_at")
            .values_list("id", flat=True)[:limit]
        )
        resent = [str(job_id) for job_id in due]
        if resent:
            model.objects.filter(id__in=resent).update(enqueued_at=now, updated_at=now)
        for job_id in resent:
            job_send(kind, job_id)
    if resent:
        _count_resent(kind, len(resent))
        logger.warning("%s sweep resent %d: %s", kind.name, len(resent), ", ".join(resent[:20]))
    return resent


def sweep_counter_key(kind: JobKind) -> str:
    return f"remag:jobs:swept:{kind.label}"


def _count_resent(kind: JobKind, count: int) -> None:
    """Add to the kind's count of jobs the sweeps resent (shared by every process through
    the cache; the metrics endpoint reads it). Never fails the sweep."""
    from django.core.cache import cache

    key = sweep_counter_key(kind)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key, count)
    except Exception:  # a cache outage must not stop the sweep
        logger.warning("could not count the %s sweep's resends", kind.name)


# ------------------------------------------------------------------ the Celery side


class JobTask(Task):
    """Base of every job task: ``task(job_id)``.

    Late acknowledgement (the job is idempotent); transient database errors retry the
    same message with backoff, up to ``JOB_TRANSIENT_RETRIES`` times, and the job stays
    with this holder meanwhile; any other error (or the retries spent) is recorded by
    ``on_failure`` through :func:`job_fail`, which queues the job again or fails it.
    """

    kind: JobKind
    acks_late = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = True
    retry_backoff_max = 60
    retry_jitter = True

    @property
    def max_retries(self) -> int:  # type: ignore[override]
        return settings.REMAG_JOB_TRANSIENT_RETRIES

    @property
    def holder(self) -> str:
        return str(self.request.id or "")

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        job_id = args[0] if args else kwargs.get("job_id")
        try:
            job_fail(self.kind, job_id=job_id, error=f"{type(exc).__name__}: {exc}", holder=task_id)
        except Exception:  # the database may be the thing that failed; the sweep recovers
            logger.exception("%s %s: could not record the failure", self.kind.name, job_id)
