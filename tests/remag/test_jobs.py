"""The job machine, one set of tests for every kind of job (match runs, supplier imports,
webhook deliveries), with real Celery workers on Redis and PostgreSQL: a lost message, a
killed worker and a transient database error each end with the job done once and right.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from remag import jobs
from tests.conftest import queues_of_test, wait_for
from tests.factories import OrganizationFactory
from tests.matching.conftest import client_for, request_body, world  # noqa: F401 (fixture)
from tests.remag.webhook_receiver import Receiver, start_receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
# Workers may deliver webhooks to the loopback receiver...
LOOPBACK_ENV = {"WEBHOOK_ALLOW_HTTP": "1", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}
# ... and take over a job whose holder has been silent for a second (the default leases
# are minutes).
WORKER_ENV = {
    **LOOPBACK_ENV,
    "MATCH_RUN_LEASE_SECONDS": "1",
    "IMPORT_JOB_LEASE_SECONDS": "1",
    "WEBHOOK_LEASE_SECONDS": "1",
}


@dataclass
class Case:
    """One kind of job: how to make one (its message sent on commit), and how to check
    that it was done exactly right."""

    kind: jobs.JobKind
    make: Callable[[], str]
    check: Callable[[str], None]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()


def _run_case(world: Any) -> Case:  # noqa: F811 (the fixture's value)
    from matching.models import Match
    from matching.runs import MATCH_RUN_JOB

    def make() -> str:
        client = client_for(world.buyer)
        created = client.post("/api/v1/requests/", request_body(), format="json").json()
        response = client.post(f"/api/v1/requests/{created['id']}/publish/")
        assert response.status_code == 200
        return str(response["Location"]).rstrip("/").rsplit("/", 1)[1]

    def check(run_id: str) -> None:
        names = set(
            Match.objects.filter(run_id=run_id).values_list("supplier__legal_name", flat=True)
        )
        assert {name.split()[0] for name in names} == {"Full", "Half", "Far"}

    return Case(MATCH_RUN_JOB, make, check)


def _import_case() -> Case:
    from suppliers import imports
    from suppliers.models import ImportJob, Supplier

    portal = OrganizationFactory(kind="portal")

    def make() -> str:
        job = imports.import_job_create(
            owner=portal,
            created_by=None,
            content=(SAMPLES / "suppliers.csv").read_bytes(),
            filename="suppliers.csv",
            file_format="csv",
        )
        return str(job.id)

    def check(job_id: str) -> None:
        job = ImportJob.objects.get(id=job_id)
        assert (job.created_count, job.failed_count, job.rows_processed) == (3, 0, 3)
        assert Supplier.objects.filter(onboarded_by=portal).count() == 3

    return Case(imports.IMPORT_JOB, make, check)


def _delivery_case(receiver: Receiver) -> Case:
    from remag.webhooks import events, services
    from remag.webhooks.models import Delivery

    organization = OrganizationFactory(kind="portal")
    services.endpoint_create(
        organization=organization, url=receiver.url, event_types=["supplier.created"]
    )

    def make() -> str:
        event = events.emit("supplier.created", {"n": 1}, audience=[organization.id])
        return str(Delivery.objects.get(event=event).id)

    def check(delivery_id: str) -> None:
        delivery = Delivery.objects.get(id=delivery_id)
        got = [r for r in receiver.requests if r.headers["Remag-Delivery-Id"] == delivery_id]
        assert got, "the receiver never got the delivery"
        assert delivery.attempt_records.filter(status_code=200).count() == 1

    return Case(services.DELIVERY_JOB, make, check)


@pytest.fixture(params=["match run", "import", "webhook delivery"])
def case(request: Any, world: Any, receiver: Receiver) -> Case:  # noqa: F811
    if request.param == "match run":
        return _run_case(world)
    if request.param == "import":
        return _import_case()
    return _delivery_case(receiver)


def state(case: Case, job_id: str) -> Any:
    return case.kind.model.objects.get(id=job_id)


def finished(case: Case, job_id: str) -> Any:
    job = state(case, job_id)
    return job if job.is_finished else None


def test_a_lost_message_is_recovered_by_the_sweep(
    postgres: None,
    case: Case,
    celery_worker_process: Any,
    redis_client: Any,
    celery_test_queue: str,
) -> None:
    job_id = case.make()
    all_queues = queues_of_test(celery_test_queue)
    assert sum(redis_client.llen(q) for q in all_queues) >= 1
    redis_client.delete(*all_queues)  # the broker forgets everything
    celery_worker_process(**WORKER_ENV)
    time.sleep(1)
    assert state(case, job_id).attempts == 0  # nobody knows about it

    assert jobs.jobs_sweep(case.kind, queued_after=timedelta(0)) == [job_id]

    job = wait_for(lambda: finished(case, job_id))
    assert job.status == job.SUCCEEDED, job.error
    assert (job.attempts, job.failures) == (1, 0)
    case.check(job_id)


def test_a_killed_worker_leaves_a_job_the_next_worker_finishes(
    postgres: None, case: Case, celery_worker_process: Any
) -> None:
    celery_worker_process(JOB_PAUSE_SECONDS="30", **WORKER_ENV)
    job_id = case.make()
    wait_for(lambda: state(case, job_id).heartbeat_at is not None)  # taken, then paused
    process, _ = celery_worker_process.processes[0]
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    held = state(case, job_id)
    assert not held.is_finished  # nobody will finish it by itself
    assert held.attempts == 1

    celery_worker_process(**WORKER_ENV)
    time.sleep(1.5)  # the dead worker's one-second lease runs out
    assert jobs.jobs_sweep(case.kind, queued_after=timedelta(0), lease=timedelta(0)) == [job_id]

    job = wait_for(lambda: finished(case, job_id))
    assert job.status == job.SUCCEEDED, job.error
    assert (job.attempts, job.failures) == (2, 0)  # a takeover is not a failure
    case.check(job_id)


def test_a_transient_database_error_is_retried_by_the_same_worker(
    postgres: None, case: Case, celery_worker_process: Any
) -> None:
    celery_worker_process(JOB_PAUSE_SECONDS="2", **WORKER_ENV)
    job_id = case.make()
    wait_for(lambda: state(case, job_id).heartbeat_at is not None)
    # While the worker is paused, PostgreSQL drops its connections under it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (terminated,) = cursor.fetchone()
    assert terminated >= 1

    job = wait_for(lambda: finished(case, job_id))
    assert job.status == job.SUCCEEDED, job.error
    assert job.failures == 0  # retried as a transient error, not recorded as a failure
    assert job.attempts == 2  # the same task took its job up again
    case.check(job_id)
    process, log_path = celery_worker_process.processes[0]
    assert "Retry in" in log_path.read_text(errors="replace")


def test_messages_repeated_during_a_live_job_cost_nothing(
    postgres: None, case: Case, celery_worker_process: Any
) -> None:
    """Sweeping three times with no lease during a live job (an impatient operator, a
    confused beat) sends three more messages; none of them takes or fails the job."""
    celery_worker_process(JOB_PAUSE_SECONDS="3", **LOOPBACK_ENV)  # the default leases
    job_id = case.make()
    wait_for(lambda: state(case, job_id).heartbeat_at is not None)
    for _ in range(3):
        assert jobs.jobs_sweep(case.kind, queued_after=timedelta(0), lease=timedelta(0)) == [job_id]

    job = wait_for(lambda: finished(case, job_id))
    assert job.status == job.SUCCEEDED, job.error
    assert (job.attempts, job.failures) == (1, 0)
    case.check(job_id)
    time.sleep(1)  # the repeated messages, taken after the job finished, changed nothing
    assert (state(case, job_id).attempts, state(case, job_id).status) == (1, job.SUCCEEDED)
