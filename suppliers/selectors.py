"""Reads of the registry, already optimised: a constant number of queries per page."""

import functools
import hashlib
import json
import operator
import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from django.contrib.postgres.aggregates import BitOr
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Exists,
    Model,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from remag.accounts.caller import Caller
from remag.db import fetch_rows
from suppliers.access import supplier_visible_q
from suppliers.models import (
    CAPABILITY_FIELDS,
    CERTIFICATE_FIELDS,
    Capability,
    Certification,
    MaterialGrade,
    Supplier,
    SupplierCapability,
    SupplierCertificate,
    SupplierGstin,
    SupplierPlant,
    certificate_valid_q,
)
from suppliers.states import GST_CODE_STATES, STATES


def supplier_list(*, caller: Caller) -> QuerySet[Supplier]:
    """The suppliers the caller may read. Their nested lists are read for a page at a
    time by :func:`supplier_details`, as plain rows: building model instances for them
    was most of a list page's cost."""
    return Supplier.objects.filter(supplier_visible_q(caller)).defer("search_text", "search_vector")


@dataclass
class SupplierDetails:
    """A supplier's nested lists as plain rows (dicts of column values), in the order the
    API shows them."""

    capabilities: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    gstins: list[dict[str, Any]] = field(default_factory=list)
    plants: list[dict[str, Any]] = field(default_factory=list)


_CAPABILITY_ROW = (
    "supplier_id",
    "capability__code",
    "capability__name",
    "capability__layer",
    *CAPABILITY_FIELDS,
)
_CERTIFICATE_ROW = (
    "id",
    "supplier_id",
    "certification__code",
    "certification__name",
    "certification__kind",
    "certification__edition",
    *CERTIFICATE_FIELDS,
)
_GSTIN_ROW = ("supplier_id", "gstin", "label", "state")
_PLANT_ROW = (
    "id",
    "supplier_id",
    "name",
    "address_line",
    "city",
    "district",
    "state",
    "pin_code",
    "latitude",
    "longitude",
)


def supplier_details(supplier_ids: Collection[Any]) -> dict[Any, SupplierDetails]:
    """The nested lists of ``supplier_ids`` (keyed by id; every id present): at most six
    queries whatever the number of suppliers (the scopes' and plants' capabilities only
    when there are certificates and plants), no model instances."""
    ids = list(supplier_ids)
    details: dict[Any, SupplierDetails] = {sid: SupplierDetails() for sid in ids}
    if not ids:
        return details
    for row in (
        SupplierCapability.objects.filter(supplier_id__in=ids)
        .order_by("supplier_id", "capability__code")
        .values(*_CAPABILITY_ROW)
    ):
        details[row["supplier_id"]].capabilities.append(row)
    certificates = list(
        SupplierCertificate.objects.filter(supplier_id__in=ids)
        .order_by("supplier_id", "certification__code", "-valid_until")
        .values(*_CERTIFICATE_ROW)
    )
    scopes: dict[Any, list[str]] = {}
    if certificates:
        for certificate_id, code in (
            SupplierCertificate.scope.through.objects.filter(
                suppliercertificate_id__in=[row["id"] for row in certificates]
            )
            .order_by("capability__code")
            .values_list("suppliercertificate_id", "capability__code")
        ):
            scopes.setdefault(certificate_id, []).append(code)
    for row in certificates:
        row["scope"] = scopes.get(row["id"], [])
        details[row["supplier_id"]].certificates.append(row)
    for row in (
        SupplierGstin.objects.filter(supplier_id__in=ids)
        .order_by("supplier_id", "position")
        .values(*_GSTIN_ROW)
    ):
        details[row["supplier_id"]].gstins.append(row)
    plants = list(
        SupplierPlant.objects.filter(supplier_id__in=ids)
        .order_by("supplier_id", "name")
        .values(*_PLANT_ROW)
    )
    offered: dict[Any, list[str]] = {}
    if plants:
        for plant_id, code in (
            SupplierPlant.capabilities.through.objects.filter(
                supplierplant_id__in=[row["id"] for row in plants]
            )
            .order_by("capability__code")
            .values_list("supplierplant_id", "capability__code")
        ):
            offered.setdefault(plant_id, []).append(code)
    for row in plants:
        row["capabilities"] = offered.get(row["id"], [])
        details[row["supplier_id"]].plants.append(row)
    return details


