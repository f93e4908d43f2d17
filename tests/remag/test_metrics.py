"""Prometheus metrics: closed to the public, counting requests and jobs."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.matching.conftest import (  # noqa: F401 (fixtures)
    post_request,
    published,
    world,
)

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token"


def scrape(settings: Any, authorization: str | None = f"Bearer {TOKEN}") -> Any:
    settings.REMAG_METRICS_TOKEN = TOKEN
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get("/metrics")


def sample(text: str, name: str, **labels: str) -> float | None:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
                return item.value
    return None


def test_metrics_are_closed_without_the_token(settings: Any) -> None:
    settings.REMAG_METRICS_TOKEN = ""
    assert APIClient().get("/metrics").status_code == 404  # not enabled
    assert scrape(settings, authorization=None).status_code == 401
    assert scrape(settings, authorization="Bearer wrong").status_code == 401
    response = scrape(settings)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_a_match_run_is_counted(
    settings: Any,
    world: Any,  # noqa: F811 (the fixture)
    published: Any,  # noqa: F811 (the fixture)
) -> None:
    before = sample(
        scrape(settings).content.decode(), "remag_jobs", kind="match_run", state="succeeded"
    )
    published()
    text = scrape(settings).content.decode()
    assert sample(text, "remag_jobs", kind="match_run", state="succeeded") == (before or 0) + 1
    assert sample(text, "remag_jobs", kind="import", state="queued") == 0
    assert sample(text, "remag_job_oldest_queued_seconds", kind="webhook_delivery") == 0


def test_requests_are_counted_by_route_and_status(settings: Any) -> None:
    def count() -> float:
        text = scrape(settings).content.decode()
        found = sample(
            text,
            "remag_http_requests_total",
            method="GET",
            route="api/v1/taxonomy/capabilities/",
            status="200",
        )
        return found or 0

    before = count()
    assert APIClient().get("/api/v1/taxonomy/capabilities/").status_code == 200
    assert count() == before + 1


def test_sweep_resends_are_counted(settings: Any, world: Any, post_request: Any) -> None:  # noqa: F811
    from datetime import timedelta

    from matching import runs
    from matching.models import MatchRun, ProcurementRequest

    request = ProcurementRequest.objects.get(id=post_request()["id"])
    run, _ = runs.match_run_create(request=request, trigger="manual")
    before = sample(
        scrape(settings).content.decode(), "remag_job_sweep_resent_total", kind="match_run"
    )
    MatchRun.objects.filter(id=run.id).update(enqueued_at=run.enqueued_at - timedelta(hours=1))
    assert runs.match_runs_sweep(queued_after=timedelta(minutes=2)) == [str(run.id)]
    text = scrape(settings).content.decode()
    assert sample(text, "remag_job_sweep_resent_total", kind="match_run") == (before or 0) + 1
    assert sample(text, "remag_job_oldest_queued_seconds", kind="match_run") >= 0


def test_latency_is_a_histogram_by_route_and_status(settings: Any) -> None:
    assert APIClient().get("/api/v1/taxonomy/capabilities/").status_code == 200
    text = scrape(settings).content.decode()
    count = sample(
        text,
        "remag_http_request_duration_seconds_count",
        method="GET",
        route="api/v1/taxonomy/capabilities/",
        status="200",
    )
    assert count is not None
    assert count >= 1
