"""Call runs are jobs: running one twice changes nothing, the sweep resends a lost one,
and a rerun keeps matches in place (the worker itself: test_worker.py; the machine's
guarantees for every kind: tests/remag/test_jobs.py)."""

from datetime import timedelta
from typing import Any

import pytest

from matching.collaboration import runs
from matching.collaboration.models import CallMatch, CallNearMiss, CallRun, CollaborationCall
from tests.collaboration.conftest import CollabWorld, call_body, client_for, run_pending

pytestmark = pytest.mark.django_db


def test_a_run_twice_and_a_swept_run_leave_one_set(cworld: CollabWorld, opened: Any) -> None:
    call = opened()
    first = CallRun.objects.get(call_id=call["id"])
    before = dict(CallMatch.objects.filter(call_id=call["id"]).values_list("supplier_id", "id"))
    assert runs.call_run_execute(run_id=first.id).status == "succeeded"  # again: nothing
    assert CallRun.objects.get(id=first.id).attempts == 1

    rerun, created = runs.call_run_create(
        call=CollaborationCall.objects.get(id=call["id"]), trigger="manual"
    )
    assert created
    # Its message is lost: the sweep sends it again (here, after no wait at all).
    assert runs.jobs.jobs_sweep(runs.CALL_RUN_JOB, queued_after=timedelta(0)) == [str(rerun.id)]
    assert run_pending(call["id"]).status == "succeeded"
    after = dict(CallMatch.objects.filter(call_id=call["id"]).values_list("supplier_id", "id"))
    assert after == before  # updated in place: same rows, same ids


def test_a_supplier_that_stops_qualifying_leaves_the_matches(cworld: CollabWorld) -> None:
    poster = client_for(cworld.poster)
    call = poster.post("/api/v1/collaboration/calls/", call_body(), format="json").json()
    poster.post(f"{call['url']}open/")
    run_pending(call["id"])
    half = cworld.suppliers["half"]
    assert CallMatch.objects.filter(call_id=call["id"], supplier=half).exists()
    half.capabilities.filter(capability__code="facility-vsm").delete()
    assert poster.post(f"{call['url']}runs/").status_code == 202
    run_pending(call["id"])
    assert not CallMatch.objects.filter(call_id=call["id"], supplier=half).exists()
    misses = poster.get(f"{call['url']}near-misses/").json()["results"]
    assert ("Half", "facility:facility-vsm") in {
        (m["supplier"]["legal_name"].split()[0], m["constraint"]) for m in misses
    }