def certificate_valid_exists(
    *,
    certification_code: str | None = None,
    certification_id: object = None,
    day: date | None = None,
    through: date | None = None,
    covering: Sequence[object] | None = None,
    scope_stated: bool | None = None,
) -> Exists:
    """True for suppliers holding a certificate of that certification (by code or id)
    valid on ``day`` (today by default) and, if given, through ``through``.

    ``covering`` (capability ids) asks for an accreditation's scope: the certificate's
    scope names at least one of those capabilities that the supplier offers. A
    certificate with no scope stated covers none (docs/matching.md, "Certificates").
    ``scope_stated`` False asks for a certificate whose scope is empty.
    """
    day = day or timezone.localdate()
    certification = (
        {"certification_id": certification_id}
        if certification_id is not None
        else {"certification__code": certification_code}
    )
    certificates = SupplierCertificate.objects.filter(
        certificate_valid_q(day, through=through),
        *certificate_scope_conditions(covering=covering, scope_stated=scope_stated),
        supplier=OuterRef("pk"),
        **certification,
    )
    return Exists(certificates)


def certificate_scope_conditions(
    *, covering: Sequence[object] | None = None, scope_stated: bool | None = None
) -> list[Exists | Q]:
    """The conditions on a certificate (a ``SupplierCertificate`` row of the query they
    filter) that :func:`certificate_valid_exists` and :func:`certificate_flag_masks` ask
    of its scope: ``covering``, it names one of those capabilities that the supplier
    offers; ``scope_stated`` True or False, it names some capability or none."""
    Scope = SupplierCertificate.scope.through
    conditions: list[Exists | Q] = []
    if scope_stated is not None:
        stated = Exists(Scope.objects.filter(suppliercertificate_id=OuterRef("pk")))
        conditions.append(stated if scope_stated else ~stated)
    if covering is not None:
        offered = SupplierCapability.objects.filter(
            supplier_id=OuterRef(OuterRef("supplier_id")), capability_id=OuterRef("capability_id")
        )
        conditions.append(
            Exists(
                Scope.objects.filter(
                    Exists(offered),
                    suppliercertificate_id=OuterRef("pk"),
                    capability_id__in=list(covering),
                )
            )
        )
    return conditions


def offering_any(model: type[Model], column: str, capability_ids: Sequence[object]) -> RawSQL:
    """A filter on ``model``'s rows: its ``column`` (a supplier id) is one of the suppliers
    offering any of ``capability_ids``; PostgreSQL only. Their ids are read first from the
    offers' index (``supcap_capability_offer``) into an array, then the rows probed by
    it: as a semi-join PostgreSQL scanned and hashed the whole table (the registry's wide
    rows, search vectors included) for a few thousand suppliers."""
    quote = connection.ops.quote_name
    target = f"{quote(model._meta.db_table)}.{quote(column)}"  # names from the code
    return RawSQL(  # noqa: S611 (quoted names from the code; values are placeholders)
        f"{target} = ANY(ARRAY(SELECT sc.supplier_id FROM suppliers_suppliercapability sc"  # noqa: S608
        " WHERE sc.capability_id = ANY(%s)))",
        [list(capability_ids)],
        output_field=BooleanField(),
    )


# Bits of a signed 64-bit mask (PostgreSQL's bigint, NumPy's int64) that a check may take.
MAX_FLAG_CHECKS = 62


class CertificateCheck(NamedTuple):
    """One question :func:`certificate_flag_masks` asks of each supplier's certificates,
    as :func:`certificate_valid_exists` asks it: one of ``certification_id``, valid on
    ``day`` and through ``through`` (when given), whose scope covers one of ``covering``
    that the supplier offers (when given) or, ``scope_stated`` False, states none."""

    certification_id: object
    day: date
    through: date | None = None
    covering: tuple[object, ...] | None = None
    scope_stated: bool | None = None


