"""Match runs against the database: the right matches, near misses, reruns that keep the
lifecycle, failures, the sweep and the reverse refresh."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from matching import runs
from matching.choices import MatchStatus
from matching.models import Match, MatchRun, NearMiss, ProcurementRequest
from matching.scoring import ALGORITHM_VERSION
from remag import jobs
from suppliers.choices import SupplierStatus
from suppliers.models import Supplier, SupplierCapability
from tests.matching.conftest import add_certificate, client_for, run_pending

pytestmark = pytest.mark.django_db


def matched(request_id: str) -> dict[str, float]:
    return {
        m.supplier.legal_name.split()[0].lower(): m.score
        for m in Match.objects.filter(request_id=request_id, qualifies=True).select_related(
            "supplier"
        )
    }


def misses(request_id: str) -> dict[str, str]:
    return {
        n.supplier.legal_name.split()[0].lower(): n.constraint
        for n in NearMiss.objects.filter(request_id=request_id).select_related("supplier")
    }


def test_run_finds_the_qualifying_suppliers_and_the_near_misses(world: Any, published: Any) -> None:
    request_id = published()
    assert set(matched(request_id)) == {"full", "half", "far"}
    assert misses(request_id) == {
        "expired": "certification:iso-9001",
        "pending": "active",
    }
    run = MatchRun.objects.get(request_id=request_id)
    assert run.status == "succeeded"
    assert run.algorithm_version == ALGORITHM_VERSION
    # Suppliers offering a required capability, minus the suspended one: not the
    # supplier offering only another components capability, nor the testing lab.
    assert run.candidate_count == 5
    assert run.matched_count == 3
    assert run.near_miss_count == 2
    assert run.attempts == 1
    assert run.load_seconds is not None
    assert run.score_seconds is not None
    assert run.started_at <= run.finished_at


def test_ranking_and_explanations(world: Any, published: Any) -> None:
    request_id = published()
    ranked = list(Match.objects.filter(request_id=request_id).select_related("supplier"))
    names = [m.supplier.legal_name.split()[0] for m in ranked]
    assert names[0] == "Full"  # both capabilities, close, IATF held, fast
    assert names.index("Far") < names.index("Half")  # Half offers only one capability
    top = ranked[0]
    assert abs(sum(f["contribution"] for f in top.explained_factors()) - top.score) < 0.05
    assert any(r == "holds a valid iso-9001 certificate" for r in top.reasons)
    half = next(m for m in ranked if m.supplier.legal_name.startswith("Half"))
    assert any("approximate" in r for r in half.reasons)
    distance = next(f for f in half.explained_factors() if f["name"] == "distance")
    assert distance["value"] == 0.5


def test_radius_turns_a_far_supplier_into_a_near_miss(world: Any, published: Any) -> None:
    request_id = published(max_distance_km=300)
    assert "far" not in matched(request_id)
    assert misses(request_id)["far"] == "distance"
    # The supplier without coordinates is not excluded by the radius.
    assert "half" in matched(request_id)


def test_rerun_updates_in_place_and_keeps_the_lifecycle(world: Any, published: Any) -> None:
    request_id = published()
    full = Match.objects.get(request_id=request_id, supplier=world.suppliers["full"])
    response = client_for(world.buyer).post(
        f"/api/v1/matches/{full.id}/transitions/", {"status": "shortlisted"}, format="json"
    )
    assert response.status_code == 201
    # The expired supplier renews; the half supplier loses its certificate.
    add_certificate(world.suppliers["expired"])
    world.suppliers["half"].certificates.all().delete()
    request = ProcurementRequest.objects.get(id=request_id)
    run, created = runs.match_run_create(request=request, trigger="manual")
    assert created
    runs.match_run_execute(run_id=run.id)

    again = Match.objects.get(request_id=request_id, supplier=world.suppliers["full"])
    assert again.id == full.id
    assert again.status == "shortlisted"
    assert set(matched(request_id)) == {"full", "expired", "far"}
    assert "half" not in set(matched(request_id))
    assert not Match.objects.filter(
        request_id=request_id, supplier=world.suppliers["half"]
    ).exists()
    assert misses(request_id)["half"] == "certification:iso-9001"
    assert Match.objects.filter(request_id=request_id).count() == 3


def staged_near_misses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy on ``runs.stage_rows``: the list it returns grows by the number of near misses
    staged at each call."""
    staged: list[int] = []
    real_stage = runs.stage_rows

    def stage(raw: Any, scored: Any, missed: list[Any]) -> None:
        staged.append(len(missed))
        real_stage(raw, scored, missed)

    monkeypatch.setattr(runs, "stage_rows", stage)
    return staged


