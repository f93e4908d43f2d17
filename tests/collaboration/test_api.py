"""Calls for collaboration through the API: validation, the NDA gate, matching, the
lifecycle of expressions of interest and the consent rule, events."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from matching.collaboration.models import ExpressionOfInterest, NdaAcknowledgement
from remag.webhooks.models import Event
from tests.collaboration.conftest import NDA_TEXT, CollabWorld, call_body, client_for
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
CALLS = "/api/v1/collaboration/calls/"
INTERESTS = "/api/v1/collaboration/interests/"


def problem_fields(response: Any) -> set[str]:
    assert response["Content-Type"].startswith("application/problem+json")
    return {e["field"] for e in response.json().get("errors", [])} | (
        {response.json()["field"]} if response.json().get("field") else set()
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "merger"}, "kind"),
        ({"required_capabilities": []}, "required_capabilities"),
        ({"required_capabilities": ["no-such-thing"]}, "required_capabilities"),
        ({"required_facilities": ["materials-rnd"]}, "required_facilities"),
        ({"timeframe_end": "2020-01-01"}, "timeframe_end"),
        ({"nda_text": ""}, "nda_text"),
        ({"latitude": 95}, "latitude"),
        ({"longitude": None}, "longitude"),
        ({"topic": "x" * 201}, "topic"),
        # Hostile lengths: a 400 naming the field, never a 500 from the column or the
        # full-text search.
        # A valid address (labels of 63) of 259 characters: longer than the column.
        ({"contact_email": "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "in"}, "contact_email"),
        ({"summary": "magnet " * 400}, "summary"),
        ({"description": "x" * 20_001}, "description"),
        ({"nda_text": "y" * 20_001}, "nda_text"),
        ({"contact_name": "n" * 121}, "contact_name"),
        ({"contact_phone": "9" * 21}, "contact_phone"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    cworld: CollabWorld, overrides: dict[str, Any], field: str
) -> None:
    response = client_for(cworld.poster).post(CALLS, call_body(**overrides), format="json")
    assert response.status_code == 400, response.json()
    assert field in problem_fields(response)


def test_only_posting_kinds_post_and_an_rnd_institution_may(cworld: CollabWorld) -> None:
    assert client_for(cworld.institute).post(CALLS, call_body(), format="json").status_code == 201
    sme = client_for(cworld.sme_users["other"]).post(CALLS, call_body(), format="json")
    assert sme.status_code == 201  # SMEs post calls too
    portal = MembershipFactory(organization=OrganizationFactory(kind="portal")).user
    assert client_for(portal).post(CALLS, call_body(), format="json").status_code == 403


def test_opening_matches_and_explains(cworld: CollabWorld, opened: Any) -> None:
    call = opened()
    poster = client_for(cworld.poster)
    matches = poster.get(f"{CALLS}{call['id']}/matches/").json()["results"]
    names = [m["supplier"]["legal_name"].split()[0] for m in matches]
    assert names == ["Lab", "Half"]
    for match in matches:
        total = sum(round(f["contribution"] * 100) for f in match["factors"])
        assert total == round(match["score"] * 100)  # exactly, in hundredths
    misses = poster.get(f"{CALLS}{call['id']}/near-misses/").json()["results"]
    assert {(m["supplier"]["legal_name"].split()[0], m["constraint"]) for m in misses} == {
        ("Novsm", "facility:facility-vsm"),
        ("Pending", "active"),
    }
    runs = poster.get(f"{CALLS}{call['id']}/runs/").json()["results"]
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["matched_count"] == 2
    types = list(Event.objects.values_list("type", flat=True))
    assert "collaboration_call.opened" in types
    assert "collaboration_call.matched" in types


def test_the_nda_gate(cworld: CollabWorld, opened: Any) -> None:
    call = opened()
    sme = client_for(cworld.sme_users["lab"])
    url = f"{CALLS}{call['id']}/"
    hidden = sme.get(url).json()
    assert hidden["description"] is None
    assert hidden["details_visible"] is False
    assert hidden["topic"]
    assert hidden["required_facilities"] == ["facility-vsm"]
    assert hidden["nda_text"] == NDA_TEXT
    assert hidden["contact_email"] is None  # the poster's contact waits for consent
    listed = sme.get(CALLS).json()["results"]
    assert [c["description"] for c in listed if c["id"] == call["id"]] == [None]

    # No EOI before the acknowledgement.
    body = {"call": call["id"], "supplier": str(cworld.suppliers["lab"].id), "message": "Keen."}
    refused = sme.post(INTERESTS, body, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "nda_required"

    ack = sme.post(f"{url}nda/", {}, format="json")
    assert ack.status_code == 201, ack.json()
    record = NdaAcknowledgement.objects.get()
    assert record.by_user == cworld.sme_users["lab"]
    assert record.organization_id == cworld.suppliers["lab"].owner_id
    again = sme.post(f"{url}nda/", {}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == ack.json()["id"]
    shown = sme.get(url).json()
    assert shown["description"].startswith("Confidential")
    assert shown["nda_acknowledged_at"]
    # Another SME still sees no details.
    assert client_for(cworld.sme_users["half"]).get(url).json()["description"] is None

    # Changing the NDA text asks again, and the acknowledging organisation hears of it.
    assert not Event.objects.filter(type="collaboration_call.nda_changed").exists()
    patched = client_for(cworld.poster).patch(url, {"nda_text": "New terms."}, format="json")
    assert patched.status_code == 200, patched.json()
    assert sme.get(url).json()["description"] is None
    changed = Event.objects.get(type="collaboration_call.nda_changed")
    assert set(changed.audience.values_list("id", flat=True)) == {
        cworld.poster_org.id,
        cworld.suppliers["lab"].owner_id,
    }
    # Another change of something else says nothing more.
    client_for(cworld.poster).patch(url, {"topic": "Renamed"}, format="json")
    assert Event.objects.filter(type="collaboration_call.nda_changed").count() == 1
    assert client_for(cworld.poster).post(f"{url}nda/", {}, format="json").status_code == 400
    # Operators read the details anyway; their organisation binds nobody to an NDA.
    operator = client_for(cworld.operator)
    assert operator.get(url).json()["details_visible"] is True
    refused = operator.post(f"{url}nda/", {}, format="json")
    assert refused.status_code == 400
    assert "organization" in problem_fields(refused)
    assert "Operators" in refused.json()["detail"]
    assert NdaAcknowledgement.objects.count() == 1


def test_the_nda_action_documents_both_answers() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    responses = schema["paths"]["/api/v1/collaboration/calls/{id}/nda/"]["post"]["responses"]
    for code in ("200", "201"):
        content = responses[code]["content"]["application/json"]["schema"]
        assert content == {"$ref": "#/components/schemas/NdaAcknowledgement"}


def test_interest_shortlist_select_and_contact_both_ways(cworld: CollabWorld, opened: Any) -> None:
    call = opened()
    poster = client_for(cworld.poster)
    sme = client_for(cworld.sme_users["lab"])
    assert sme.post(f"{CALLS}{call['id']}/nda/", {}, format="json").status_code == 201
    body = {
        "call": call["id"],
        "supplier": str(cworld.suppliers["lab"].id),
        "message": "We run a VSM and an SEM in Pune.",
        "proposed_approach": "Dy-free GBD trials over six months.",
    }
    created = sme.post(INTERESTS, body, format="json", HTTP_IDEMPOTENCY_KEY="eoi-1")
    assert created.status_code == 201, created.json()
    replay = sme.post(INTERESTS, body, format="json", HTTP_IDEMPOTENCY_KEY="eoi-1")
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert ExpressionOfInterest.objects.count() == 1
    interest = created.json()
    assert interest["match_score"] is not None
    assert interest["supplier_contact"] is None
    assert interest["poster_contact"] is None
    duplicate = sme.post(INTERESTS, body, format="json")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "interest_exists"

    url = f"{INTERESTS}{interest['id']}/"
    # The respondent cannot shortlist itself; the poster cannot withdraw it.
    assert sme.post(f"{url}shortlist/", {}, format="json").status_code == 403
    assert poster.post(f"{url}withdraw/", {}, format="json").status_code == 403
    assert poster.get(url).json()["supplier_contact"] is None

    shortlisted = poster.post(f"{url}shortlist/", {}, format="json")
    assert shortlisted.status_code == 200, shortlisted.json()
    assert shortlisted.json()["supplier_contact"]["email"] == "lab@example.in"
    assert shortlisted.json()["poster_contact"] is None  # the poster reads the SME's
    mine = sme.get(url).json()
    assert mine["poster_contact"]["email"] == "rnd@plant.example.in"
    assert mine["supplier_contact"] is None
    # Others see nothing of it.
    assert client_for(cworld.sme_users["half"]).get(url).status_code == 404

    selected = poster.post(f"{url}select/", {"note": "Best fit."}, format="json")
    assert selected.status_code == 200
    assert selected.json()["status"] == "selected"
    assert poster.get(f"{CALLS}{call['id']}/").json()["status"] == "awarded"
    late = sme.post(f"{url}withdraw/", {}, format="json")
    assert late.status_code == 409
    assert late.json()["code"] == "transition_not_allowed"
    types = list(Event.objects.order_by("occurred_at").values_list("type", flat=True))
    for expected in (
        "collaboration_call.nda_acknowledged",
        "collaboration_interest.submitted",
        "collaboration_interest.shortlisted",
        "collaboration_interest.contact_shared",
        "collaboration_interest.selected",
        "collaboration_call.awarded",
    ):
        assert types.count(expected) == 1, expected


def test_a_call_without_nda_shows_details_and_takes_unmatched_answers(
    cworld: CollabWorld, opened: Any
) -> None:
    call = opened(requires_nda=False, nda_text="")
    other = client_for(cworld.sme_users["other"])  # not matched: still may answer
    assert other.get(f"{CALLS}{call['id']}/").json()["description"].startswith("Confidential")
    body = {"call": call["id"], "supplier": str(cworld.suppliers["other"].id), "message": "Hi"}
    created = other.post(INTERESTS, body, format="json")
    assert created.status_code == 201
    assert created.json()["match_score"] is None
    assert other.post(f"{CALLS}{call['id']}/nda/", {}, format="json").status_code == 409
    # Someone else's supplier is not theirs to answer for.
    body["supplier"] = str(cworld.suppliers["half"].id)
    assert "supplier" in problem_fields(other.post(INTERESTS, body, format="json"))
    # A supplier not yet verified may not answer.
    pending = client_for(cworld.sme_users["pending"])
    body["supplier"] = str(cworld.suppliers["pending"].id)
    assert "supplier" in problem_fields(pending.post(INTERESTS, body, format="json"))
    # Withdrawing, then the call closes: no more answers.
    withdrawn = other.post(f"{INTERESTS}{created.json()['id']}/withdraw/", {}, format="json")
    assert withdrawn.json()["status"] == "withdrawn"
    poster = client_for(cworld.poster)
    assert poster.post(f"{CALLS}{call['id']}/close/").json()["status"] == "closed"
    body["supplier"] = str(cworld.suppliers["lab"].id)
    late = client_for(cworld.sme_users["lab"]).post(INTERESTS, body, format="json")
    assert late.status_code == 409
    assert late.json()["code"] == "call_not_open"


def test_the_call_lifecycle(cworld: CollabWorld) -> None:
    poster = client_for(cworld.poster)
    created = poster.post(CALLS, call_body(), format="json").json()
    url = f"{CALLS}{created['id']}/"
    # A draft is the poster's alone.
    assert client_for(cworld.sme_users["lab"]).get(url).status_code == 404
    assert APIClient().get(url).status_code == 401
    assert poster.post(f"{url}close/").status_code == 409
    assert poster.post(f"{url}runs/").status_code == 409  # only open calls are matched
    opened = poster.post(f"{url}open/")
    assert opened.status_code == 200
    assert "/collaboration/runs/" in opened["Location"]
    assert poster.post(f"{url}open/").status_code == 409
    rerun = poster.post(f"{url}runs/")
    assert rerun.status_code == 202  # the open run is still queued: the same one
    assert rerun.json()["id"] in opened["Location"]
    assert poster.patch(url, {"topic": "Changed topic"}, format="json").status_code == 200
    assert poster.post(f"{url}cancel/").json()["status"] == "cancelled"
    assert poster.patch(url, {"topic": "Too late"}, format="json").status_code == 409
    assert client_for(cworld.sme_users["lab"]).get(url).status_code == 404
    assert "collaboration_call.cancelled" in set(Event.objects.values_list("type", flat=True))


def test_lists_filter_and_paginate(cworld: CollabWorld, opened: Any) -> None:
    opened()
    opened(kind="testing_partnership", topic="Salt-spray partnership", requires_nda=False)
    sme = client_for(cworld.sme_users["lab"])
    response = sme.get(CALLS, {"kind": "testing_partnership"}).json()
    assert [c["topic"] for c in response["results"]] == ["Salt-spray partnership"]
    paged = sme.get(CALLS, {"page_size": 1}).json()
    assert len(paged["results"]) == 1
    assert paged["next"]
    assert len(sme.get(CALLS, {"q": "rare-earth"}).json()["results"]) == 1
    bad = sme.get(CALLS, {"kind": "nope"})
    assert bad.status_code == 400
    assert "kind" in problem_fields(bad)


@pytest.mark.django_db(False)
def test_the_taxonomy_ships_facilities_in_the_rnd_layer() -> None:
    from tests.collaboration.conftest import shipped_capabilities

    facilities = {c: i for c, i in shipped_capabilities().items() if c.startswith("facility-")}
    assert {"facility-vsm", "facility-hysteresigraph", "facility-pilot-strip-caster"} <= set(
        facilities
    )
    assert {item["layer"] for item in facilities.values()} == {"rnd"}


def test_an_sme_posting_a_call_is_not_matched_to_itself(cworld: CollabWorld, opened: Any) -> None:
    call = opened(user=cworld.sme_users["lab"], required_facilities=[])
    matches = client_for(cworld.sme_users["lab"]).get(f"{CALLS}{call['id']}/matches/").json()
    names = {m["supplier"]["legal_name"].split()[0] for m in matches["results"]}
    assert names == {"Half", "Novsm"}


def test_a_supplier_finds_the_calls_it_matched(cworld: CollabWorld, opened: Any) -> None:
    call = opened()
    opened(required_capabilities=["co-development"], required_facilities=[])  # matches nobody
    lab = str(cworld.suppliers["lab"].id)
    mine = client_for(cworld.sme_users["lab"]).get(CALLS, {"matched_supplier": lab}).json()
    assert [c["id"] for c in mine["results"]] == [call["id"]]
    # Someone else's supplier: nothing (matches are the poster's and the supplier's).
    theirs = client_for(cworld.sme_users["half"]).get(CALLS, {"matched_supplier": lab}).json()
    assert theirs["results"] == []


def test_the_respondent_reads_a_score_the_calls_location_does_not_move(
    cworld: CollabWorld, opened: Any
) -> None:
    """The call's location is the poster's only. With the whole score, a supplier moving
    its own plant and rereading its interest's match_score could find it; it reads the
    public score, without the distance factor, and the poster the whole one."""
    from matching.collaboration.models import CallMatch

    near, far = opened(), opened(latitude=28.61, longitude=77.21)  # Pune, Delhi
    sme = client_for(cworld.sme_users["lab"])
    poster = client_for(cworld.poster)
    read = {}
    for call in (near, far):
        assert sme.post(f"{CALLS}{call['id']}/nda/", {}, format="json").status_code == 201
        body = {"call": call["id"], "supplier": str(cworld.suppliers["lab"].id), "message": "VSM"}
        created = sme.post(INTERESTS, body, format="json")
        assert created.status_code == 201, created.json()
        match = CallMatch.objects.get(call_id=call["id"], supplier=cworld.suppliers["lab"])
        read[call["id"]] = (created.json()["match_score"], match)
        assert poster.get(created.json()["url"]).json()["match_score"] == match.score
    (near_read, near_match), (far_read, far_match) = read[near["id"]], read[far["id"]]
    assert near_match.score > far_match.score  # the distance moves the whole score
    assert near_read == far_read == near_match.public_score
    lab = str(cworld.suppliers["lab"].id)
    events = Event.objects.filter(type="collaboration_call.matched_you")
    scores = {e.payload["match"]["score"] for e in events if e.payload["match"]["supplier"] == lab}
    assert scores == {near_match.public_score}