def certificate_flag_masks(
    checks: Sequence[CertificateCheck | tuple[object, date, date | None]],
    *,
    offering: Sequence[object] | None = None,
    supplier_ids: Sequence[object] | None = None,
) -> dict[str, int]:
    """For each supplier holding a certificate of a certification in ``checks`` (one of
    those offering a capability of ``offering``, or of ``supplier_ids``, when given): a
    bit mask, bit ``j`` set when one of its certificates meets ``checks[j]``
    (:class:`CertificateCheck`, a plain ``(certification, day, through)`` being one
    without scope). ``{supplier id as text: mask}``; a supplier holding none is absent.
    PostgreSQL only (``bit_or``).

    One query over the certificates, grouped by supplier, rather than a correlated
    subquery per candidate row: a match run reads it on a connection of its own while
    the candidate query runs (``matching.candidates``). A scope's conditions are asked
    only of the certificates of the check's certification valid on its dates, a few
    probes each."""
    # A request has at most 20 required certifications (MAX_CODES), each checked through
    # the needed-by date and on the day (twice more for a scoped one), and 20 preferred:
    # what does not fit stays in the candidate query (matching.candidates).
    if len(checks) > MAX_FLAG_CHECKS:
        raise ValueError(f"at most {MAX_FLAG_CHECKS} certificate checks fit a mask")
    bits = []
    for j, check in enumerate(checks):
        check = CertificateCheck(*check)
        condition = functools.reduce(
            operator.and_,
            certificate_scope_conditions(covering=check.covering, scope_stated=check.scope_stated),
            Q(certification_id=check.certification_id)
            & certificate_valid_q(check.day, through=check.through),
        )
        bits.append(
            Case(
                When(condition, then=Value(1 << j, output_field=BigIntegerField())),
                default=Value(0, output_field=BigIntegerField()),
            )
        )
    rows = SupplierCertificate.objects.filter(
        certification_id__in=list({check[0] for check in checks})
    )
    if offering is not None:
        # The offering suppliers' ids first, then their certificates by the supplier index
        # (as the candidate query reads the suppliers).
        rows = rows.filter(offering_any(SupplierCertificate, "supplier_id", offering))
    if supplier_ids is not None:
        rows = rows.filter(supplier_id__in=supplier_ids)
    total = functools.reduce(operator.add, bits)
    return dict(
        fetch_rows(
            rows.order_by()
            .values("supplier_id")
            .annotate(sid=Cast("supplier_id", TextField()), mask=BitOr(total))
            .values_list("sid", "mask")
        )
    )


# code -> id of each taxonomy model, per process: (when read, {code: id}).
_TAXONOMY_IDS: dict[type, tuple[float, dict[str, Any]]] = {}
TAXONOMY_IDS_SECONDS = 60.0


def taxonomy_ids(model: type[Capability | Certification], codes: Collection[str]) -> dict[str, Any]:
    """The ids of those of ``codes`` that exist (``{code: id}``), for filters that check
    the codes they are given: from a copy of the whole (small) table kept for a minute
    per process, read again when a code is not in it, so a code just added is known at
    once. A code renamed or deleted within the minute may still resolve to its old row
    (which a filter then finds nothing under), never to another's."""
    now = time.monotonic()
    read_at, ids = _TAXONOMY_IDS.get(model, (0.0, {}))
    if now - read_at > TAXONOMY_IDS_SECONDS or any(code not in ids for code in codes):
        ids = dict(model.objects.values_list("code", "id"))
        _TAXONOMY_IDS[model] = (now, ids)
    return {code: ids[code] for code in codes if code in ids}


def forget_taxonomy_ids() -> None:
    _TAXONOMY_IDS.clear()


def capability_list(*, include_inactive: bool = False) -> QuerySet[Capability]:
    queryset = Capability.objects.all()
    return queryset if include_inactive else queryset.filter(is_active=True)