def test_a_rerun_rewrites_only_the_near_misses_that_changed(
    world: Any, published: Any, postgres: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun compares the stored near misses with its own and stages and writes them
    only when they differ: nothing staged when nothing changed, and PostgreSQL's row
    versions (``xmin``) of the unchanged ones stay."""
    staged = staged_near_misses(monkeypatch)

    def versions(request_id: str) -> dict[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT supplier_id::text, xmin::text FROM matching_nearmiss WHERE request_id = %s",
                [request_id],
            )
            return dict(cursor.fetchall())

    def rerun(request_id: str) -> None:
        run, _ = runs.match_run_create(
            request=ProcurementRequest.objects.get(id=request_id), trigger="manual"
        )
        runs.match_run_execute(run_id=run.id)

    request_id = published()
    before = versions(request_id)
    assert len(before) == 2
    staged.clear()
    rerun(request_id)
    assert staged == []
    assert versions(request_id) == before
    assert misses(request_id) == {"expired": "certification:iso-9001", "pending": "active"}
    # The half supplier loses its certificate: a new near miss, the others untouched
    # only if the statement left them alone (ON CONFLICT ... WHERE IS DISTINCT FROM).
    world.suppliers["half"].certificates.all().delete()
    rerun(request_id)
    assert staged == [3]
    after = versions(request_id)
    assert set(after) == {*before, str(world.suppliers["half"].id)}
    assert misses(request_id)["half"] == "certification:iso-9001"


def test_near_misses_where_none_are_stored_are_copied_without_staging(
    world: Any, published: Any, postgres: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run, or a rerun of a request left without near misses, copies its near
    misses straight into the table: nothing staged, the same rows as the upsert leaves;
    a rerun that drops them all still deletes them through the staged statements."""
    staged = staged_near_misses(monkeypatch)
    expected = {"expired": "certification:iso-9001", "pending": "active"}
    request_id = published()
    assert staged == []
    assert misses(request_id) == expected
    reasons = set(NearMiss.objects.filter(request_id=request_id).values_list("reason", flat=True))
    NearMiss.objects.filter(request_id=request_id).delete()
    # And one match's inputs change (a lead time), so the rerun also stages matches.
    half = world.suppliers["half"]
    SupplierCapability.objects.filter(supplier=half).update(lead_time_days=97)
    run, _ = runs.match_run_create(
        request=ProcurementRequest.objects.get(id=request_id), trigger="manual"
    )
    runs.match_run_execute(run_id=run.id)
    assert staged == [0]  # the changed match, no near miss
    assert any("lead time 97 days" in r for r in Match.objects.get(supplier=half).reasons)
    assert misses(request_id) == expected
    assert (
        set(NearMiss.objects.filter(request_id=request_id).values_list("reason", flat=True))
        == reasons
    )
    staged.clear()
    # Both leave matching (suspended, not candidates any more): the stored ones go.
    Supplier.objects.filter(
        id__in=[world.suppliers["expired"].id, world.suppliers["pending"].id]
    ).update(status=SupplierStatus.SUSPENDED)
    run, _ = runs.match_run_create(
        request=ProcurementRequest.objects.get(id=request_id), trigger="manual"
    )
    runs.match_run_execute(run_id=run.id)
    assert staged == [0]
    assert misses(request_id) == {}


def test_a_shortlisted_match_that_stops_qualifying_is_kept_flagged(
    world: Any, published: Any
) -> None:
    request_id = published()
    half = Match.objects.get(request_id=request_id, supplier=world.suppliers["half"])
    client_for(world.buyer).post(
        f"/api/v1/matches/{half.id}/transitions/", {"status": "shortlisted"}, format="json"
    )
    world.suppliers["half"].certificates.all().delete()
    run, _ = runs.match_run_create(
        request=ProcurementRequest.objects.get(id=request_id), trigger="manual"
    )
    runs.match_run_execute(run_id=run.id)
    half.refresh_from_db()
    assert half.status == "shortlisted"
    assert half.qualifies is False


def test_executing_a_run_twice_changes_nothing(world: Any, published: Any) -> None:
    request_id = published()
    before = {(m.id, m.score, m.supplier_id) for m in Match.objects.filter(request_id=request_id)}
    run = MatchRun.objects.get(request_id=request_id)
    again = runs.match_run_execute(run_id=run.id)
    assert again is not None
    assert again.status == "succeeded"
    assert again.attempts == 1
    after = {(m.id, m.score, m.supplier_id) for m in Match.objects.filter(request_id=request_id)}
    assert before == after


def test_two_runs_of_one_request_leave_one_set(world: Any, published: Any) -> None:
    request_id = published()
    before = {(m.supplier_id, m.score) for m in Match.objects.filter(request_id=request_id)}
    request = ProcurementRequest.objects.get(id=request_id)
    first = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())
    second = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())
    runs.match_run_execute(run_id=second.id)
    runs.match_run_execute(run_id=first.id)
    after = {(m.supplier_id, m.score) for m in Match.objects.filter(request_id=request_id)}
    assert after == before
    assert len(after) == 3


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_both_write_paths_leave_the_same_rows(world: Any, published: Any, method: str) -> None:
    from django.db import connection, transaction

    from matching import candidates, scoring

    if method == "copy" and connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    request_id = published()
    shortlisted = Match.objects.get(request_id=request_id, supplier=world.suppliers["half"])
    Match.objects.filter(id=shortlisted.id).update(status="shortlisted")
    world.suppliers["half"].certificates.all().delete()  # stops qualifying: kept, flagged
    add_certificate(world.suppliers["expired"])  # starts qualifying
    request = ProcurementRequest.objects.get(id=request_id)
    loaded = candidates.load(request, run_date=timezone.localdate())
    result = scoring.score(loaded.criteria, loaded.batch)
    run = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())
    with transaction.atomic():
        runs.write_results(request=request, loaded=loaded, result=result, run=run, method=method)
    rows = {
        m.supplier.legal_name.split()[0]: (m.qualifies, m.status, m.score, len(m.reasons))
        for m in Match.objects.filter(request_id=request_id).select_related("supplier")
    }
    expected = {m.supplier_id: m.score for m in result.matches()}
    assert {k for k, v in rows.items() if v[0]} == {"Full", "Expired", "Far"}
    assert rows["Half"][:2] == (False, "shortlisted")
    for m in Match.objects.filter(request_id=request_id, qualifies=True):
        assert m.score == expected[str(m.supplier_id)]
        assert m.explained_factors()[0]["name"] == "capability_coverage"
        assert len(m.factors) == len(scoring.FACTORS)
    assert misses(request_id) == {
        "half": "certification:iso-9001",
        "pending": "active",
    }


