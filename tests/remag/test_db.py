"""remag.db.PreparedQuery: a queryset compiled once answers as QuerySet.first() would."""

from typing import Any

import pytest
from django.db.models import Count

from remag.accounts.caller import with_person_memberships
from remag.accounts.models import Organization, UserToken
from remag.db import PreparedQuery, bulk_copy, foreign_keys_checked_as_written
from tests.factories import MembershipFactory, OrganizationFactory, UserTokenFactory

pytestmark = pytest.mark.django_db


def _tokens(prefix: Any) -> Any:
    return with_person_memberships(
        UserToken.objects.select_related("user"), user_field="user_id"
    ).filter(prefix=prefix, revoked=False)


def _fields(obj: Any) -> dict[str, Any]:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_first_equals_the_querysets_first_for_each_value() -> None:
    prepared = PreparedQuery(lambda prefix: _tokens(prefix)[:1])
    tokens = [UserTokenFactory(), UserTokenFactory()]
    MembershipFactory(user=tokens[0].user, organization=OrganizationFactory(kind="sme"))

    for token in tokens:  # the second run reuses the first's SQL with another value
        found = prepared.first(token.prefix)
        expected = _tokens(token.prefix).first()

        assert found is not None
        assert found.pk == token.pk
        assert _fields(found) == _fields(expected)
        assert found._state.adding is False
        assert found._state.db == "default"
        # select_related: the user is built from the same row, no query of its own
        assert "user" in found._state.fields_cache
        assert _fields(found.user) == _fields(expected.user)
        assert getattr(found, "_remag_memberships", None) == getattr(
            expected, "_remag_memberships", None
        )


def test_first_is_none_when_nothing_matches() -> None:
    prepared = PreparedQuery(lambda prefix: _tokens(prefix)[:1])
    token = UserTokenFactory()
    UserToken.objects.filter(pk=token.pk).update(revoked=True)

    assert prepared.first(token.prefix) is None
    assert prepared.first("no-such") is None


def test_an_annotation_is_set_as_an_attribute() -> None:
    organization = OrganizationFactory()
    MembershipFactory(organization=organization)
    MembershipFactory(organization=organization)
    prepared = PreparedQuery(
        lambda name: Organization.objects.filter(name=name).annotate(n=Count("memberships"))
    )

    found = prepared.first(organization.name)

    assert found.pk == organization.pk
    assert found.n == 2


def test_a_placeholder_of_the_fields_type_stands_for_a_uuid(postgres: None) -> None:
    """A UUID field's value cannot be a text placeholder (Django converts it first): a
    UUID placeholder stands in, and each id finds its own row (PostgreSQL, which
    compares UUIDs as they are)."""
    import uuid

    prepared = PreparedQuery(
        lambda pk: Organization.objects.filter(pk=pk)[:1], placeholder=uuid.UUID(int=7)
    )
    first, second = OrganizationFactory(), OrganizationFactory()

    assert prepared.first(first.pk).name == first.name
    assert prepared.first(second.pk).name == second.name
    assert prepared.first(uuid.uuid4()) is None
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="not a valid UUID"):  # the text placeholder
        PreparedQuery(lambda pk: Organization.objects.filter(pk=pk)[:1]).first(first.pk)


def test_a_value_that_does_not_reach_the_sql_as_one_parameter_is_refused() -> None:
    prepared = PreparedQuery(lambda prefix: UserToken.objects.filter(revoked=False))

    with pytest.raises(ValueError, match="exactly one parameter"):
        prepared.first("x")