def certification_list(*, include_inactive: bool = False) -> QuerySet[Certification]:
    """Active certifications; with ``include_inactive``, retired codes too (``nabl``), so
    a link to one still answers, saying it is retired."""
    queryset = Certification.objects.all()
    return queryset if include_inactive else queryset.filter(is_active=True)


def grade_list() -> QuerySet[MaterialGrade]:
    return MaterialGrade.objects.filter(is_active=True)


# ---------------------------------------------------------------- list pages as JSON

# A supplier's representation (the API's ``SupplierSerializer`` output) built by
# PostgreSQL, as two annotations of the page's own query: no model instances, no
# per-field Python, no second query. ``SupplierSerializer`` stays the contract (the
# schema, the detail view, SQLite); ``tests/suppliers/test_list_json.py`` holds the two
# equal for every kind of caller. ``S`` below is the supplier table of the outer query.


def iso_sql(column: str) -> str:
    """``column`` (a timestamptz) as DRF writes a date-time: ISO 8601 in the server's
    time zone (``%(tz)s``), microseconds only when not zero, ``Z`` for a zero offset."""
    local = f"({column} AT TIME ZONE %(tz)s)"
    offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE to_char({local}, "
        "'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN date_trunc('second', {column}) = {column} THEN ''"
        f" ELSE to_char({local}, '.US') END"
        f" || CASE WHEN {offset} = interval '0' THEN 'Z'"
        f" WHEN {offset} > interval '0' THEN '+' || to_char({offset}, 'HH24:MI')"
        f" ELSE '-' || to_char(-{offset}, 'HH24:MI') END END"
    )


_PLANTS_JSON = """coalesce((
    SELECT json_agg(json_build_object(
        'name', p.name, {address}'city', p.city, 'district', p.district,
        'state', p.state, 'state_name', coalesce(%(names)s::jsonb ->> p.state, ''),
        'pin_code', p.pin_code, 'latitude', p.latitude, 'longitude', p.longitude,
        'capabilities', coalesce((
            SELECT json_agg(pc.code ORDER BY pc.code)
            FROM suppliers_supplierplant_capabilities x
            JOIN suppliers_capability pc ON pc.id = x.capability_id
            WHERE x.supplierplant_id = p.id), '[]'::json)
    ) ORDER BY p.name)
    FROM suppliers_supplierplant p WHERE p.supplier_id = S.id), '[]'::json)"""

_CAPABILITIES_JSON = """coalesce((
    SELECT json_agg(json_build_object(
        'capability', c.code, 'capability_name', c.name, 'layer', c.layer,
        'capacity_per_month', sc.capacity_per_month::text,
        'capacity_unit', sc.capacity_unit,
        'minimum_order', sc.minimum_order::text,
        'lead_time_days', sc.lead_time_days,
        'grades', sc.grades, 'materials', sc.materials,
        'description', sc.description
    ) ORDER BY c.code)
    FROM suppliers_suppliercapability sc
    JOIN suppliers_capability c ON c.id = sc.capability_id
    WHERE sc.supplier_id = S.id), '[]'::json)"""

_CERTIFICATES_JSON = """coalesce((
    SELECT json_agg(json_build_object(
        'certification', ce.code, 'certification_name', ce.name, 'kind', ce.kind,
        'edition', ce.edition, 'certificate_number', sc.certificate_number,
        'issuing_body', sc.issuing_body,
        'valid_from', to_char(sc.valid_from, 'YYYY-MM-DD'),
        'valid_until', to_char(sc.valid_until, 'YYYY-MM-DD'),
        'scope', coalesce((
            SELECT json_agg(cc.code ORDER BY cc.code)
            FROM suppliers_suppliercertificate_scope x
            JOIN suppliers_capability cc ON cc.id = x.capability_id
            WHERE x.suppliercertificate_id = sc.id), '[]'::json),
        'is_valid', sc.valid_from <= %(today)s
            AND (sc.valid_until IS NULL OR %(today)s <= sc.valid_until)
    ) ORDER BY ce.code, sc.valid_until DESC)
    FROM suppliers_suppliercertificate sc
    JOIN suppliers_certification ce ON ce.id = sc.certification_id
    WHERE sc.supplier_id = S.id), '[]'::json)"""

