"""Matches and near misses name their request and supplier without foreign-key
constraints in the database (``matching.models``, the note above ``Match``): a run's
commit locks no supplier row, and a deletion through the ORM still takes their rows."""

from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from matching import candidates, runs, scoring
from matching.models import Match, MatchRun, NearMiss, ProcurementRequest
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


def _dsn() -> str:
    settings = connection.settings_dict
    return (
        f"host={settings['HOST']} port={settings['PORT'] or 5432} dbname={settings['NAME']}"
        f" user={settings['USER']}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_first_runs_commit_locks_no_supplier_row(
    postgres: None, world: Any, published: Any
) -> None:
    """With foreign keys, PostgreSQL checks each new row's at commit and holds a KEY SHARE
    lock on its supplier's row until the commit ends: an import or a claim locking that
    supplier waited for the whole run's commit. Without them nothing is locked."""
    request = ProcurementRequest.objects.get(id=published())
    Match.objects.filter(request=request).delete()  # the request's first run, once more
    NearMiss.objects.filter(request=request).delete()
    loaded = candidates.load(request, run_date=timezone.localdate())
    result = scoring.score(loaded.criteria, loaded.batch)
    run = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())
    suppliers = [m.supplier_id for m in result.matches()]
    suppliers += [miss.supplier_id for miss in result.near_misses]
    assert len(suppliers) >= 3
    with transaction.atomic():
        runs.write_results(request=request, loaded=loaded, result=result, run=run, method="copy")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what the commit would check
        with psycopg.connect(_dsn(), autocommit=True) as other:
            locked = other.execute(
                "SELECT count(*) FROM (SELECT 1 FROM suppliers_supplier WHERE id = ANY(%s)"
                " FOR UPDATE NOWAIT) s",
                [suppliers],
            ).fetchone()
    assert locked == (len(suppliers),)
    assert Match.objects.filter(request=request).count() == len(result.matches())