def test_bulk_copy_writes_computed_columns_and_leaves_auto_keys_to_the_database() -> None:
    """``computed`` columns are written from their SQL (on PostgreSQL; elsewhere the
    instances' values), and a model with an auto-incremented key copies all the same."""
    from suppliers.models import Capability, SupplierPlant
    from tests.factories import SupplierFactory

    supplier = SupplierFactory()
    plant = SupplierPlant.objects.create(supplier=supplier, name="Hosur", state="TN")
    capabilities = list(Capability.objects.all()[:3])
    if not capabilities:
        capabilities = [Capability.objects.create(code="c1", name="C1", layer="components")]
    through = SupplierPlant.capabilities.through
    rows = [through(supplierplant_id=plant.id, capability_id=c.id) for c in capabilities]

    bulk_copy(through, rows, computed={"supplierplant_id": '"supplierplant_id"'})

    stored = through.objects.filter(supplierplant_id=plant.id)
    assert sorted(stored.values_list("capability_id", flat=True)) == sorted(
        c.id for c in capabilities
    )
    assert all(row_id is not None for row_id in stored.values_list("id", flat=True))


def test_bulk_copy_upserts_only_the_fields_named_and_keeps_the_stored_key() -> None:
    """With ``update_fields`` a row whose unique fields are stored updates those fields
    of the stored row (its id and other fields stay); a new row is inserted."""
    import uuid

    from suppliers.models import Capability, SupplierCapability
    from tests.factories import SupplierFactory

    supplier = SupplierFactory()
    first, second = (
        Capability.objects.create(
            code=f"c-{n}-{uuid.uuid4().hex[:6]}", name="C", layer="components"
        )
        for n in (1, 2)
    )
    stored = SupplierCapability.objects.create(
        supplier=supplier, capability=first, lead_time_days=30, description="kept"
    )
    rows = [
        SupplierCapability(
            supplier=supplier, capability=first, lead_time_days=12, description="new"
        ),
        SupplierCapability(
            supplier=supplier, capability=second, lead_time_days=7, description="added"
        ),
    ]

    bulk_copy(
        SupplierCapability,
        rows,
        unique_fields=["supplier", "capability"],
        update_fields=["lead_time_days"],
    )

    after = {row.capability_id: row for row in SupplierCapability.objects.filter(supplier=supplier)}
    assert set(after) == {first.id, second.id}
    assert after[first.id].id == stored.id
    assert (after[first.id].lead_time_days, after[first.id].description) == (12, "kept")
    assert (after[second.id].lead_time_days, after[second.id].description) == (7, "added")
    with pytest.raises(ValueError, match="go together"):
        bulk_copy(SupplierCapability, rows, unique_fields=["supplier", "capability"])


def test_bulk_copy_refuses_a_computed_column_the_model_has_not() -> None:
    with pytest.raises(ValueError, match="no column nope"):
        bulk_copy(Organization, [], computed={"nope": "1"})


def test_foreign_keys_are_checked_as_written_in_the_block_and_deferred_after() -> None:
    """Inside the block a dangling key fails at its statement; after it, a dangling key
    is accepted until commit again (Django's keys are initially deferred)."""
    import uuid

    from django.db import IntegrityError, connection, transaction

    from suppliers.models import Supplier
    from tests.factories import SupplierFactory

    if connection.vendor != "postgresql":
        pytest.skip("constraint modes are PostgreSQL's")
    supplier = SupplierFactory()
    dangling = uuid.uuid4()

    with (
        foreign_keys_checked_as_written([Supplier]),
        pytest.raises(IntegrityError),
        transaction.atomic(),
    ):
        Supplier.objects.filter(id=supplier.id).update(owner_id=dangling)

    with transaction.atomic():
        Supplier.objects.filter(id=supplier.id).update(owner_id=dangling)  # not checked yet
        transaction.set_rollback(True)


