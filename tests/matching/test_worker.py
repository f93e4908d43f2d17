"""End to end on PostgreSQL and Redis with real Celery workers: publishing runs, duplicates
change nothing, supplier edits refresh opportunities. (A lost message, a killed worker and a
transient database error are tested for every kind of job in tests/remag/test_jobs.py.)"""

import json
import uuid
from typing import Any

import pytest
from django.test import override_settings

from matching.models import Match, MatchRun, NearMiss
from remag.queues import MATCHING, queue_name
from suppliers import services as supplier_services
from tests.conftest import queue_prefix, queues_of_test, wait_for
from tests.matching.conftest import client_for, request_body

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def run_state(run_id: str) -> MatchRun:
    return MatchRun.objects.get(id=run_id)


def finished(run_id: str) -> MatchRun | None:
    run = run_state(run_id)
    return run if run.status in ("succeeded", "failed") else None


def expected_matches(request_id: str) -> set[str]:
    return {
        name.split()[0]
        for name in Match.objects.filter(request_id=request_id).values_list(
            "supplier__legal_name", flat=True
        )
    }


def post_and_publish(world: Any) -> tuple[str, str]:
    client = client_for(world.buyer)
    created = client.post("/api/v1/requests/", request_body(), format="json").json()
    response = client.post(f"/api/v1/requests/{created['id']}/publish/")
    assert response.status_code == 200
    run_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    return created["id"], run_id


def test_publish_runs_on_a_real_worker(
    postgres: None, celery_worker_process: Any, world: Any
) -> None:
    celery_worker_process()
    request_id, run_id = post_and_publish(world)
    run = wait_for(lambda: finished(run_id))
    assert run.status == "succeeded", run.error
    assert run.attempts == 1
    assert expected_matches(request_id) == {"Full", "Half", "Far"}
    assert NearMiss.objects.filter(request_id=request_id).count() == 2
    response = client_for(world.buyer).get(f"/api/v1/requests/{request_id}/matches/")
    assert [m["supplier"]["legal_name"].split()[0] for m in response.json()["results"]][0] == (
        "Full"
    )


def test_a_prefork_worker_keeps_its_connection_between_tasks(
    postgres: None, celery_worker_process: Any, world: Any
) -> None:
    """A prefork child hands its connection back to its pool after a task and the next
    task takes it again: the same PostgreSQL backend serves both runs, rather than a new
    one per task (Celery's Django fix-up closed the pool around every task)."""
    from django.db import connection

    from matching import runs
    from matching.models import ProcurementRequest

    name = f"remag-test-{uuid.uuid4().hex[:12]}"
    celery_worker_process(pool="prefork", DATABASE_APPLICATION_NAME=name)

    def backends() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [name])
            return {pid for (pid,) in cursor.fetchall()}

    request_id, run_id = post_and_publish(world)
    assert wait_for(lambda: finished(run_id)).status == "succeeded"
    first = wait_for(backends)  # still open once the task is over
    run, _ = runs.match_run_create(
        request=ProcurementRequest.objects.get(id=request_id), trigger="manual"
    )
    assert wait_for(lambda: finished(str(run.id))).status == "succeeded"
    assert backends() & first


def test_the_same_run_sent_twice_leaves_one_set(
    postgres: None, celery_worker_process: Any, world: Any
) -> None:
    from matching.tasks import match_run_execute

    request_id, run_id = post_and_publish(world)  # no worker yet: the message waits
    match_run_execute.apply_async(args=[run_id])  # and a duplicate
    celery_worker_process()
    celery_worker_process()  # two workers take the two messages at once
    run = wait_for(lambda: finished(run_id))
    assert run.status == "succeeded", run.error
    wait_for(lambda: Match.objects.filter(request_id=request_id).count() == 3)
    assert expected_matches(request_id) == {"Full", "Half", "Far"}
    assert run_state(run_id).attempts <= 2


def test_a_burst_of_supplier_edits_makes_one_refresh(
    postgres: None,
    celery_worker_process: Any,
    world: Any,
    redis_client: Any,
    celery_test_queue: str,
) -> None:
    from matching import runs

    request_id, run_id = post_and_publish(world)
    runs.match_run_execute(run_id=run_id)  # here, so that no worker holds the queue yet
    matching_queue = queue_name(MATCHING, queue_prefix(celery_test_queue))
    redis_client.delete(*queues_of_test(celery_test_queue))
    supplier = world.suppliers["expired"]
    assert "Expired" not in expected_matches(request_id)

    old = supplier.certificates.get()
    renewed = {
        "certification": old.certification,
        "certificate_number": "QMS-RENEWED",
        "issuing_body": "BSI",
        "valid_from": old.valid_until,
        "valid_until": old.valid_until.replace(year=old.valid_until.year + 3),
    }
    with override_settings(REMAG_OPPORTUNITY_REFRESH_DEBOUNCE_SECONDS=2):
        for trade_name in ("Renewed", "Renewed Again", "Renewed Thrice"):
            supplier_services.supplier_update(
                supplier=supplier,
                data=supplier_services.SupplierInput(
                    profile={"trade_name": trade_name}, certificates=[renewed]
                ),
            )
    # The refresh of opportunities is matching's work; the default queue holds only the
    # registry's own (each edit's stored list representation rebuilt).
    default = [json.loads(m) for m in redis_client.lrange(celery_test_queue, 0, -1)]
    assert {m["headers"]["task"] for m in default} == {"suppliers.representations_refresh"}
    messages = [json.loads(m) for m in redis_client.lrange(matching_queue, 0, -1)]
    assert [m["headers"]["task"] for m in messages] == ["matching.supplier_opportunities_refresh"]
    assert str(supplier.id) in messages[0]["headers"]["argsrepr"]

    celery_worker_process()
    wait_for(lambda: "Expired" in expected_matches(request_id), timeout=30)
    assert not NearMiss.objects.filter(request_id=request_id, supplier=supplier).exists()