_GSTINS_JSON = """coalesce((
    SELECT json_agg(json_build_object(
        'gstin', g.gstin, 'label', g.label, 'state', g.state,
        'state_name', coalesce(%(names)s::jsonb ->> g.state, '')
    ) ORDER BY g.position)
    FROM suppliers_suppliergstin g WHERE g.supplier_id = S.id),
    CASE WHEN S.gstin <> '' THEN json_build_array(json_build_object(
        'gstin', S.gstin, 'label', '',
        'state', coalesce(%(gst_states)s::jsonb ->> left(S.gstin, 2), ''),
        'state_name', coalesce(%(names)s::jsonb ->> (
            %(gst_states)s::jsonb ->> left(S.gstin, 2)), '')))
    ELSE '[]'::json END)"""

# The representation's fields in SupplierSerializer's order (the nested lists last, as
# its ``to_representation`` adds them): (name, SQL value, private).
# An SQL value is a column or expression (written with to_json) or, in parentheses
# after "json:", an expression that is already JSON.
_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("id", "S.id", False),
    ("url", "%(url)s || S.id::text || '/'", False),
    ("owner", "S.owner_id", False),
    ("legal_name", "S.legal_name", False),
    ("trade_name", "S.trade_name", False),
    ("legal_form", "S.legal_form", False),
    ("udyam_number", "S.udyam_number", False),
    ("pan", "S.pan", True),
    ("gstin", "S.gstin", True),
    ("enterprise_size", "S.enterprise_size", False),
    ("classification_year", "S.classification_year", False),
    (
        "classification_financial_year",
        "S.classification_year::text || '-'"
        " || lpad(((S.classification_year + 1) %% 100)::text, 2, '0')",
        False,
    ),
    ("classification_stale", "S.classification_year < %(financial_year)s", False),
    ("investment_inr", "S.investment_inr::text", True),
    ("turnover_inr", "S.turnover_inr::text", True),
    ("women_owned", "S.women_owned", False),
    ("sc_st_owned", "S.sc_st_owned", False),
    ("year_established", "S.year_established", False),
    ("employees", "S.employees", False),
    ("website", "S.website", False),
    ("contact_name", "S.contact_name", True),
    ("contact_email", "S.contact_email", True),
    ("contact_phone", "S.contact_phone", True),
    ("state", "S.state", False),
    ("state_name", "coalesce(%(names)s::jsonb ->> S.state, S.state)", False),
    ("district", "S.district", False),
    ("city", "S.city", False),
    ("address_line", "S.address_line", True),
    ("pin_code", "S.pin_code", False),
    (
        "location",
        "json:(CASE WHEN S.latitude IS NOT NULL AND S.longitude IS NOT NULL"
        " THEN json_build_object('latitude', S.latitude, 'longitude', S.longitude,"
        " 'approximate', false) ELSE %(centroids)s::json -> S.state END)",
        False,
    ),
    ("status", "S.status", False),
    ("status_reason", "S.status_reason", True),
    ("is_active", "S.is_active", False),
    ("verified_at", iso_sql("S.verified_at"), False),
    ("claimed", "S.claimed_at IS NOT NULL", False),
    ("onboarded_by", "S.onboarded_by_id", True),
    ("possible_duplicate_of", "S.possible_duplicate_of_id", True),
    ("created_at", iso_sql("S.created_at"), False),
    ("updated_at", iso_sql("S.updated_at"), False),
    ("capabilities", f"json:({_CAPABILITIES_JSON})", False),
    ("certificates", f"json:({_CERTIFICATES_JSON})", False),
    ("gstins", f"json:({_GSTINS_JSON})", True),
    (
        "plants",
        "json:(CASE WHEN %(private)s THEN "
        + _PLANTS_JSON.format(address="'address_line', p.address_line, ")
        + " ELSE "
        + _PLANTS_JSON.format(address="")
        + " END)",
        False,
    ),
)