def test_a_block_that_fails_leaves_its_keys_deferred_and_its_rows_unwritten() -> None:
    """Caught by its caller with no savepoint of the caller's own, a failure in the
    block rolls back the block's writes and its keys' mode."""
    import uuid

    from django.db import connection, transaction

    from suppliers.models import Supplier
    from tests.factories import SupplierFactory

    if connection.vendor != "postgresql":
        pytest.skip("constraint modes are PostgreSQL's")
    supplier = SupplierFactory()

    def write_then_fail() -> None:
        with foreign_keys_checked_as_written([Supplier]):
            Supplier.objects.filter(id=supplier.id).update(employees=4321)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        write_then_fail()

    supplier.refresh_from_db()
    assert supplier.employees != 4321
    with transaction.atomic():
        Supplier.objects.filter(id=supplier.id).update(owner_id=uuid.uuid4())  # deferred
        transaction.set_rollback(True)


def _prepared_statements(sql_part: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{sql_part}%"],
        )
        return int(cursor.fetchone()[0])


def test_a_hot_statement_is_prepared_once_its_connection_ran_it_often(
    postgres: None, django_assert_num_queries: Any
) -> None:
    from django.db import connection

    from remag.db import statements_prepared

    threshold = connection.connection.prepare_threshold
    assert threshold is not None  # settings.py sets one (none behind PgBouncer)
    names = Organization.objects.filter(name__startswith="prepared-")
    OrganizationFactory(name="prepared-1")

    for _ in range(threshold - 1):
        with statements_prepared():
            assert list(names.values_list("name", flat=True)) == ["prepared-1"]
    assert _prepared_statements('"accounts_organization"."name"::text LIKE $1') == 0

    for _ in range(2):
        with statements_prepared(), django_assert_num_queries(1):  # still counted by Django
            assert list(names.values_list("name", flat=True)) == ["prepared-1"]
    assert _prepared_statements('"accounts_organization"."name"::text LIKE $1') == 1
    # Outside the block, Django's own cursor binds on the client: nothing is prepared.
    for _ in range(threshold + 1):
        list(Organization.objects.filter(name__startswith="plain-").values_list("id"))
    assert _prepared_statements("plain-") == 0
    assert "create_cursor" not in vars(connection)  # the block left the connection as it was


def test_no_statement_is_prepared_when_the_threshold_is_none(postgres: None) -> None:
    from django.db import connection

    from remag.db import statements_prepared

    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None  # as DATABASE_PGBOUNCER sets it
    try:
        for _ in range(10):
            with statements_prepared():
                list(Organization.objects.filter(name__startswith="unprepared-").values("id"))
    finally:
        connection.connection.prepare_threshold = threshold
    assert _prepared_statements('"accounts_organization"."name"::text LIKE $1') == 0


def test_a_sql_template_reads_as_its_queryset_for_other_values() -> None:
    from remag.db import SqlTemplate

    organizations = [OrganizationFactory(name=f"template-{n}", kind="sme") for n in range(3)]

    def rows(name: str) -> Any:
        return Organization.objects.filter(kind="sme", name=name).values("name", "kind")

    template = SqlTemplate(rows(organizations[0].name), {"name": organizations[0].name})

    for organization in organizations[1:]:
        expected = list(rows(organization.name))
        assert template.rows({"name": organization.name}) == expected
        assert expected == [{"name": organization.name, "kind": "sme"}]


def test_a_sql_template_refuses_what_it_could_not_run_again() -> None:
    from remag.db import SqlTemplate

    named = Organization.objects.filter(name="same").values("id")
    twice = Organization.objects.filter(name="same", kind="same").values("id")
    for queryset, stand_ins, refusal in (
        (named, {"name": "not in the query"}, "reaches the SQL 0 times"),
        (twice, {"name": "same"}, "reaches the SQL 2 times"),  # which is which?
        (Organization.objects.filter(id__in=[]).values("id"), {}, "no SQL of its own"),
        (Organization.objects.filter(name="same"), {"name": "same"}, "not a values"),
        (
            Organization.objects.filter(name="same").values("id").order_by("name").distinct(),
            {"name": "same"},
            "columns Django trims off",
        ),
    ):
        with pytest.raises(ValueError, match=refusal):
            SqlTemplate(queryset, stand_ins)


