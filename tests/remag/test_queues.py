"""One queue per kind of work: a long import never delays a match run."""

from pathlib import Path
from typing import Any

import pytest

from matching.models import MatchRun
from remag import queues
from suppliers import imports
from suppliers.models import ImportJob
from tests.conftest import queue_prefix, wait_for
from tests.factories import OrganizationFactory
from tests.matching.conftest import client_for, request_body, world  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def test_every_job_task_has_a_queue_of_its_kind() -> None:
    from remag.celery import app

    app.loader.import_default_modules()
    job_tasks = {
        name for name, task in app.tasks.items() if getattr(task, "kind", None) is not None
    }
    assert job_tasks == {
        "matching.match_run_execute",
        "collaboration.call_run_execute",
        "magnets.magnet_run_execute",
        "suppliers.import_job_execute",
        "webhooks.delivery_attempt",
    }
    routes = queues.task_routes("p.")
    assert {name: routes[name]["queue"] for name in job_tasks} == {
        "matching.match_run_execute": "p.matching",
        "collaboration.call_run_execute": "p.matching",
        "magnets.magnet_run_execute": "p.matching",
        "suppliers.import_job_execute": "p.imports",
        "webhooks.delivery_attempt": "p.webhooks",
    }


def test_a_long_import_does_not_delay_a_match_run(
    postgres: None,
    celery_worker_process: Any,
    celery_test_queue: str,
    world: Any,  # noqa: F811 (the fixture)
) -> None:
    prefix = queue_prefix(celery_test_queue)
    # An imports worker that takes each job and then dwells on it, and a matching worker.
    celery_worker_process(serve=[queues.queue_name(queues.IMPORTS, prefix)], JOB_PAUSE_SECONDS="30")
    celery_worker_process(serve=[queues.queue_name(queues.MATCHING, prefix)])
    portal = OrganizationFactory(kind="portal")
    backlog = [
        imports.import_job_create(
            owner=portal,
            created_by=None,
            content=(SAMPLES / "suppliers.csv").read_bytes(),
            filename="suppliers.csv",
            file_format="csv",
        )
        for _ in range(3)
    ]
    wait_for(lambda: ImportJob.objects.filter(id=backlog[0].id, status="running").exists())

    client = client_for(world.buyer)
    created = client.post("/api/v1/requests/", request_body(), format="json").json()
    response = client.post(f"/api/v1/requests/{created['id']}/publish/")
    run_id = str(response["Location"]).rstrip("/").rsplit("/", 1)[1]

    run = wait_for(
        lambda: MatchRun.objects.filter(id=run_id, status="succeeded").first(), timeout=20
    )
    assert run.matched_count == 3
    # The imports are still where they were: one held, two waiting behind it.
    states = sorted(ImportJob.objects.values_list("status", flat=True))
    assert states == ["queued", "queued", "running"]