def json_object_sql(fields: tuple[tuple[str, str, bool], ...], *, opening: bool = True) -> str:
    """An SQL expression of an object as JSON text, key by key (``json_build_object``
    cannot leave a key out, and the private ones are left out for most callers): each
    field ``(name, SQL value, private)``, the value a column or expression (written
    with ``to_json``) or, after ``json:``, an expression that is already JSON. Runs of
    private keys are one ``CASE`` on ``%(private)s``, which the caller replaces (an SQL
    condition, or a parameter). Without ``opening``, the text a stored representation
    keeps (``fields`` from ``owner`` on): it starts with a comma, not a brace."""
    parts: list[str] = []
    run: list[str] = []

    def end_run() -> None:
        if run:
            parts.append(f"CASE WHEN %(private)s THEN {' || '.join(run)} ELSE '' END")
            run.clear()

    for i, (name, value, private) in enumerate(fields):
        text = value[5:] if value.startswith("json:") else f"to_json({value})"
        mark = "{" if opening and not i else ","
        piece = f"'{mark}\"{name}\":' || coalesce(({text})::text, 'null')"
        if private:
            assert i or not opening, "the first field is public"  # noqa: S101 (a constant's shape)
            run.append(piece)
            continue
        end_run()
        parts.append(piece)
    end_run()
    return "(" + " || ".join(parts) + " || '}')"


_REPRESENTATION_SQL = json_object_sql(_FIELDS)
# What a stored representation keeps: every key after ``id`` and ``url``, whose values
# depend on the request's host (suppliers.representations).
assert [name for name, _, _ in _FIELDS[:2]] == ["id", "url"]  # noqa: S101
_STORED_SQL = json_object_sql(_FIELDS[2:], opening=False)

_STATE_NAMES_JSON = json.dumps({state.code: state.name for state in STATES})
_STATE_CENTROIDS_JSON = json.dumps(
    {
        state.code: {"latitude": state.latitude, "longitude": state.longitude, "approximate": True}
        for state in STATES
    }
)
_GST_STATES_JSON = json.dumps(GST_CODE_STATES)
_NAMED = re.compile(r"%\((\w+)\)s")
_OUTER = re.compile(r"\bS\.")


def supplier_list_json(
    queryset: QuerySet[Supplier], *, caller: Caller, url_prefix: str, today: date | None = None
) -> QuerySet[Supplier]:
    """``queryset`` with each supplier's representation as JSON text, computed by
    PostgreSQL for the rows the query returns: ``representation``, with the private
    fields only where ``caller`` may see them (:func:`suppliers.access.supplier_private_sql`).
    ``url_prefix`` is the supplier collection's absolute URL (ending in ``/``)."""
    from suppliers.access import supplier_private_sql

    today = today or timezone.localdate()
    private_sql, private_params = supplier_private_sql(caller, table='"suppliers_supplier"')
    values = {"url": url_prefix, **_stored_values(today)}

    def build(template: str) -> RawSQL:
        names = _NAMED.findall(template)
        params: list[Any] = []
        for name in names:
            params.extend(private_params if name == "private" else [values[name]])
        sql = _NAMED.sub(
            lambda m: f"({private_sql})" if m.group(1) == "private" else "%s", template
        )
        return RawSQL(_OUTER.sub('"suppliers_supplier".', sql), params)  # noqa: S611 (constants)

    return queryset.annotate(representation=build(_REPRESENTATION_SQL))


def supplier_representations(
    supplier_ids: Collection[Any], *, caller: Caller, url_prefix: str
) -> dict[Any, str]:
    """The representations of ``supplier_ids`` (already known visible to ``caller``),
    built live by :func:`supplier_list_json`, keyed by id."""
    queryset = Supplier.objects.filter(id__in=list(supplier_ids))
    return dict(
        supplier_list_json(queryset, caller=caller, url_prefix=url_prefix).values_list(
            "id", "representation"
        )
    )