def test_a_queued_run_is_reused_rather_than_doubled(world: Any, post_request: Any) -> None:
    created = post_request()
    request = ProcurementRequest.objects.get(id=created["id"])
    first, made = runs.match_run_create(request=request, trigger="manual")
    second, made_again = runs.match_run_create(request=request, trigger="manual")
    assert made
    assert not made_again
    assert first.id == second.id


def test_failing_attempts_retry_then_fail_with_the_error(
    world: Any, post_request: Any, settings: Any
) -> None:
    request = ProcurementRequest.objects.get(id=post_request()["id"])
    run, _ = runs.match_run_create(request=request, trigger="manual")
    kind = runs.MATCH_RUN_JOB
    delays = []
    for _attempt in range(settings.REMAG_JOB_MAX_ATTEMPTS):
        MatchRun.objects.filter(id=run.id).update(enqueued_at=timezone.now())  # due now
        assert jobs.job_start(kind, job_id=run.id) is not None
        delays.append(jobs.job_fail(kind, job_id=run.id, error="ValueError: broken"))
    run.refresh_from_db()
    assert delays[:-1] == [2.0, 4.0]
    assert delays[-1] is None
    assert run.status == "failed"
    assert run.error == "ValueError: broken"
    assert run.failures == settings.REMAG_JOB_MAX_ATTEMPTS
    assert runs.match_run_execute(run_id=run.id).status == "failed"  # stays failed


def test_a_retry_is_not_taken_before_it_is_due(world: Any, post_request: Any) -> None:
    request = ProcurementRequest.objects.get(id=post_request()["id"])
    run, _ = runs.match_run_create(request=request, trigger="manual")
    assert jobs.job_start(runs.MATCH_RUN_JOB, job_id=run.id) is not None
    assert jobs.job_fail(runs.MATCH_RUN_JOB, job_id=run.id, error="ValueError: x") == 2.0
    # A duplicate message arriving before the backoff is over does nothing.
    assert runs.match_run_execute(run_id=run.id).status == "queued"
    run.refresh_from_db()
    assert run.attempts == 1


