"""A match's factors and reasons kept as PostgreSQL's ``json`` (``remag.db.PlainJSONField``,
migration matching 0007): the values read back as written, the database still refuses
text that is not JSON, and the migration moves stored documents both ways without loss."""

import json
from typing import Any

import pytest
from django.db import DataError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from matching.models import Match, ProcurementRequest
from remag.accounts.models import Organization
from tests.factories import SupplierFactory

BEFORE = [("matching", "0006_requests_nabl_into_17025")]
AFTER = [("matching", "0007_match_factors_reasons_json")]

# Documents a run could never write, to show nothing is normalised on the way: numbers in
# exponent form and of many digits, a string that reads as a number, non-ASCII text and
# JSON's escapes, nulls, an empty array.
FACTORS = [[1e-05, 0.25, 0.0], [0.123456789012345, 0.15, 1.85], [None, 0.0, 0.0], []]
REASONS = ["123", "बेंगलुरु संयंत्र से 8 km", 'quote " and \\ and \t tab', ""]


def _column_types() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = 'matching_match' AND column_name IN ('factors', 'reasons')"
        )
        return dict(cursor.fetchall())


def _match(models: Any = None, **values: Any) -> Any:
    """A match of a new request and supplier, with the given factors and reasons, made
    with ``models`` (a migration state's apps) or the current models."""
    supplier = SupplierFactory()
    if models is None:
        owner = Organization.objects.create(name="Buyer", kind="manufacturer")
        request_model, match_model = ProcurementRequest, Match
    else:
        owner = models.get_model("accounts", "Organization").objects.create(
            name="Buyer", kind="manufacturer"
        )
        request_model = models.get_model("matching", "ProcurementRequest")
        match_model = models.get_model("matching", "Match")
    request = request_model.objects.create(
        owner_id=owner.id, title="Plating", layer="components", delivery_state="KA"
    )
    return match_model.objects.create(
        request_id=request.id,
        supplier_id=supplier.id,
        score=50,
        algorithm_version="v",
        scored_at=timezone.now(),
        **values,
    )


@pytest.mark.django_db
def test_documents_read_back_as_written(postgres: None) -> None:
    assert _column_types() == {"factors": "json", "reasons": "json"}
    match = _match(factors=FACTORS, reasons=REASONS)
    stored = Match.objects.get(id=match.id)
    assert stored.factors == FACTORS
    assert stored.reasons == REASONS
    assert isinstance(stored.reasons[0], str)  # "123" stays a string
    assert Match.objects.filter(id=match.id).values_list("factors", "reasons").get() == (
        FACTORS,
        REASONS,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["NaN", "[1, 2", "[[0.5, 0.1, 5.0]] trailing", ""])
def test_the_database_refuses_text_that_is_not_json(postgres: None, text: str) -> None:
    match = _match(factors=[[0.5, 0.1, 5.0]], reasons=["kept"])
    with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE matching_match SET factors = %s::text::json WHERE id = %s",
            [
                text,
                match.id,
            ],
        )
    assert Match.objects.get(id=match.id).factors == [[0.5, 0.1, 5.0]]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_document_both_ways(postgres: None, back_to_latest: None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert _column_types() == {"factors": "jsonb", "reasons": "jsonb"}
    old = executor.loader.project_state(BEFORE).apps
    documents = {
        _match(old, factors=FACTORS, reasons=REASONS).id: (FACTORS, REASONS),
        _match(old, factors=[], reasons=[]).id: ([], []),
        _match(old, factors=[[1.0, 0.35, 35.0]], reasons=["about 8 km away"]).id: (
            [[1.0, 0.35, 35.0]],
            ["about 8 km away"],
        ),
    }

    def stored() -> dict[Any, tuple[Any, Any]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, factors::text, reasons::text FROM matching_match")
            return {row[0]: (json.loads(row[1]), json.loads(row[2])) for row in cursor}

    assert stored() == documents
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    assert _column_types() == {"factors": "json", "reasons": "json"}
    assert stored() == documents
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert _column_types() == {"factors": "jsonb", "reasons": "jsonb"}
    assert stored() == documents
