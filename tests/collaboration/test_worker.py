"""End to end on PostgreSQL and Redis with a real Celery worker: a call is posted and
opened through the API, the worker matches it, the matched SME acknowledges the NDA and
expresses interest, the poster shortlists and selects, and contact details are shared
both ways; every step is an event delivered (as a signed webhook) to the poster's
subscribed endpoint."""

from typing import Any

import pytest

from matching.collaboration.models import CallMatch, CallRun
from remag.queues import MATCHING, queue_name
from remag.webhooks.choices import EventType
from remag.webhooks.models import Delivery, Event, WebhookEndpoint
from tests.collaboration.conftest import CollabWorld, call_body, client_for
from tests.conftest import queue_prefix, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
CALLS = "/api/v1/collaboration/calls/"
INTERESTS = "/api/v1/collaboration/interests/"


def test_a_call_is_matched_by_a_worker_and_answered(
    postgres: None, celery_worker_process: Any, celery_test_queue: str, cworld: CollabWorld
) -> None:
    endpoint = WebhookEndpoint.objects.create(
        organization=cworld.poster_org,
        url="https://hooks.example.in/remag",
        event_types=[t for t in EventType.values if t.startswith("collaboration_")],
        secret="s" * 32,  # noqa: S106 (a test secret)
    )
    # The worker serves matching (and the default queue); webhook deliveries stay queued
    # as rows, so the test reads what would be sent without sending it.
    celery_worker_process(
        serve=[celery_test_queue, queue_name(MATCHING, queue_prefix(celery_test_queue))]
    )
    poster = client_for(cworld.poster)
    created = poster.post(CALLS, call_body(), format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    assert created.status_code == 201, created.json()
    call_id = created.json()["id"]
    opened = poster.post(f"{CALLS}{call_id}/open/")
    assert opened.status_code == 200
    run_id = opened["Location"].rstrip("/").rsplit("/", 1)[1]

    run = wait_for(
        lambda: CallRun.objects.filter(id=run_id, status__in=("succeeded", "failed")).first()
    )
    assert run.status == "succeeded", run.error
    assert run.attempts == 1
    assert run.matched_count == 2
    assert run.near_miss_count == 2
    ranked = list(CallMatch.objects.filter(call_id=call_id).order_by("rank"))
    assert [m.supplier_id for m in ranked] == [
        cworld.suppliers["lab"].id,
        cworld.suppliers["half"].id,
    ]
    run_view = poster.get(f"/api/v1/collaboration/runs/{run_id}/").json()
    assert run_view["status"] == "succeeded"

    sme = client_for(cworld.sme_users["lab"])
    assert sme.get(f"{CALLS}{call_id}/").json()["description"] is None
    assert sme.post(f"{CALLS}{call_id}/nda/", {}, format="json").status_code == 201
    assert sme.get(f"{CALLS}{call_id}/").json()["description"].startswith("Confidential")
    body = {
        "call": call_id,
        "supplier": str(cworld.suppliers["lab"].id),
        "message": "Our VSM and SEM are free from January.",
    }
    interest = sme.post(INTERESTS, body, format="json")
    assert interest.status_code == 201, interest.json()
    # The respondent reads its public score (the call's location is the poster's only);
    # the poster the whole one.
    assert interest.json()["match_score"] == ranked[0].public_score
    url = interest.json()["url"]
    assert poster.get(url).json()["match_score"] == ranked[0].score
    assert poster.post(f"{url}shortlist/", {}, format="json").status_code == 200
    selected = poster.post(f"{url}select/", {}, format="json").json()
    assert selected["status"] == "selected"
    assert selected["supplier_contact"] == {
        "name": "Lab Contact",
        "email": "lab@example.in",
        "phone": "+919800000000",
    }
    assert sme.get(url).json()["poster_contact"]["email"] == "rnd@plant.example.in"
    assert poster.get(f"{CALLS}{call_id}/").json()["status"] == "awarded"

    sent = list(
        Delivery.objects.filter(endpoint=endpoint)
        .order_by("event__occurred_at", "event__id")
        .values_list("event__type", flat=True)
    )
    assert sent == [
        "collaboration_call.opened",
        "collaboration_call.matched",
        "collaboration_call.nda_acknowledged",
        "collaboration_interest.submitted",
        "collaboration_interest.shortlisted",
        "collaboration_interest.contact_shared",
        "collaboration_interest.selected",
        "collaboration_call.awarded",
    ]
    matched = Event.objects.get(type="collaboration_call.matched")
    assert matched.payload["call_run"]["matched_count"] == 2
    assert "description" not in matched.payload["call"]  # never the confidential details
