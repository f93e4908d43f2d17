"""Model base classes shared by every app."""

import itertools
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from copy import copy as shallow_copy
from operator import attrgetter
from typing import Any, Generic, NamedTuple, TypeVar

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connection, connections, models
from django.utils import timezone

T = TypeVar("T")


class BaseModel(models.Model):
    """A row with a random UUID as its public id and creation/update stamps.

    Public ids are UUIDs so that URLs reveal no counts. Most are random (version 4); a
    request's first-run matches take time-ordered ones (version 7,
    ``matching.runs.time_ordered_uuids``), which show the millisecond they were created,
    as their ``created_at`` does.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PlainJSONField(models.JSONField):
    """A JSON document that PostgreSQL keeps as its ``json`` type (the text as written,
    checked to be JSON) rather than ``jsonb`` (converted to a binary tree, numbers to
    ``numeric``). For documents written in bulk and read back whole, never queried
    inside: a match's factors and reasons. Converting them cost a first run's ``COPY``
    about 9 us a match of its 25 (``docs/benchmarks.md``, tenth pass).

    Python sees the same values as through :class:`~django.db.models.JSONField`. What
    ``json`` lacks against ``jsonb``: equality (no ``DISTINCT``, ``UNION`` or
    ``GROUP BY`` over the column) and the key and containment lookups; do not use
    them on such a field. Elsewhere than PostgreSQL it is the plain ``JSONField``."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        adapted = super().get_db_prep_value(value, connection, prepared)
        if connection.vendor != "postgresql" or not hasattr(adapted, "dumps"):
            return adapted
        from psycopg.types.json import Json

        # Django adapts JSON as psycopg's Jsonb (typed jsonb); the same document as json.
        return Json(adapted.obj, dumps=adapted.dumps)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if connection.vendor == "postgresql":
            # psycopg reads ``json`` into Python itself (Django has it hand ``jsonb`` over
            # as text, for JSONField to read).
            return value
        return super().from_db_value(value, expression, connection)


def bulk_copy(
    model: type[models.Model],
    objs: Sequence[models.Model],
    *,
    batch_size: int = 2000,
    computed: dict[str, str] | None = None,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
) -> None:
    """Insert new model instances, as ``bulk_create`` does, through PostgreSQL's ``COPY``
    (``bulk_create`` elsewhere): for seeding demo and benchmark data, and for a run's
    results, where compiling ``INSERT`` statements of thousands of rows cost more than
    building them.

    Every concrete field is written from the instance's attribute: defaults are already
    set by the model's constructor (or :func:`built`), ``auto_now`` and ``auto_now_add``
    stamps are taken once for the call and set on the instances, JSON fields are sent as
    JSON, auto-incremented keys are left to the database (and not set on the
    instances). No signals are sent and no ``save()`` runs, exactly as with
    ``bulk_create``.

    ``computed`` maps columns to SQL expressions over the row's other columns, written
    in their place (a search vector from the row's text): on PostgreSQL the rows are
    copied into a temporary table and inserted from it with those expressions, so each
    row is written once rather than inserted and then updated. Elsewhere the instances'
    own values are written (a search vector is PostgreSQL's alone).

    With ``update_fields`` (field names) a row whose ``unique_fields`` are already
    stored updates those fields of the stored row instead, as ``bulk_create`` with
    ``update_conflicts`` does (through the temporary table, ``ON CONFLICT ... DO
    UPDATE``, the rows taken in the order of ``unique_fields``, so that concurrent
    callers lock them in one order); its key and every other field stay as stored. Each
    key may come once among ``objs``: PostgreSQL refuses to update a row twice in one
    statement.

    The work splits in two, :func:`copy_text` (formatting, no connection needed) and
    :func:`copy_in` (writing), for a caller that formats in one process and writes in
    another.
    """
    _check_computed(model, computed)
    if bool(unique_fields) != bool(update_fields):
        raise ValueError("unique_fields and update_fields go together")
    if not objs:
        return
    if connection.vendor != "postgresql":
        conflicts: dict[str, Any] = {}
        if update_fields:
            conflicts = {
                "update_conflicts": True,
                "unique_fields": unique_fields,
                "update_fields": update_fields,
            }
        model._default_manager.bulk_create(objs, batch_size=batch_size, **conflicts)
        return
    copy_in(
        model,
        copy_text(model, objs),
        computed=computed,
        unique_fields=unique_fields,
        update_fields=update_fields,
    )