def test_a_repeated_stand_in_is_replaced_everywhere_it_reaches_the_sql() -> None:
    """A stand-in named in ``repeats`` may reach the SQL more than once (an organisation
    tested in two conditions): every place takes the real value."""
    from django.db.models import Q

    from remag.db import SqlTemplate

    OrganizationFactory(name="portal", kind="sme")
    OrganizationFactory(name="repeats", kind="portal")

    def rows(value: str) -> Any:
        return (
            Organization.objects.filter(Q(name=value) | Q(kind=value))
            .values("name", "kind")
            .order_by("name")
        )

    with pytest.raises(ValueError, match="2 times"):
        SqlTemplate(rows("stand-in"), {"value": "stand-in"})
    template = SqlTemplate(rows("stand-in"), {"value": "stand-in"}, repeats={"value"})
    assert (
        template.rows({"value": "portal"})
        == list(rows("portal"))
        == [
            {"name": "portal", "kind": "sme"},
            {"name": "repeats", "kind": "portal"},
        ]
    )
    assert template.rows({"value": "repeats"}) == [{"name": "repeats", "kind": "portal"}]


def _prepared_on_organizations() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%accounts_organization%"],
        )
        return int(cursor.fetchone()[0])


def test_a_sql_template_runs_unprepared_when_asked(postgres: None) -> None:
    """``prepared=False`` binds on the client, as Django does: no statement is prepared
    however often it runs (a list whose filters' selectivity varies)."""

    from remag.db import SqlTemplate

    OrganizationFactory(name="unprepared", kind="sme")
    queryset = Organization.objects.filter(name="stand-in").values("name")
    template = SqlTemplate(queryset, {"name": "stand-in"}, prepared=False)
    for _ in range(12):
        assert template.rows({"name": "unprepared"}) == [{"name": "unprepared"}]
    assert _prepared_on_organizations() == 0
    prepared = SqlTemplate(queryset, {"name": "stand-in"})
    for _ in range(12):
        assert prepared.rows({"name": "unprepared"}) == [{"name": "unprepared"}]
    assert _prepared_on_organizations() == 1


def test_the_template_cache_lets_the_least_recently_used_go() -> None:
    from remag.db import TemplateCache

    cache = TemplateCache(2)
    missing = object()
    cache.put("a", None)
    cache.put("b", None)
    assert cache.get("a", missing) is None  # "a" is now the most recently used
    cache.put("c", None)
    assert cache.get("b", missing) is missing
    assert cache.get("a", missing) is None
    assert cache.get("c", missing) is None
    cache.clear()
    assert cache.get("a", missing) is missing


@pytest.mark.django_db(transaction=True)
def test_a_statement_prepared_before_a_column_changed_type_is_prepared_again(
    postgres: None,
) -> None:
    """A migration elsewhere changes the type of a column a prepared statement reads:
    PostgreSQL refuses the statement ("cached plan must not change result type") until it
    is prepared again, which run_prepared does, once, rather than failing every call."""
    import psycopg
    from django.db import connection

    from remag.db import run_prepared
    from tests.conftest import database_url_for_subprocess

    def read(cursor: Any) -> list[Any]:
        cursor.execute("SELECT a FROM remag_plan_probe WHERE a = %s", [1])
        return list(cursor.fetchall())

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE remag_plan_probe (a integer)")
        cursor.execute("INSERT INTO remag_plan_probe VALUES (1)")
    try:
        for _ in range(connection.connection.prepare_threshold + 1):
            assert run_prepared("default", read) == [(1,)]
        assert _prepared_statements("remag_plan_probe") == 1
        url = database_url_for_subprocess()
        assert url is not None
        with psycopg.connect(url, autocommit=True) as other:  # not seen by this connection
            other.execute("ALTER TABLE remag_plan_probe ALTER COLUMN a TYPE bigint")

        assert run_prepared("default", read) == [(1,)]
        assert run_prepared("default", read) == [(1,)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE remag_plan_probe")