def test_a_supplier_change_queues_a_run_of_the_open_calls_it_relates_to(
    cworld: CollabWorld, opened: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from suppliers import services as supplier_services
    from tests.matching.conftest import add_capability

    call = opened()
    other = cworld.suppliers["other"]  # strip casting only: no call of its own
    with django_capture_on_commit_callbacks(execute=True):
        supplier_services.supplier_update(
            supplier=other, data=supplier_services.SupplierInput(profile={"trade_name": "X"})
        )
    supplier_runs = CallRun.objects.filter(call_id=call["id"], trigger="supplier")
    assert not supplier_runs.exists()

    add_capability(other, "materials-rnd")
    add_capability(other, "facility-vsm")
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("Other R&D", "Other R&D Labs"):  # a burst: one run
            supplier_services.supplier_update(
                supplier=other, data=supplier_services.SupplierInput(profile={"trade_name": name})
            )
    (run,) = supplier_runs  # a burst: one run
    if run.status == "queued":  # a broker holds its message (without REDIS_URL, it ran)
        run = run_pending(call["id"])
    assert run.status == "succeeded"
    assert CallMatch.objects.filter(call_id=call["id"], supplier=other).exists()


def test_a_supplier_change_reaches_the_calls_it_matched_or_nearly_matched(
    cworld: CollabWorld, opened: Any
) -> None:
    """A supplier offering nothing any more relates to a call only through its match or
    near miss there: both are found, each table on its own (one OR over the call's
    capabilities, facilities, matches and near misses joined them all at once)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = opened()
    half, pending = cworld.suppliers["half"], cworld.suppliers["pending"]
    assert CallMatch.objects.filter(call_id=call["id"], supplier=half).exists()
    assert CallNearMiss.objects.filter(call_id=call["id"], supplier=pending).exists()
    for supplier in (half, pending):
        supplier.capabilities.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert runs.supplier_calls_refresh(supplier_id=half.id) == 1
        assert runs.supplier_calls_refresh(supplier_id=pending.id) == 1  # the same run
    queued = CallRun.objects.filter(call_id=call["id"], status="queued")
    assert [run.trigger for run in queued] == ["supplier"]
    assert runs.supplier_calls_refresh(supplier_id=cworld.suppliers["other"].id) == 0
    tables = [f'"{model._meta.db_table}"' for model in (CallMatch, CallNearMiss)]
    both = [
        query["sql"]
        for query in queries.captured_queries
        if all(table in query["sql"] for table in tables)
    ]
    assert both == []


def test_past_collaborations_count_selections_on_other_calls(
    cworld: CollabWorld, opened: Any
) -> None:
    """A supplier's selected expression of interest on another call raises its factor in a
    real run; a declined one changes nothing (it does not penalise answering)."""
    from django.utils import timezone

    from matching.collaboration.models import ExpressionOfInterest

    def factor(call_id: str, key: str) -> tuple[float, list[str]]:
        match = CallMatch.objects.get(call_id=call_id, supplier=cworld.suppliers[key])
        values = {f["name"]: f["value"] for f in match.factors}
        return values["past_collaborations"], match.reasons

    earlier = opened(requires_nda=False, nda_text="")
    older = opened(requires_nda=False, nda_text="")
    now = timezone.now()
    for call_id, key, status in (
        (earlier["id"], "lab", "selected"),
        (earlier["id"], "half", "declined"),
        (older["id"], "half", "declined"),
    ):
        ExpressionOfInterest.objects.create(
            call_id=call_id,
            supplier=cworld.suppliers[key],
            organization=cworld.suppliers[key].owner,
            message="Keen.",
            status=status,
            submitted_at=now,
            status_changed_at=now,
        )
    call = opened()
    lab, lab_reasons = factor(call["id"], "lab")
    half, _ = factor(call["id"], "half")
    assert lab == 0.625  # (1 + 0.5 x 3) / (1 + 3)
    assert "selected for 1 past collaboration" in lab_reasons
    assert half == 0.5  # two declined: still the prior
    # The call's own answers do not count: moved onto it, the selection no longer counts.
    ExpressionOfInterest.objects.filter(call_id=earlier["id"]).update(call_id=call["id"])
    client_for(cworld.poster).post(f"/api/v1/collaboration/calls/{call['id']}/runs/")
    run_pending(call["id"])
    assert factor(call["id"], "lab")[0] == 0.5


def test_newly_matched_suppliers_hear_of_the_call(cworld: CollabWorld, opened: Any) -> None:
    """A run that matches a supplier for the first time tells its organisation
    (collaboration_call.matched_you: the call's public part and its own public score); a rerun
    keeping the match says nothing again; the poster's run events stay the poster's."""
    from remag.webhooks.models import Event, EventAudience
    from tests.matching.conftest import add_capability

    def told() -> dict[str, set[object]]:
        out = {}
        for event in Event.objects.filter(type="collaboration_call.matched_you"):
            audience = EventAudience.objects.filter(event=event)
            out[event.payload["match"]["supplier"]] = set(
                audience.values_list("organization_id", flat=True)
            )
        return out

    call = opened()
    lab, half, novsm = (cworld.suppliers[k] for k in ("lab", "half", "novsm"))
    assert told() == {str(lab.id): {lab.owner_id}, str(half.id): {half.owner_id}}
    event = Event.objects.filter(type="collaboration_call.matched_you").first()
    assert set(event.payload) == {"call", "match"}
    assert "description" not in event.payload["call"]
    match = CallMatch.objects.get(id=event.payload["match"]["id"])
    assert event.payload["match"]["score"] == match.public_score  # without the distance to the call
    matched = Event.objects.get(type="collaboration_call.matched")
    assert set(
        EventAudience.objects.filter(event=matched).values_list("organization_id", flat=True)
    ) == {cworld.poster_org.id}

    # A rerun: nothing new. The SME lacking the VSM gets one and is matched: it hears.
    add_capability(novsm, "facility-vsm", capacity_per_month=None, capacity_unit="")
    client_for(cworld.poster).post(f"/api/v1/collaboration/calls/{call['id']}/runs/")
    run_pending(call["id"])
    assert told() == {
        str(lab.id): {lab.owner_id},
        str(half.id): {half.owner_id},
        str(novsm.id): {novsm.owner_id},
    }
