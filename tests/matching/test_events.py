"""The matching flow writes its events with each change, for the right organisations."""

from typing import Any

import pytest

from matching.models import Match
from remag.webhooks.models import Event, EventAudience
from tests.matching.conftest import client_for

pytestmark = pytest.mark.django_db


def audience(event: Event) -> set[str]:
    return {
        str(a.organization_id)
        for a in EventAudience.objects.filter(event=event).only("organization_id")
    }


def test_request_run_and_lifecycle_events(world: Any, published: Any) -> None:
    request_id = published()
    buyer = str(world.buyer_org.id)
    sme = str(world.suppliers["full"].owner_id)

    published_event = Event.objects.get(type="request.published")
    assert published_event.payload["request"]["id"] == request_id
    assert audience(published_event) == {buyer}
    run_event = Event.objects.get(type="match_run.succeeded")
    assert run_event.payload["run"]["matched_count"] == 3
    assert audience(run_event) == {buyer}

    match = Match.objects.get(request_id=request_id, supplier=world.suppliers["full"])
    moves = [
        (world.buyer, "shortlisted", "match.shortlisted", {buyer}),
        (world.buyer, "invited", "match.invited", {buyer, sme}),
        (world.sme_users["full"], "interested", "match.responded", {buyer, sme}),
        (world.buyer, "awarded", "match.awarded", {buyer, sme}),
    ]
    for user, status, event_type, who in moves:
        response = client_for(user).post(
            f"/api/v1/matches/{match.id}/transitions/", {"status": status}, format="json"
        )
        assert response.status_code == 201
        event = Event.objects.get(type=event_type)
        assert event.payload["match"]["id"] == str(match.id)
        assert event.payload["match"]["status"] == status
        assert audience(event) == who
    assert Event.objects.get(type="match.responded").payload["answer"] == "interested"


def test_closing_writes_request_closed(world: Any, published: Any) -> None:
    request_id = published()
    client_for(world.buyer).post(f"/api/v1/requests/{request_id}/close/")
    event = Event.objects.get(type="request.closed")
    assert event.payload["request"]["status"] == "closed"


def test_the_event_is_in_the_changes_transaction(world: Any, published: Any) -> None:
    from django.db import transaction

    from matching import services
    from matching.models import ProcurementRequest

    request_id = published()
    request = ProcurementRequest.objects.get(id=request_id)

    def close_then_fail() -> None:
        with transaction.atomic():
            services.request_close(request=request)
            assert Event.objects.filter(type="request.closed").exists()
            raise RuntimeError("the rest of the change failed")

    with pytest.raises(RuntimeError):
        close_then_fail()
    assert not Event.objects.filter(type="request.closed").exists()
    assert ProcurementRequest.objects.get(id=request_id).status == "open"