# ------------------------------------------------- stored representations (a cache)


def _stored_values(today: date) -> dict[str, Any]:
    from suppliers.classification import financial_year_of

    return {
        "today": today,
        "financial_year": financial_year_of(today),
        "names": _STATE_NAMES_JSON,
        "centroids": _STATE_CENTROIDS_JSON,
        "gst_states": _GST_STATES_JSON,
        "tz": timezone.get_current_timezone_name(),
    }


# The first day on which a representation built on %(today)s may read differently:
# a classification turning stale at the next financial year, a certificate turning valid
# on its first day or invalid the day after its last. NULL: never.
# (Days past 9998 never come: left NULL, so that every stored day reads as a Python date.)
_FRESH_UNTIL_SQL = """LEAST(
    CASE WHEN S.classification_year >= %(financial_year)s AND S.classification_year < 9998
        THEN make_date(S.classification_year + 1, 4, 1) END,
    (SELECT min(CASE WHEN sc.valid_from > %(today)s THEN sc.valid_from
                     WHEN sc.valid_until >= %(today)s AND sc.valid_until < '9999-01-01'
                     THEN sc.valid_until + 1 END)
     FROM suppliers_suppliercertificate sc WHERE sc.supplier_id = S.id))"""


def representation_version() -> str:
    """What a stored representation was built by: the SQL and its constants (state
    names, the time zone). A deployment that changes either reads older rows as stale."""
    return _version_for(timezone.get_current_timezone_name())


@functools.lru_cache(maxsize=8)
def _version_for(tz: str) -> str:
    values = _stored_values(date(2000, 1, 1))
    key = json.dumps(
        [_STORED_SQL, _FRESH_UNTIL_SQL, values["names"], values["centroids"]]
        + [values["gst_states"], tz]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def stored_representation_sql(*, public: bool) -> str:
    """The SQL of a stored representation's text (``private`` decided), over the supplier
    table ``S``; its named parameters are :func:`stored_representation_params`'."""
    return _STORED_SQL.replace("%(private)s", "false" if public else "true")


def stored_representation_params(today: date) -> dict[str, Any]:
    values = _stored_values(today)
    names = set(_NAMED.findall(_STORED_SQL + _FRESH_UNTIL_SQL)) - {"private"}
    return {name: values[name] for name in names}


def fresh_until_sql() -> str:
    return _FRESH_UNTIL_SQL


def url_prefix_param(url_prefix: str) -> str:
    """The parameter :func:`supplier_list_stored` passes for ``url_prefix``: its JSON
    string's opening quote and escaped text, to which each supplier's id is appended."""
    return json.dumps(url_prefix, ensure_ascii=False)[:-1]


def supplier_list_stored(
    queryset: QuerySet[Supplier], *, caller: Caller, url_prefix: str, today: date | None = None
) -> QuerySet[Supplier]:
    """``queryset`` with each supplier's stored representation, as
    :func:`supplier_list_json` builds it, as ``representation``: NULL where none is
    stored for ``today`` by this version (build those with :func:`supplier_list_json`)."""
    from suppliers.access import supplier_private_sql

    today = today or timezone.localdate()
    private_sql, private_params = supplier_private_sql(caller, table='"suppliers_supplier"')
    prefix = url_prefix_param(url_prefix)
    text = f"CASE WHEN ({private_sql}) THEN r.private ELSE r.public END"
    sql = (
        '(SELECT \'{"id":"\' || r.supplier_id::text || \'","url":\' || %s'  # noqa: S608
        " || r.supplier_id::text || '/\"' || " + text + " FROM suppliers_supplierrepresentation r"
        ' WHERE r.supplier_id = "suppliers_supplier".id AND r.version = %s'
        " AND r.as_of <= %s AND (r.fresh_until IS NULL OR r.fresh_until > %s))"
    )
    params = [prefix, *private_params, representation_version(), today, today]
    return queryset.annotate(representation=RawSQL(sql, params))  # noqa: S611 (constants)
