"""Deleting a supplier or a request through the ORM (the admin, a shell) takes their
matches and near misses with them, and leaves everyone else's."""

from typing import Any

import pytest

from matching.models import Match, NearMiss, ProcurementRequest
from suppliers.models import Supplier

pytestmark = pytest.mark.django_db


def test_deleting_a_supplier_takes_its_matches_and_near_misses(world: Any, published: Any) -> None:
    request_id = published()
    matched = Match.objects.filter(request_id=request_id).values_list("supplier_id", flat=True)
    missed = NearMiss.objects.filter(request_id=request_id).values_list("supplier_id", flat=True)
    gone = {matched[0], missed[0]}
    kept = (set(matched) | set(missed)) - gone
    assert kept  # the others are left alone
    for supplier in Supplier.objects.filter(id__in=gone):
        supplier.delete()
    assert not Match.objects.filter(supplier_id__in=gone).exists()
    assert not NearMiss.objects.filter(supplier_id__in=gone).exists()
    left = set(Match.objects.filter(request_id=request_id).values_list("supplier_id", flat=True))
    left |= set(
        NearMiss.objects.filter(request_id=request_id).values_list("supplier_id", flat=True)
    )
    assert left == kept


def test_deleting_a_request_takes_its_matches_and_near_misses(world: Any, published: Any) -> None:
    request_id, other_id = published(), published()
    assert Match.objects.filter(request_id=request_id).exists()
    assert NearMiss.objects.filter(request_id=request_id).exists()
    others = Match.objects.filter(request_id=other_id).count()
    ProcurementRequest.objects.get(id=request_id).delete()
    assert not Match.objects.filter(request_id=request_id).exists()
    assert not NearMiss.objects.filter(request_id=request_id).exists()
    assert Match.objects.filter(request_id=other_id).count() == others


@pytest.mark.django_db(transaction=True)
def test_a_request_deleted_while_a_run_writes_leaves_no_match_naming_it(
    postgres: None, world: Any, published: Any
) -> None:
    """The admin's deletion reads a request's matches, deletes them, then waits for the
    request's row, which a run writing new matches holds. When the run commits, the
    deletion must not leave the run's matches naming a request that is gone: the
    database's foreign key refuses the deletion instead (docs/benchmarks.md, sixteenth
    pass: the keys were dropped once, and this is what that broke)."""
    import threading

    from django.db import connection, connections, transaction
    from django.utils import timezone

    from matching import candidates, runs, scoring
    from tests.conftest import wait_for

    request_id = published()
    Match.objects.filter(request_id=request_id).delete()  # the next write is a first run's
    NearMiss.objects.filter(request_id=request_id).delete()
    request = ProcurementRequest.objects.get(id=request_id)
    loaded = candidates.load(request, run_date=timezone.localdate())
    result = scoring.score(loaded.criteria, loaded.batch)
    assert result.matched_count
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                ProcurementRequest.objects.select_for_update().get(id=request_id)
                runs.write_results(request=request, loaded=loaded, result=result, run=None)
                written.set()
                release.wait(30)
        finally:
            written.set()
            connections.close_all()

    def delete() -> None:
        try:
            ProcurementRequest.objects.get(id=request_id).delete()
        except BaseException as exc:  # the foreign key's refusal, reported below
            errors.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=run)
    writer.start()
    assert written.wait(30)
    deleter = threading.Thread(target=delete)
    deleter.start()

    def waiting_for_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

    wait_for(waiting_for_a_lock)  # the deletion has read the matches and waits
    release.set()
    writer.join(30)
    deleter.join(30)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM matching_match m WHERE NOT EXISTS"
            " (SELECT 1 FROM matching_procurementrequest r WHERE r.id = m.request_id)"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(*) FROM matching_nearmiss n WHERE NOT EXISTS"
            " (SELECT 1 FROM matching_procurementrequest r WHERE r.id = n.request_id)"
        )
        assert cursor.fetchone()[0] == 0
    assert ProcurementRequest.objects.filter(id=request_id).exists()  # refused, not half-done
    assert len(errors) == 1
