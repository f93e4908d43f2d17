"""Request ids and JSON logs: from the caller, into the response, the logs and the tasks."""

import json
import logging
from typing import Any

import pytest
from rest_framework.test import APIClient

from remag.observability import JsonFormatter, RequestIdFilter, request_id_var
from tests.conftest import wait_for
from tests.matching.conftest import client_for, request_body, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_a_sane_request_id_is_kept_and_returned() -> None:
    response = APIClient().get("/healthz", HTTP_X_REQUEST_ID="portal-42:abc.DEF_9")
    assert response["X-Request-ID"] == "portal-42:abc.DEF_9"


@pytest.mark.parametrize("sent", [None, "", "x" * 129, "bad id", "a\nb", "<script>"])
def test_a_missing_or_junk_request_id_is_replaced(sent: str | None) -> None:
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    response = APIClient().get("/healthz", **headers)
    made = response["X-Request-ID"]
    assert made != sent
    assert len(made) == 32
    assert int(made, 16) >= 0


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("remag.test", logging.WARNING, __file__, 1, "hello %s", ("x",), None)
    record.job = "run-1"
    token = request_id_var.set("req-7")
    try:
        assert RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello x"
    assert line["level"] == "WARNING"
    assert line["request_id"] == "req-7"
    assert line["job"] == "run-1"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_request_id_travels_into_the_tasks_it_enqueues(
    postgres: None,
    celery_worker_process: Any,
    world: Any,  # noqa: F811 (the fixture)
) -> None:
    from matching.models import MatchRun

    celery_worker_process()
    client = client_for(world.buyer)
    created = client.post("/api/v1/requests/", request_body(), format="json").json()
    response = client.post(
        f"/api/v1/requests/{created['id']}/publish/", HTTP_X_REQUEST_ID="publish-req-123"
    )
    assert response["X-Request-ID"] == "publish-req-123"
    run_id = str(response["Location"]).rstrip("/").rsplit("/", 1)[1]
    wait_for(lambda: MatchRun.objects.filter(id=run_id, status="succeeded").exists())
    _, log_path = celery_worker_process.processes[0]
    lines = log_path.read_text(errors="replace").splitlines()
    run_lines = [line for line in lines if f"match run {run_id}" in line]
    assert run_lines, lines[-20:]
    assert all("[publish-req-123]" in line for line in run_lines)
