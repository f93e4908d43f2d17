"""Operators see requests, runs and matches in the admin and can requeue runs."""

from typing import Any

import pytest
from django.test import Client

from matching.models import Match, MatchRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_matching_admin_pages_render(admin_client: Client, world: Any, published: Any) -> None:
    request_id = published()
    match = Match.objects.filter(request_id=request_id).first()
    run = MatchRun.objects.get(request_id=request_id)
    for path in (
        "/admin/matching/procurementrequest/",
        f"/admin/matching/procurementrequest/{request_id}/change/",
        "/admin/matching/matchrun/",
        f"/admin/matching/matchrun/{run.id}/change/",
        "/admin/matching/match/",
        f"/admin/matching/match/{match.id}/change/",
        "/admin/matching/nearmiss/",
    ):
        assert admin_client.get(path).status_code == 200, path


def test_admin_action_queues_a_run(admin_client: Client, world: Any, published: Any) -> None:
    request_id = published()
    response = admin_client.post(
        "/admin/matching/procurementrequest/",
        {"action": "queue_match_run", "_selected_action": [request_id]},
    )
    assert response.status_code == 302
    queued = MatchRun.objects.filter(request_id=request_id, status="queued")
    assert queued.count() == 1
    assert queued.get().trigger == "operator"