def _check_computed(model: type[models.Model], computed: dict[str, str] | None) -> None:
    unknown = set(computed or ()) - {field.column for field in model._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")


def _copied_fields(model: type[models.Model]) -> list[Any]:
    # An auto-incremented key is the database's to give, as with bulk_create.
    return [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]


M = TypeVar("M", bound=models.Model)


def built(model: type[M], /, **values: Any) -> M:
    """A new, unsaved ``model`` for a bulk load (:func:`bulk_copy`, ``bulk_create``),
    with ``values`` by attribute name (a foreign key's ``<name>_id``) and every other
    field at its default: what ``model(**values)`` makes, at a fraction of the cost (in
    seeding the demo registry, ``Model.__init__`` took 38% of building the rows). It
    sends no ``pre_init`` or ``post_init`` signal and accepts no related instance by
    field name; an unknown name raises ``TypeError`` as ``model(**values)`` would."""
    defaults = _defaults(model)
    unknown = values.keys() - defaults.names
    if unknown:
        raise TypeError(f"{model.__name__} got unexpected fields: {', '.join(sorted(unknown))}")
    obj = model.__new__(model)
    state = obj.__dict__
    state.update(defaults.constant)
    for attname, field in defaults.computed:
        if attname not in values:
            state[attname] = field.get_default()
    state.update(values)
    obj._state = models.base.ModelState()
    return obj


class _Defaults(NamedTuple):
    names: frozenset[str]
    # Fields whose default is a value (the same object each time, as Django gives it)...
    constant: dict[str, Any]
    # ... and those whose default is computed for each instance (a new UUID, list, time).
    computed: list[tuple[str, Any]]


_DEFAULTS: dict[type[models.Model], _Defaults] = {}


def _defaults(model: type[models.Model]) -> _Defaults:
    found = _DEFAULTS.get(model)
    if found is None:
        # A generated column is the database's to compute: the constructor sets none.
        fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]

        def per_instance(field: Any) -> bool:
            if field.has_default():
                return callable(field.default)
            return field.has_db_default()  # an expression object each time

        found = _Defaults(
            names=frozenset(f.attname for f in fields),
            constant={f.attname: f.get_default() for f in fields if not per_instance(f)},
            computed=[(f.attname, f) for f in fields if per_instance(f)],
        )
        _DEFAULTS[model] = found
    return found


def copy_text(model: type[models.Model], objs: Iterable[models.Model]) -> Iterator[bytes]:
    """``objs`` as rows of PostgreSQL's ``COPY`` text format, in chunks, the columns
    :func:`copy_in` names: formatted by psycopg's own adapters, without a connection, so
    a process that has none can build them (as :func:`bulk_copy` describes each field)."""
    from psycopg._copy_base import TextFormatter  # psycopg's COPY row writer
    from psycopg.adapt import Transformer
    from psycopg.types.json import Jsonb

    # The ``auto_now`` and ``auto_now_add`` stamps, one for the call (as ``now()`` is one
    # for a statement), set on each instance as ``pre_save`` would.
    now = timezone.now()

    def stamped(obj: models.Model, name: str) -> Any:
        setattr(obj, name, now)
        return now

    getters: list[Callable[[models.Model], Any]] = []
    for field in _copied_fields(model):
        if isinstance(field, models.JSONField):
            getters.append(lambda obj, name=field.attname: Jsonb(getattr(obj, name)))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            getters.append(lambda obj, name=field.attname: stamped(obj, name))
        else:
            getters.append(attrgetter(field.attname))
    formatter = TextFormatter(Transformer())
    for obj in objs:
        chunk = formatter.write_row([get(obj) for get in getters])
        if chunk:
            yield bytes(chunk)
    yield bytes(formatter.end())


def copy_in(
    model: type[models.Model],
    chunks: Iterable[bytes],
    *,
    computed: dict[str, str] | None = None,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
) -> None:
    """Write rows of ``model`` from :func:`copy_text`'s chunks, on this thread's
    connection (PostgreSQL only), ``computed``, ``unique_fields`` and ``update_fields``
    as in :func:`bulk_copy`."""
    _check_computed(model, computed)
    fields = _copied_fields(model)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    conflict = ""
    if update_fields:
        column_of = model._meta.get_field
        keys = ", ".join(quote(column_of(name).column) for name in unique_fields)
        updates = ", ".join(
            f"{quote(column)} = EXCLUDED.{quote(column)}"
            for column in (column_of(name).column for name in update_fields)
        )
        conflict = f" ORDER BY {keys} ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    if not computed and not conflict:
        with connection.cursor() as cursor:
            _copy(cursor, f"COPY {table} ({columns}) FROM STDIN", chunks)
        return
    from django.db import transaction

    staging = quote(f"remag_copy_{uuid.uuid4().hex}")
    values = ", ".join((computed or {}).get(field.column, quote(field.column)) for field in fields)
    with transaction.atomic(), connection.cursor() as cursor:
        # The copied columns' types only: no key, default or NOT NULL of the table.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP"  # noqa: S608 (names from the model)
            f" AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        _copy(cursor, f"COPY {staging} ({columns}) FROM STDIN", chunks)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {values} FROM {staging}{conflict}"  # noqa: S608
        )
        cursor.execute(f"DROP TABLE {staging}")