def test_a_run_held_by_a_live_worker_is_left_alone(world: Any, post_request: Any) -> None:
    """A repeated message (a sweep run with --lease 0 during a live run) costs nothing."""
    request = ProcurementRequest.objects.get(id=post_request()["id"])
    run, _ = runs.match_run_create(request=request, trigger="manual")
    assert jobs.job_start(runs.MATCH_RUN_JOB, job_id=run.id, holder="worker-a") is not None
    for _ in range(5):
        assert runs.match_run_execute(run_id=run.id, holder="worker-b").status == "running"
    run.refresh_from_db()
    assert (run.attempts, run.failures, run.holder) == (1, 0, "worker-a")
    # The holder itself (a retry of its own message) carries on.
    assert runs.match_run_execute(run_id=run.id, holder="worker-a").status == "succeeded"


def test_a_dead_workers_run_is_taken_over_without_counting_a_failure(
    world: Any, post_request: Any, settings: Any
) -> None:
    request = ProcurementRequest.objects.get(id=post_request()["id"])
    run, _ = runs.match_run_create(request=request, trigger="manual")
    stale = timezone.now() - timedelta(seconds=settings.REMAG_MATCH_RUN_LEASE_SECONDS + 5)
    # More worker deaths than JOB_MAX_ATTEMPTS: still retried, never given up.
    MatchRun.objects.filter(id=run.id).update(
        status="running",
        attempts=settings.REMAG_JOB_MAX_ATTEMPTS + 3,
        started_at=timezone.now() - timedelta(minutes=10),
        heartbeat_at=stale,
        holder="dead-worker",
    )
    run = runs.match_run_execute(run_id=run.id, holder="new-worker")
    assert run.status == "succeeded"
    assert run.failures == 0
    assert run.attempts == settings.REMAG_JOB_MAX_ATTEMPTS + 4


def test_a_run_whose_worker_keeps_dying_ends_failed_after_its_time_budget(
    world: Any, post_request: Any, settings: Any
) -> None:
    request = ProcurementRequest.objects.get(id=post_request()["id"])
    run, _ = runs.match_run_create(request=request, trigger="manual")
    long_ago = timezone.now() - timedelta(seconds=settings.REMAG_JOB_TIME_BUDGET_SECONDS + 60)
    MatchRun.objects.filter(id=run.id).update(
        status="running", attempts=7, started_at=long_ago, heartbeat_at=long_ago
    )
    runs.match_run_execute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "Gave up" in run.error
    assert "7 attempts" in run.error


