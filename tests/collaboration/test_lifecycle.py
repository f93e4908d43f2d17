"""The call's lifecycle rules: one selection per call, the response deadline's bounds and
the beat task that closes calls whose deadline has passed."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from matching.collaboration import tasks
from matching.collaboration.models import CollaborationCall
from remag.webhooks.models import Event
from tests.collaboration.conftest import CollabWorld, call_body, client_for

pytestmark = pytest.mark.django_db
CALLS = "/api/v1/collaboration/calls/"
INTERESTS = "/api/v1/collaboration/interests/"


def answer(cworld: CollabWorld, call: dict[str, Any], key: str) -> str:
    body = {"call": call["id"], "supplier": str(cworld.suppliers[key].id), "message": "Keen."}
    created = client_for(cworld.sme_users[key]).post(INTERESTS, body, format="json")
    assert created.status_code == 201, created.json()
    return f"{INTERESTS}{created.json()['id']}/"


def test_one_selection_per_call(cworld: CollabWorld, opened: Any) -> None:
    call = opened(requires_nda=False, nda_text="")
    lab, half, other = (answer(cworld, call, key) for key in ("lab", "half", "other"))
    poster = client_for(cworld.poster)
    assert poster.post(f"{half}shortlist/", {}, format="json").status_code == 200
    assert poster.post(f"{lab}select/", {}, format="json").json()["status"] == "selected"
    assert poster.get(f"{CALLS}{call['id']}/").json()["status"] == "awarded"
    for url, move in ((half, "select"), (other, "select"), (other, "shortlist")):
        refused = poster.post(f"{url}{move}/", {}, format="json")
        assert refused.status_code == 409, (url, move)
        assert refused.json()["code"] == "call_already_awarded"
    # The others may still be declined, or withdraw.
    assert poster.post(f"{half}decline/", {}, format="json").json()["status"] == "declined"
    withdrawn = client_for(cworld.sme_users["other"]).post(f"{other}withdraw/", {}, format="json")
    assert withdrawn.json()["status"] == "withdrawn"
    assert Event.objects.filter(type="collaboration_call.awarded").count() == 1


def test_a_closed_call_is_still_decided_once(cworld: CollabWorld, opened: Any) -> None:
    call = opened(requires_nda=False, nda_text="")
    lab, half = (answer(cworld, call, key) for key in ("lab", "half"))
    poster = client_for(cworld.poster)
    assert poster.post(f"{CALLS}{call['id']}/close/").json()["status"] == "closed"
    assert poster.post(f"{lab}shortlist/", {}, format="json").status_code == 200
    assert poster.post(f"{lab}select/", {}, format="json").status_code == 200
    assert poster.get(f"{CALLS}{call['id']}/").json()["status"] == "awarded"
    assert poster.post(f"{half}shortlist/", {}, format="json").status_code == 409


def test_nothing_moves_on_a_cancelled_call(cworld: CollabWorld, opened: Any) -> None:
    call = opened(requires_nda=False, nda_text="")
    lab = answer(cworld, call, "lab")
    poster = client_for(cworld.poster)
    assert poster.post(f"{CALLS}{call['id']}/cancel/").json()["status"] == "cancelled"
    for move in ("shortlist", "select", "decline"):
        refused = poster.post(f"{lab}{move}/", {}, format="json")
        assert refused.status_code == 409
        assert refused.json()["code"] == "call_status_conflict"


def test_the_response_deadline_is_bounded(cworld: CollabWorld) -> None:
    poster = client_for(cworld.poster)
    today = timezone.localdate()
    late = call_body(response_deadline=(today + timedelta(days=401)).isoformat())
    refused = poster.post(CALLS, late, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "response_deadline"
    created = poster.post(CALLS, call_body(), format="json").json()
    url = f"{CALLS}{created['id']}/"
    for deadline in (today - timedelta(days=1), today + timedelta(days=401)):
        patched = poster.patch(url, {"response_deadline": deadline.isoformat()}, format="json")
        assert patched.status_code == 400, deadline
        assert patched.json()["errors"][0]["field"] == "response_deadline"
    # A shorter timeframe that would end before the deadline is refused too.
    shorter = {
        "timeframe_start": (today + timedelta(days=5)).isoformat(),
        "timeframe_end": (today + timedelta(days=10)).isoformat(),  # the deadline is +20
    }
    refused = poster.patch(url, shorter, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "response_deadline"
    fine = poster.patch(url, {"response_deadline": today.isoformat()}, format="json")
    assert fine.status_code == 200
    assert fine.json()["response_deadline"] == today.isoformat()


def test_beat_closes_open_calls_past_their_deadline(cworld: CollabWorld, opened: Any) -> None:
    assert (
        settings.CELERY_BEAT_SCHEDULE["calls-close-due"]["task"] == "collaboration.calls_close_due"
    )
    assert tasks.calls_close_due.name == "collaboration.calls_close_due"  # what beat sends
    due, later = opened(requires_nda=False, nda_text=""), opened(requires_nda=False, nda_text="")
    lab = answer(cworld, due, "lab")
    draft = client_for(cworld.poster).post(CALLS, call_body(), format="json").json()
    yesterday = timezone.localdate() - timedelta(days=1)
    CollaborationCall.objects.filter(id__in=[due["id"], draft["id"]]).update(
        response_deadline=yesterday
    )
    assert tasks.calls_close_due.apply().get() == [due["id"]]
    statuses = dict(CollaborationCall.objects.values_list("id", "status"))
    assert {str(k): v for k, v in statuses.items()} == {
        due["id"]: "closed",
        later["id"]: "open",
        draft["id"]: "draft",
    }
    closed = Event.objects.get(type="collaboration_call.closed")
    assert closed.payload["call"]["id"] == due["id"]
    assert tasks.calls_close_due.apply().get() == []  # nothing twice
    # The poster still decides on what came in.
    assert client_for(cworld.poster).post(f"{lab}select/", {}, format="json").status_code == 200


def test_an_open_call_states_its_contact(cworld: CollabWorld) -> None:
    """Respondents receive the poster's contact on consent: a call opens only with an
    email to share, and an open call keeps one."""
    poster = client_for(cworld.poster)
    created = poster.post(CALLS, call_body(contact_email="", contact_name=""), format="json")
    assert created.status_code == 201  # a draft may lack it
    url = f"{CALLS}{created.json()['id']}/"
    refused = poster.post(f"{url}open/")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "contact_email"
    assert CollaborationCall.objects.get(id=created.json()["id"]).status == "draft"
    fixed = poster.patch(url, {"contact_email": "rnd@plant.example.in"}, format="json")
    assert fixed.status_code == 200
    assert poster.post(f"{url}open/").status_code == 200
    blanked = poster.patch(url, {"contact_email": None}, format="json")
    assert blanked.status_code == 400
    assert blanked.json()["errors"][0]["field"] == "contact_email"
    assert poster.get(url).json()["contact_email"] == "rnd@plant.example.in"


def test_no_answer_after_the_deadline_and_a_cancel_tells_the_respondents(
    cworld: CollabWorld, opened: Any
) -> None:
    call = opened(requires_nda=False, nda_text="")
    answer(cworld, call, "lab")
    yesterday = timezone.localdate() - timedelta(days=1)
    CollaborationCall.objects.filter(id=call["id"]).update(response_deadline=yesterday)
    body = {"call": call["id"], "supplier": str(cworld.suppliers["half"].id), "message": "Late."}
    late = client_for(cworld.sme_users["half"]).post(INTERESTS, body, format="json")
    assert late.status_code == 409
    assert late.json()["code"] == "deadline_passed"
    assert client_for(cworld.poster).post(f"{CALLS}{call['id']}/cancel/").status_code == 200
    cancelled = Event.objects.get(type="collaboration_call.cancelled")
    assert set(cancelled.audience.values_list("id", flat=True)) == {
        cworld.poster_org.id,
        cworld.suppliers["lab"].owner_id,
    }