@contextmanager
def foreign_keys_checked_as_written(models_: Iterable[type[models.Model]]) -> Iterator[None]:
    """Check the deferred foreign keys of ``models_``' tables as each statement writes
    rows, not at commit, until the block ends (PostgreSQL; elsewhere only atomic): for a bulk
    load whose other process (the rows' producer) is busy while this one writes, so the
    checks overlap its work instead of following it. Django makes every foreign key
    ``DEFERRABLE INITIALLY DEFERRED``; the block must write parents before children.

    The block is atomic (a savepoint within a transaction): when it fails, what it wrote
    is rolled back and the keys' mode with it; when it ends, its keys are deferred again
    (which is how Django creates them, whatever a caller set before)."""
    from django.db import transaction

    if connection.vendor != "postgresql":
        with transaction.atomic():
            yield
        return
    tables = [connection.ops.quote_name(model._meta.db_table) for model in models_]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT n.nspname, c.conname FROM pg_constraint c"
                " JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f'"
                " AND c.condeferrable AND c.condeferred AND c.conrelid = ANY(%s::regclass[])",
                [tables],
            )
            names = ", ".join(
                f"{_identifier(schema)}.{_identifier(name)}" for schema, name in cursor.fetchall()
            )
            if names:
                cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
        yield
        if names:
            with connection.cursor() as cursor:
                cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def _identifier(name: str) -> str:
    """A name from the catalog as a quoted SQL identifier."""
    return '"{}"'.format(name.replace('"', '""'))


def _copy(cursor: Any, statement: str, chunks: Iterable[bytes]) -> None:
    with cursor.cursor.copy(statement) as copy:
        for chunk in chunks:
            copy.write(chunk)