def test_sweep_resends_only_lost_and_stale_runs(
    world: Any, post_request: Any, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    request = ProcurementRequest.objects.get(id=post_request()["id"])

    def make(status: str, **fields: Any) -> MatchRun:
        return MatchRun.objects.create(request=request, trigger="manual", status=status, **fields)

    lost = make("queued", enqueued_at=now - timedelta(minutes=10))
    fresh = make("queued", enqueued_at=now)
    dead = make("running", heartbeat_at=now - timedelta(minutes=30))
    alive = make("running", heartbeat_at=now)
    done = make("succeeded", enqueued_at=now - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as callbacks:
        resent = runs.match_runs_sweep(
            queued_after=timedelta(minutes=2), lease=timedelta(minutes=5)
        )
    assert set(resent) == {str(lost.id), str(dead.id)}
    assert len(callbacks) == 2
    lost.refresh_from_db()
    assert lost.enqueued_at > now
    for untouched in (fresh, alive, done):
        assert str(untouched.id) not in resent


def test_a_closed_request_cannot_be_run(world: Any, published: Any) -> None:
    request_id = published()
    client = client_for(world.buyer)
    assert client.post(f"/api/v1/requests/{request_id}/close/").status_code == 200
    response = client.post(f"/api/v1/requests/{request_id}/match-runs/")
    assert response.status_code == 409
    assert response.json()["code"] == "request_not_runnable"


# ------------------------------------------------------------------ reverse direction


def test_supplier_refresh_brings_a_renewed_supplier_into_open_requests(
    world: Any, published: Any
) -> None:
    request_id = published()
    expired = world.suppliers["expired"]
    assert misses(request_id)["expired"] == "certification:iso-9001"
    add_certificate(expired)
    assert runs.supplier_opportunities_refresh(supplier_id=expired.id) == 1
    assert "expired" in matched(request_id)
    assert "expired" not in misses(request_id)
    # Losing it again removes the (still proposed) match and restores the near miss.
    expired.certificates.all().delete()
    runs.supplier_opportunities_refresh(supplier_id=expired.id)
    assert "expired" not in matched(request_id)
    assert misses(request_id)["expired"] == "certification:iso-9001"


def test_supplier_refresh_drops_a_suspended_supplier(world: Any, published: Any) -> None:
    request_id = published()
    full = world.suppliers["full"]
    full.status = "suspended"
    full.save()
    runs.supplier_opportunities_refresh(supplier_id=full.id)
    assert "full" not in matched(request_id)
    assert "full" not in misses(request_id)


def test_supplier_refresh_finds_requests_through_its_matches_and_near_misses(
    world: Any, published: Any
) -> None:
    """A supplier that offers nothing any more has no layer to find open requests by; the
    requests it matched or nearly matched are found through those rows (each table by its
    supplier index, never both joined in one statement: that join multiplied every open
    request's matches by its near misses) and its rows there are dropped."""
    from django.test.utils import CaptureQueriesContext

    request_id = published()
    full, expired = world.suppliers["full"], world.suppliers["expired"]
    assert "full" in matched(request_id)
    assert "expired" in misses(request_id)
    for supplier in (full, expired):
        supplier.capabilities.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert runs.supplier_opportunities_refresh(supplier_id=full.id) == 1
        assert runs.supplier_opportunities_refresh(supplier_id=expired.id) == 1
    assert "full" not in matched(request_id)  # still proposed: deleted
    assert "expired" not in misses(request_id)
    both = [
        query["sql"]
        for query in queries.captured_queries
        if '"matching_match"' in query["sql"] and '"matching_nearmiss"' in query["sql"]
    ]
    assert both == []


def test_supplier_refresh_rescores_only_the_requests_asking_for_what_it_offers(
    world: Any, published: Any
) -> None:
    """Strip casting only: of two open requests of its layer it is rescored against the
    one asking for strip casting (a near miss there once its ISO 9001 is gone), not the
    one asking for jet milling, where it can be no candidate."""
    jet = published()
    strip = published(title="Strip-cast alloy", required_capabilities=["strip-casting"])
    wrong = world.suppliers["wrong_cap"]
    assert "wrongcap" in matched(strip)
    wrong.certificates.all().delete()
    assert runs.supplier_opportunities_refresh(supplier_id=wrong.id) == 1
    assert "wrongcap" not in matched(strip)
    assert misses(strip)["wrongcap"] == "certification:iso-9001"
    assert "wrongcap" not in matched(jet)
    assert "wrongcap" not in misses(jet)
    assert runs.supplier_opportunities_refresh(supplier_id=world.suppliers["testing"].id) == 0


def test_supplier_refresh_finds_a_request_whose_capability_moved_to_another_layer(
    world: Any, published: Any
) -> None:
    """An operator moves a capability to another layer after a request asked for it: a
    supplier offering it, with no match or near miss there yet, is still rescored against
    that request (the request's layer is not the capability's any more)."""
    from suppliers.models import Capability
    from tests.factories import SupplierFactory
    from tests.matching.conftest import PUNE, add_capability

    request_id = published()
    newcomer = SupplierFactory(
        legal_name="Newcomer Magnetics Pvt Ltd", latitude=PUNE[0], longitude=PUNE[1]
    )
    add_capability(newcomer, "jet-milling")
    add_certificate(newcomer)
    Capability.objects.filter(code="jet-milling").update(layer="chemicals")
    assert runs.supplier_opportunities_refresh(supplier_id=newcomer.id) == 1
    assert "newcomer" in matched(request_id)


def test_supplier_refresh_ignores_closed_requests(world: Any, published: Any) -> None:
    request_id = published()
    client_for(world.buyer).post(f"/api/v1/requests/{request_id}/close/")
    add_certificate(world.suppliers["expired"])
    assert runs.supplier_opportunities_refresh(supplier_id=world.suppliers["expired"].id) == 0
    assert "expired" not in matched(request_id)


def test_a_good_or_poor_outcome_no_longer_feeds_the_track_record(
    world: Any, published: Any
) -> None:
    """From remag-2026.11.5 the track record comes from delivery outcomes
    (tests/matching/procurement/test_track_record.py); the buyer's good/poor stays a note."""
    first = published()
    full = world.suppliers["full"]
    match = Match.objects.get(request_id=first, supplier=full)
    Match.objects.filter(id=match.id).update(status=MatchStatus.AWARDED, outcome="good")
    second = published()
    record = next(
        f
        for f in Match.objects.get(request_id=second, supplier=full).explained_factors()
        if f["name"] == "track_record"
    )
    assert record["value"] == 0.5


def _scans_per_outer_row(node: dict[str, Any]) -> list[str]:
    """The temporary tables a plan scans sequentially once per outer row (the inner side
    of a nested loop, or a plain subplan)."""
    found = []
    children = node.get("Plans", [])
    if node["Node Type"] == "Nested Loop" and len(children) == 2:
        inner = children[1]
        if inner["Node Type"] == "Seq Scan" and inner["Relation Name"].startswith("remag_"):
            found.append(inner["Relation Name"])
    for child in children:
        if child.get("Parent Relationship") == "SubPlan" and child["Node Type"] == "Seq Scan":
            found.append(child.get("Relation Name", ""))
        found.extend(_scans_per_outer_row(child))
    return found


def test_rerun_statements_never_scan_the_staged_rows_per_row(postgres: None) -> None:
    """A request new to the planner's statistics (every request of a young deployment)
    must not get a nested loop that scans the staged rows once per existing row: that is
    quadratic, and a broad first run timed out. (Stale matches are found by id in Python
    and removed by key, see ``runs._STALE_MATCHES``.)"""
    import json
    import uuid

    from django.db import connection, transaction

    scored = [(str(uuid.uuid4()), 50.0, 40.0, "[]", "[]", 1) for _ in range(20000)]
    missed = [(str(uuid.uuid4()), "active", "not verified") for _ in range(5000)]
    params = {"request": uuid.uuid4(), "now": timezone.now()}
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        runs.stage_rows(cursor.cursor, scored, missed)
        for statement in filter(str.strip, runs._COPY_STALE.split(";")):
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, params)
            plan = cursor.fetchone()[0]
            plans.append(json.loads(plan) if isinstance(plan, str) else plan)
    assert len(plans) == 2
    for plan in plans:
        assert _scans_per_outer_row(plan[0]["Plan"]) == [], json.dumps(plan, indent=1)


def test_a_certificate_expiring_before_the_needed_by_date_is_a_near_miss(
    world: Any, published: Any
) -> None:
    today = timezone.localdate()
    needed_by = today + timedelta(days=60)
    # Valid today, but it expires a day before the delivery.
    world.suppliers["full"].certificates.filter(certification__code="iso-9001").update(
        valid_until=needed_by - timedelta(days=1)
    )
    request_id = published(needed_by=needed_by.isoformat())

    assert "full" not in matched(request_id)
    assert misses(request_id)["full"] == "certification:iso-9001"
    near = NearMiss.objects.get(request_id=request_id, supplier=world.suppliers["full"])
    assert near.reason == (
        f"its iso-9001 certificate expires before the needed-by date ({needed_by.isoformat()})"
    )
    gaps = (
        client_for(world.sme_users["full"])
        .get(f"/api/v1/suppliers/{world.suppliers['full'].id}/gaps/")
        .json()["results"]
    )
    assert [g["constraint"] for g in gaps] == ["certification:iso-9001"]
    assert "valid through the needed-by date" in gaps[0]["summary"]

    # Valid through the needed-by date itself: it qualifies.
    world.suppliers["full"].certificates.filter(certification__code="iso-9001").update(
        valid_until=needed_by
    )
    response = client_for(world.buyer).post(f"/api/v1/requests/{request_id}/match-runs/")
    assert response.status_code == 202, response.json()
    run_pending(request_id)
    assert "full" in matched(request_id)


def _rerun(request_id: str) -> MatchRun:
    run = MatchRun.objects.create(
        request_id=request_id, trigger="manual", enqueued_at=timezone.now()
    )
    runs.match_run_execute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == "succeeded"
    return run


def test_a_rerun_rewrites_only_the_matches_whose_inputs_changed(world: Any, published: Any) -> None:
    """Every match stores the digest of its inputs; a rerun explains and writes only the
    matches whose digest changed (on both write paths)."""
    request_id = published()
    before = {m.supplier_id: m for m in Match.objects.filter(request_id=request_id)}
    assert all(m.digest is not None for m in before.values())
    full, far = world.suppliers["full"], world.suppliers["far"]
    # A marker no run would write: kept only if the rerun leaves the row alone.
    Match.objects.filter(request_id=request_id, supplier=far).update(reasons=["untouched"])
    full.capabilities.update(lead_time_days=90)  # changes the lead-time factor

    second = _rerun(request_id)

    after = {m.supplier_id: m for m in Match.objects.filter(request_id=request_id)}
    assert after[far.id].reasons == ["untouched"]
    assert after[far.id].run_id == before[far.id].run_id
    assert after[far.id].digest == before[far.id].digest
    assert after[full.id].run_id == second.id
    assert after[full.id].digest != before[full.id].digest
    assert any("lead time 90 days" in reason for reason in after[full.id].reasons)
    assert after[full.id].score < before[full.id].score


def test_a_changed_request_rewrites_every_match(world: Any, published: Any) -> None:
    request_id = published()
    Match.objects.filter(request_id=request_id).update(reasons=["untouched"])
    ProcurementRequest.objects.filter(id=request_id).update(
        needed_by=timezone.localdate() + timedelta(days=45)
    )
    second = _rerun(request_id)
    rows = list(Match.objects.filter(request_id=request_id, qualifies=True))
    assert rows
    assert all(m.run_id == second.id and m.reasons != ["untouched"] for m in rows)


def test_a_match_that_qualifies_again_is_written_again(world: Any, published: Any) -> None:
    request_id = published()
    half = world.suppliers["half"]
    Match.objects.filter(request_id=request_id, supplier=half).update(status="shortlisted")
    certificates = list(half.certificates.all())
    half.certificates.all().delete()
    _rerun(request_id)
    row = Match.objects.get(request_id=request_id, supplier=half)
    assert (row.qualifies, row.status) == (False, "shortlisted")
    for certificate in certificates:
        certificate.save(force_insert=True)
    _rerun(request_id)
    row.refresh_from_db()
    assert (row.qualifies, row.status) == (True, "shortlisted")


def test_time_ordered_uuids_are_distinct_ascending_version_7_uuids() -> None:
    import time
    import uuid

    before = time.time_ns() // 1_000_000
    ids = runs.time_ordered_uuids(5000)
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(text) for text in ids]
    assert len(set(ids)) == 5000
    assert {u.version for u in parsed} == {7}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert [str(u) for u in parsed] == ids
    assert ids == sorted(ids)  # text and UUID order agree
    assert parsed == sorted(parsed)
    assert all(before <= u.int >> 80 <= after for u in parsed)  # the milliseconds
    assert runs.time_ordered_uuids(0) == []
    at = datetime(2026, 11, 27, 13, 51, 41, 123999, tzinfo=UTC)
    (stamped,) = runs.time_ordered_uuids(1, at=at)
    assert uuid.UUID(stamped).int >> 80 == 1_795_787_501_123