@contextmanager
def statements_prepared(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Statements run on ``using`` in the block bind their parameters on the server, so
    that psycopg prepares one a connection has run ``prepare_threshold`` times (the
    database ``OPTIONS``; settings.py sets it, and none behind PgBouncer) and PostgreSQL
    plans it once per connection rather than on every call.

    For a hot query of a fixed shape (a credential by its prefix, a page of a request's
    matches): planning was a third of what PostgreSQL spent on them. Django's own
    cursors bind on the client, which cannot prepare, so nothing else changes. Queries
    still go through Django's cursor wrapper (its execute wrappers, the query log).
    Elsewhere than on psycopg 3, a no-op.
    """
    wrapper = connections[using]
    if wrapper.vendor != "postgresql" or "create_cursor" in vars(wrapper):
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor, is_psycopg3

    if not is_psycopg3:
        yield
        return
    plain = wrapper.create_cursor

    def create_cursor(name: str | None = None) -> Any:
        if name:  # a named (server-side) cursor is Django's own
            return plain(name)
        # Django's cursor made with the server-binding class (its time zone loader set up
        # as for any other), the connection's own class put back at once.
        connection_ = wrapper.connection
        factory = connection_.cursor_factory
        connection_.cursor_factory = ServerBindingCursor
        try:
            return plain()
        finally:
            connection_.cursor_factory = factory

    wrapper.create_cursor = create_cursor  # this thread's connection only
    try:
        yield
    finally:
        del wrapper.create_cursor


def fetch_rows(queryset: models.QuerySet) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset as the database driver returns them, fetched
    at once through the DB-API cursor: no model field converters and no iteration in
    chunks of 100. For columns the driver already returns as wanted (text casts, numbers,
    booleans, text): at tens of thousands of rows the ORM's iteration cost more than the
    query. A query that can match nothing gives ``[]``, as the ORM does; one whose SQL
    selects more than its values (an ordering by another column under ``distinct()``) is
    refused rather than returned with the extra columns."""
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        if len(cursor.description) != compiler.col_count:
            raise ValueError("fetch_rows: the query selects more than its values; use the ORM")
        return cursor.fetchall()


def can_read_alongside(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether :class:`Alongside` may read on a connection of its own beside ``using``'s:
    on PostgreSQL with the connection pool on and room in it now for one more connection
    (a thread without a pool would connect anew each time; with a pool of one, or one
    whose connections are all taken, it would wait for one), and outside a transaction
    (another connection would not see what the caller's transaction has written)."""
    wrapper = connections[using]
    if wrapper.vendor != "postgresql" or wrapper.in_atomic_block:
        return False
    options = wrapper.settings_dict.get("OPTIONS", {}).get("pool")
    if not options:
        return False
    stats = wrapper.pool.get_stats()
    if stats.get("pool_max", 0) < 2:
        return False
    return stats.get("pool_available", 0) > 0 or stats.get("pool_size", 0) < stats["pool_max"]


class Alongside(Generic[T]):
    """``work()`` run on a thread of its own while the caller goes on: reads independent
    of the caller's, on a database connection of the thread's own (taken from the pool and
    handed back when ``work`` ends). :meth:`result` waits for it and returns what it
    returned, or raises what it raised. Call only where :func:`can_read_alongside`.

    For a match run's load: while PostgreSQL runs the candidate query on the caller's
    connection, another of its processes reads the offers, certificates, plants and track
    records (docs/matching.md, "How a run reads and writes"). Python's lock is free while
    a thread waits for the database."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="remag-alongside", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc
        finally:
            connections.close_all()  # this thread's connections only: back to the pool

    def result(self) -> T:
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def wait(self) -> None:
        """Wait for the thread to end, whatever it did. An exception raised in the caller
        while it waits (a Celery soft time limit, raised by a signal handler) is raised
        once the thread has ended, so no thread outlives the caller's task holding a
        connection (it ends within the statement timeout)."""
        interrupted: BaseException | None = None
        while self._thread.is_alive():
            try:
                self._thread.join()
            except BaseException as exc:  # noqa: BLE001 (raised below, once joined)
                interrupted = interrupted or exc
        if interrupted is not None:
            raise interrupted


# A statement prepared before a migration changed the type of a column it reads.
_PLAN_CHANGED = "cached plan must not change result type"


def run_prepared(using: str, run: Callable[[Any], Any]) -> Any:
    """``run(cursor)`` in a block of :func:`statements_prepared`. When a statement
    prepared on this connection reads a column whose type a migration has since changed,
    PostgreSQL refuses it until it is prepared again: its statements are deallocated
    (psycopg forgets them too) and ``run`` tried once more, outside a transaction (inside
    one, the rollback that follows makes psycopg forget them)."""
    wrapper = connections[using]
    try:
        with statements_prepared(using), wrapper.cursor() as cursor:
            return run(cursor)
    except NotSupportedError as exc:
        if _PLAN_CHANGED not in str(exc) or wrapper.in_atomic_block:
            raise
        with statements_prepared(using), wrapper.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
    with statements_prepared(using), wrapper.cursor() as cursor:
        return run(cursor)


class PreparedQuery:
    """A queryset compiled once and run many times, with one parameter's value changed:
    for a hot query whose shape never changes (a token by its prefix), where Django took
    longer to compile the SQL than the database to run it.

    ``build`` makes the queryset from a value; it is called once per database alias with a
    placeholder, and the placeholder must reach the compiled SQL as exactly one
    parameter. :meth:`first` runs the SQL with the real value and builds the first row's
    model instance (its ``select_related`` objects and annotations included) as
    ``QuerySet.first()`` would: ``tests/remag/test_db.py`` holds the two equal.
    """

    _placeholder: Any = "\x00remag-prepared-parameter\x00"

    def __init__(
        self, build: Callable[[Any], models.QuerySet[Any]], *, placeholder: Any = None
    ) -> None:
        self._build = build
        if placeholder is not None:  # a value of another type (a UUID for a UUID field)
            self._placeholder = placeholder
        self._compiled: dict[tuple[str, str], tuple[Any, str, list[Any], int]] = {}

    def _compile(self, alias: str) -> tuple[Any, str, list[Any], int]:

        key = (alias, connections[alias].vendor)
        if key not in self._compiled:
            queryset = self._build(self._placeholder)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()  # also sets the compiler's select and klass_info
            found = [i for i, param in enumerate(params) if param == self._placeholder]
            if len(found) != 1:
                raise ValueError("the placeholder must reach the SQL as exactly one parameter")
            self._compiled[key] = (compiler, sql, list(params), found[0])
        return self._compiled[key]

    def first(self, value: Any, *, using: str = "default") -> Any:
        from django.db.models.query import get_related_populators

        cached, sql, params, position = self._compile(using)
        params = [*params[:position], value, *params[position + 1 :]]
        # The compiled state is shared; the connection (its converters' argument) is this
        # thread's own.
        compiler = shallow_copy(cached)
        compiler.connection = connections[using]

        def run(cursor: Any) -> list[Any]:
            cursor.execute(sql, params)
            return list(cursor.fetchmany(1))

        rows = run_prepared(using, run)
        if not rows:
            return None
        select, klass_info = compiler.select, compiler.klass_info
        (row,) = compiler.results_iter([rows])
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        obj = klass_info["model"].from_db(using, names, row[start:end])
        for populator in get_related_populators(klass_info, select, using):
            populator.populate(row, obj)
        for name, position in compiler.annotation_col_map.items():
            setattr(obj, name, row[position])
        return obj


class StandIns(dict[str, Any]):
    """The stand-ins of a :class:`SqlTemplate` by input name, each unlike any constant a
    query could hold: UUIDs from a range of their own, texts holding a NUL (which no
    PostgreSQL text can)."""

    def __init__(self) -> None:
        super().__init__()
        self._numbers = itertools.count()

    def uuid(self, name: str) -> uuid.UUID:
        value = self[name] = uuid.UUID(int=(0x5EA5E << 100) + next(self._numbers))
        return value

    def text(self, name: str) -> str:
        value = self[name] = f"\x00remag-stand-in-{next(self._numbers)}\x00"
        return value


class NoSql(ValueError):
    """A queryset with no SQL of its own to run: Django knows its rows without asking the
    database (none, for a condition nothing meets)."""


class SqlTemplate:
    """The SQL of a ``values()`` queryset compiled once with stand-in values, run again
    with real ones: for a hot list whose SQL is the same for every value of its inputs
    given their shape (which filters, how many values), where Django took longer to
    build and compile the query than PostgreSQL to run it.

    ``stand_ins`` names each input and the value of it the queryset was built with; each
    must reach the compiled parameters exactly once, as the value Django prepares for
    it, or at least once if named in ``repeats`` (a caller's organisation tested in two
    conditions): ``ValueError`` otherwise, and for a queryset whose rows Django would
    convert. Stand-ins must be values no constant of the query could equal.
    :meth:`rows` takes each input's value already prepared for the database (a field's
    ``get_db_prep_value``) and answers the rows as ``values()`` would, in a block of
    :func:`statements_prepared` unless ``prepared`` is false.
    """

    def __init__(
        self,
        queryset: models.QuerySet[Any],
        stand_ins: dict[str, Any],
        *,
        repeats: Collection[str] = (),
        prepared: bool = True,
    ) -> None:
        self.prepared = prepared
        self.using = queryset.db
        query = queryset.query
        compiler = query.get_compiler(using=self.using)
        try:
            self.sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet) as exc:  # no SQL to run for such a shape
            raise NoSql(f"{type(exc).__name__}: the queryset has no SQL of its own") from exc
        self.params = list(params)
        self.positions: dict[str, list[int]] = {}
        for name, value in stand_ins.items():
            found = [
                i
                for i, param in enumerate(self.params)
                if type(param) is type(value) and param == value
            ]
            if len(found) != 1 and not (found and name in repeats):
                raise ValueError(f"{name} reaches the SQL {len(found)} times, not once")
            self.positions[name] = found
        # As ValuesIterable names a row's values.
        self.names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_extra_select or len(self.names) != len(fields):
            raise ValueError("not a values() query, or one with columns Django trims off")
        if compiler.get_converters(fields):
            raise ValueError("rows Django would convert")

    def rows(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        params = list(self.params)
        for name, positions in self.positions.items():
            for position in positions:
                params[position] = values[name]
        names = self.names

        def run(cursor: Any) -> list[dict[str, Any]]:
            cursor.execute(self.sql, params)
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        if not self.prepared:
            with connections[self.using].cursor() as cursor:
                return run(cursor)
        return run_prepared(self.using, run)


class TemplateCache:
    """A bounded cache of :class:`SqlTemplate` s (or None, for a shape that cannot be
    one) by shape: a caller chooses the shape (a page size, an offset, how many values
    of a filter), so the least recently used are let go."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Any, SqlTemplate | None] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any, default: Any) -> Any:
        with self.lock:
            found = self.entries.get(key, default)
            if found is not default:
                self.entries.move_to_end(key)
            return found

    def put(self, key: Any, value: SqlTemplate | None) -> None:
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