def test_a_first_runs_matches_have_time_ordered_ids(world: Any, published: Any) -> None:
    request_id = published()
    request = ProcurementRequest.objects.get(id=request_id)
    run = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())
    assert runs.match_run_execute(run_id=run.id).status == "succeeded"  # type: ignore[union-attr]

    rows = list(Match.objects.filter(request=request).values_list("id", "created_at"))
    assert rows
    expected = 7 if connection.vendor == "postgresql" else 4  # COPY there, the ORM here
    assert {i.version for i, _ in rows} == {expected}
    if expected == 7:  # the milliseconds an id shows are its match's created_at
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        assert {i.int >> 80 for i, _ in rows} == {
            (created - epoch) // timedelta(milliseconds=1) for _, created in rows
        }


def test_a_run_loads_scores_and_writes_with_the_collector_paused(
    world: Any, published: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk steps run with the cyclic collector off (remag.gc_tuning.gc_paused), and
    it is on again afterwards, after a failure too."""
    import gc

    request_id = published()
    request = ProcurementRequest.objects.get(id=request_id)
    seen: list[tuple[str, bool]] = []
    load, write = runs.candidates.load, runs.write_results

    def spy_load(*args: Any, **kwargs: Any) -> Any:
        seen.append(("load", gc.isenabled()))
        return load(*args, **kwargs)

    def spy_write(**kwargs: Any) -> Any:
        seen.append(("write", gc.isenabled()))
        return write(**kwargs)

    monkeypatch.setattr(runs.candidates, "load", spy_load)
    monkeypatch.setattr(runs, "write_results", spy_write)
    assert gc.isenabled()
    run = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())
    assert runs.match_run_execute(run_id=run.id).status == "succeeded"  # type: ignore[union-attr]
    assert seen == [("load", False), ("write", False)]
    assert gc.isenabled()

    def broken_write(**kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "write_results", broken_write)
    run = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())
    with pytest.raises(RuntimeError):
        runs.match_run_execute(run_id=run.id)
    assert gc.isenabled()


def test_deleting_a_run_leaves_its_matches_without_it(world: Any, published: Any) -> None:
    """A match's run has no foreign key in the database (its check cost every written
    match): deleting a run through the ORM, as the admin does, still clears the matches'
    reference to it and keeps the matches."""
    request_id = published()
    run = MatchRun.objects.get(request_id=request_id)
    written = set(Match.objects.filter(run=run).values_list("id", flat=True))
    assert written
    run.delete()
    assert set(
        Match.objects.filter(id__in=written, run__isnull=True).values_list("id", flat=True)
    ) == (written)


def _first_run_inputs(request_id: str) -> tuple[Any, Any, Any, Any]:
    from matching import candidates, scoring

    request = ProcurementRequest.objects.get(id=request_id)
    Match.objects.filter(request=request).delete()  # a request's first run, once more
    loaded = candidates.load(request, run_date=timezone.localdate())
    result = scoring.score(loaded.criteria, loaded.batch)
    run = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())
    return request, loaded, result, run


def test_a_first_run_copies_every_match_a_slice_at_a_time(
    postgres: None, world: Any, published: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run's COPY is fed slices of explained matches by a writer thread: with
    one match a slice, every match arrives whole, as scoring explained it."""
    from django.db import transaction

    request, loaded, result, run = _first_run_inputs(published())
    monkeypatch.setattr(runs, "COPY_CHUNK", 1)
    monkeypatch.setattr(runs, "COPY_QUEUE", 1)  # Python waits for the thread at each slice
    queues = []

    class Writer(runs._CopyWriter):
        def __init__(self, cursor: Any) -> None:
            super().__init__(cursor)
            queues.append(self._queue.maxsize)

    monkeypatch.setattr(runs, "_CopyWriter", Writer)
    with transaction.atomic():
        runs.write_results(request=request, loaded=loaded, result=result, run=run, method="copy")
    assert queues == [1]  # the first run's COPY went through the bounded writer
    stored = {str(m.supplier_id): m for m in Match.objects.filter(request=request)}
    expected = {m.supplier_id: m for m in result.matches()}
    assert len(expected) >= 2
    assert set(stored) == set(expected)
    for supplier_id, match in expected.items():
        row = stored[supplier_id]
        assert row.score == match.score
        assert row.reasons == list(match.reasons)
        assert [f["contribution"] for f in row.explained_factors()] == [
            f.contribution for f in match.factors
        ]
        assert row.run_id == run.id


def test_a_first_run_refused_mid_copy_raises_and_stores_nothing(
    postgres: None, world: Any, published: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row PostgreSQL refuses in a later slice (a score out of range) reaches the run
    as the database's error, from the writer thread, and leaves no match behind."""
    from django.db import transaction
    from psycopg import IntegrityError  # COPY goes through psycopg's own cursor

    request, loaded, result, run = _first_run_inputs(published())
    monkeypatch.setattr(runs, "COPY_CHUNK", 1)
    explained = runs._explained_chunks

    def one_refused(*args: Any, **kwargs: Any) -> Any:
        for n, chunk in enumerate(explained(*args, **kwargs)):
            if n == 1:
                supplier_id, _, public, factors, reasons, digest = chunk[0]
                chunk = [(supplier_id, 150.0, public, factors, reasons, digest)]
            yield chunk

    monkeypatch.setattr(runs, "_explained_chunks", one_refused)
    with pytest.raises(IntegrityError, match="match_score_range"), transaction.atomic():
        runs.write_results(request=request, loaded=loaded, result=result, run=run, method="copy")
    assert not Match.objects.filter(request=request).exists()
