"""Reads of requests, runs and matches, limited to what the caller may see and already
optimised (a constant number of queries per page). The API and the admin read through
these; the rules of who sees what live here and nowhere else.

* requests: operators all; everyone signed in the published ones (not drafts); the
  owner's members their drafts too;
* runs: the owner's members and operators;
* matches: the buyer's members, the matched SME's members (or its onboarding portal
  while unclaimed) and operators;
* a supplier's opportunities and gaps: those who may see its private fields.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef, Prefetch, Q, QuerySet

from matching.choices import RequestStatus
from matching.models import (
    MAX_WEIGHT,
    PUBLIC_REQUEST_FIELDS,
    Match,
    MatchRun,
    NearMiss,
    ProcurementRequest,
)
from remag.accounts.caller import Caller
from remag.errors import NotAllowed, NotFound
from suppliers.access import supplier_can_see_private, supplier_visible_q
from suppliers.models import Certification, MaterialGrade, Supplier

REQUEST_PREFETCH = (
    "required_capabilities",
    "required_certifications",
    "preferred_certifications",
    "grades",
)
# At most this many gaps, and this many request ids per gap, are listed.
GAP_LIMIT = 50


def request_list(*, caller: Caller, codes_only: bool = False) -> QuerySet[ProcurementRequest]:
    """The requests the caller may read, with their taxonomy relations prefetched as
    whole rows, or (``codes_only``, for reading a request's representation, which names
    them by code) as their codes alone: on PostgreSQL an array column per relation in
    the requests' own query (a page of 50 requests runs no query per relation), elsewhere
    prefetches of each row's id and code. Either way the page does not build and parse
    the timestamps of a few hundred taxonomy rows it never shows."""
    if codes_only and connection.vendor == "postgresql":
        # Each list of codes as an array column of the request's own row: no query of
        # its own per relation (``CodeListField`` reads ``<relation>_codes`` first).
        queryset = ProcurementRequest.objects.annotate(
            **{
                f"{name}_codes": ArraySubquery(
                    through.objects.filter(procurementrequest_id=OuterRef("pk"))
                    .order_by()
                    .values(f"{target}__code")
                )
                for name, through, target in _request_taxonomy()
            }
        )
    elif codes_only:
        queryset = ProcurementRequest.objects.prefetch_related(
            *(
                Prefetch(
                    name,
                    queryset=through._meta.get_field(target).related_model.objects.only(
                        "id", "code"
                    ),
                )
                for name, through, target in _request_taxonomy()
            )
        )
    else:
        queryset = ProcurementRequest.objects.prefetch_related(*REQUEST_PREFETCH)
    if caller.is_operator:
        return queryset
    return queryset.filter(Q(owner_id__in=caller.organization_ids) | ~Q(status=RequestStatus.DRAFT))


def _request_taxonomy() -> list[tuple[str, Any, str]]:
    """Each of ``REQUEST_PREFETCH``: its name, its through model and the through model's
    field naming the taxonomy row."""
    found = []
    for name in REQUEST_PREFETCH:
        field = ProcurementRequest._meta.get_field(name)
        through = field.remote_field.through
        found.append((name, through, field.m2m_reverse_field_name()))
    return found


def match_run_list(*, caller: Caller) -> QuerySet[MatchRun]:
    queryset = MatchRun.objects.all()
    if caller.is_operator:
        return queryset
    return queryset.filter(request__owner_id__in=caller.organization_ids)


def match_run_list_for_request(*, request: ProcurementRequest) -> QuerySet[MatchRun]:
    return MatchRun.objects.filter(request=request)


def match_visible_q(caller: Caller) -> Q:
    """Matches the caller may read (a queryset filter)."""
    if caller.is_operator:
        return Q()
    ids = caller.organization_ids
    return (
        Q(request__owner_id__in=ids)
        | Q(supplier__owner_id__in=ids)
        | Q(supplier__onboarded_by_id__in=ids, supplier__claimed_at__isnull=True)
    )


def match_list(*, caller: Caller) -> QuerySet[Match]:
    return Match.objects.select_related("request", "supplier").filter(match_visible_q(caller))


def match_list_for_request(*, request: ProcurementRequest) -> QuerySet[Match]:
    """The request's matches (the caller was checked against the request)."""
    return Match.objects.filter(request=request).select_related("request", "supplier")


def match_list_for_request_id(
    *, caller: Caller, request_id: UUID, base: QuerySet[Match] | None = None
) -> QuerySet[Match]:
    """The matches of request ``request_id`` if ``caller`` may list them (its owner's
    members, operators), else none: the request is checked in the matches' own query,
    so an empty result does not say whether it exists or is the caller's (read the
    request to tell). ``base`` is the matches' queryset to filter (a page's columns,
    built once), all of them by default."""
    queryset = (Match.objects.all() if base is None else base).filter(request_id=request_id)
    if caller.is_operator:
        return queryset
    return queryset.filter(request__owner_id__in=caller.organization_ids)


def supplier_get_private(*, caller: Caller, supplier_id: UUID | str) -> Supplier:
    """The supplier, for a read of its private side (its opportunities, its gaps): loaded
    with its id and the columns the rules read only (``owner``, ``onboarded_by``,
    ``claimed_at``), so any other field read from it costs a query of its own.

    Raises :class:`NotFound` when the caller cannot see the supplier at all, and
    :class:`NotAllowed` when it sees only the public profile.
    """
    # The columns the rules read, and the id the caller's reads filter by: not the
    # whole profile.
    supplier = (
        Supplier.objects.filter(supplier_visible_q(caller), id=supplier_id)
        .only("id", "owner_id", "onboarded_by_id", "claimed_at")
        .first()
    )
    if supplier is None:
        raise NotFound("Not found.")
    if not supplier_can_see_private(caller=caller, supplier=supplier):
        raise NotAllowed(
            "Only the supplier's own members (or its onboarding portal) and operators "
            "see its opportunities and gaps."
        )
    return supplier


def opportunity_list(*, supplier: Supplier) -> QuerySet[Match]:
    """Open requests the supplier matches, with the requests' taxonomy prefetched."""
    return (
        Match.objects.filter(supplier=supplier, request__status=RequestStatus.OPEN)
        .select_related("request")
        .prefetch_related(*(f"request__{name}" for name in REQUEST_PREFETCH))
    )


@dataclass(frozen=True)
class Gap:
    """One constraint that keeps the supplier out of open requests."""

    constraint: str
    request_count: int
    summary: str
    requests: list[Any]


def gap_list(*, supplier: Supplier) -> list[Gap]:
    """What would qualify the supplier for more open requests: its near misses grouped
    by the one constraint that excluded it, most requests first (then by constraint)."""
    # One row per open request the supplier narrowly misses (at most one each).
    rows = (
        NearMiss.objects.filter(supplier=supplier, request__status=RequestStatus.OPEN)
        .order_by("request__needed_by", "request_id")
        .values_list("constraint", "request_id")
    )
    grouped: dict[str, list[Any]] = {}
    for constraint, request_id in rows:
        grouped.setdefault(constraint, []).append(request_id)
    ranked = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))[:GAP_LIMIT]
    codes = [c.split(":", 1)[1] for c, _ in ranked if c.startswith("certification:")]
    names: dict[str, str] = {}
    scoped: set[str] = set()
    for code, name, is_scoped in Certification.objects.filter(code__in=codes).values_list(
        "code", "name", "scoped"
    ):
        names[code] = name
        if is_scoped:
            scoped.add(code)
    grades = [c.split(":", 1)[1] for c, _ in ranked if c.startswith("grade:")]
    if grades:
        names.update(
            (f"grade:{code}", name)
            for code, name in MaterialGrade.objects.filter(code__in=grades).values_list(
                "code", "name"
            )
        )
    return [
        Gap(
            constraint=constraint,
            request_count=len(request_ids),
            summary=gap_summary(constraint, len(request_ids), names, scoped=scoped),
            requests=request_ids[:GAP_LIMIT],
        )
        for constraint, request_ids in ranked
    ]


def gap_summary(
    constraint: str, count: int, names: dict[str, str], *, scoped: Collection[str] = ()
) -> str:
    requests = f"{count} open request{'s' if count != 1 else ''}"
    if constraint.startswith("certification:"):
        code = constraint.split(":", 1)[1]
        covering = " whose scope covers the requested capability" if code in scoped else ""
        return (
            f"a certificate of {names.get(code, code)}{covering} valid through the needed-by "
            f"date would qualify you for {requests}"
        )
    if constraint.startswith("grade:"):
        name = names.get(constraint, constraint.split(":", 1)[1])
        return (
            f"offering a grade compatible with {name} (the same or a higher energy and "
            f"temperature class) would qualify you for {requests}"
        )
    if constraint == "capability":
        return f"offering one of the required capabilities would qualify you for {requests}"
    if constraint == "active":
        return f"verification of your profile would qualify you for {requests}"
    if constraint == "distance":
        return f"you are outside the buyer's delivery radius for {requests}"
    return f"{constraint}: {requests}"


def published_requests(request_ids: Collection[UUID]) -> QuerySet[ProcurementRequest]:
    """The open ones of ``request_ids``, with what ``PublishedRequestSerializer`` reads."""
    return ProcurementRequest.objects.filter(
        id__in=list(request_ids), status=RequestStatus.OPEN
    ).prefetch_related(*REQUEST_PREFETCH)


def _codes_join(field_name: str, alias: str) -> str:
    """A ``LEFT JOIN`` naming ``alias`` whose ``codes`` are the sorted codes of one of the
    requests' many-to-many taxonomy fields as a JSON array (what ``CodeListField``
    writes), one row per request of ``%(ids)s`` that has any (``R`` the request). Grouped
    once for the page's requests: as a subquery per request, PostgreSQL hashed the
    taxonomy table again for every request, two thirds of the statement's time."""
    field = ProcurementRequest._meta.get_field(field_name)
    through = field.remote_field.through._meta.db_table
    target = field.related_model._meta.db_table
    request, code = field.m2m_column_name(), field.m2m_reverse_name()
    return (  # table and column names from the models' metadata, no input
        f' LEFT JOIN (SELECT x."{request}" AS request_id,'  # noqa: S608
        f' json_agg(t.code ORDER BY t.code COLLATE "C") AS codes'
        f' FROM "{through}" x JOIN "{target}" t ON t.id = x."{code}"'
        f' WHERE x."{request}" = ANY(%(ids)s::uuid[]) GROUP BY x."{request}") {alias}'
        f" ON {alias}.request_id = R.id"
    )


def published_requests_json(
    request_ids: Collection[UUID], *, url_template: str
) -> dict[UUID, str | None]:
    """Each of ``request_ids`` that is open, as its buyer published it
    (``PublishedRequestSerializer``'s output: the public fields only, whoever asks) as
    JSON text built by PostgreSQL, by id; ``url_template`` is a request's absolute URL
    with ``{id}`` for its id. A request deleted or closed meanwhile is missing. ``None``
    for a request whose ``materials`` is not a list of strings (which only SQL, or the
    admin before it checked them, can store), whose representation Python's ``str``
    decides: the caller serialises it. ``tests/matching/test_opportunity_list_json.py``
    holds the two equal. PostgreSQL only."""
    return _requests_json(
        _PUBLISHED, request_ids, {"url": url_template, "open": RequestStatus.OPEN.value}
    )


def request_representations_json(
    request_ids: Collection[UUID], *, caller: Caller, url_templates: dict[str, str]
) -> dict[UUID, str | None]:
    """Each of ``request_ids`` (already known visible to ``caller``) as
    ``ProcurementRequestSerializer`` writes it for ``caller`` (the private fields where
    the caller acts for the owner or is an operator) as JSON text built by PostgreSQL,
    by id. ``url_templates``: the absolute URLs of a request (``url``), its matches
    (``matches_url``) and its runs (``match_runs_url``), with ``{id}`` for its id. A
    request deleted meanwhile is missing; ``None`` for one whose ``materials`` (or,
    where the private fields are written, ``weights`` or coordinates) are not of the
    shape the API stores (only SQL, or the admin before it checked them, can store
    another), which the caller serialises. Numbers are written as the serializer writes
    them (a float field's whole number as ``18.0``). ``JSONRenderer``'s ``indent`` media
    type parameter is not honoured, and the spacing differs from DRF's compact JSON.
    ``tests/matching/test_request_list_json.py`` holds the two equal, types included.
    PostgreSQL only."""
    if caller.is_operator:
        return _requests_json(_EVERY_FIELD, request_ids, url_templates)
    organizations = [str(o) for o in caller.organization_ids]
    return _requests_json(_OWNERS_FIELDS, request_ids, {**url_templates, "orgs": organizations})


# Who a request's representation is built for: the public fields only and open requests
# only (a supplier's opportunities), every field (operators), the private ones where
# the request's owner is one of %(orgs)s.
_PUBLISHED, _EVERY_FIELD, _OWNERS_FIELDS = "published", "every-field", "owners-fields"


def _requests_json(
    kind: str, request_ids: Collection[UUID], values: dict[str, Any]
) -> dict[UUID, str | None]:
    from django.utils import timezone

    from remag.db import run_prepared

    if not request_ids:
        return {}
    sql, names = _requests_json_sql(kind)
    values = {
        **values,
        "ids": [str(i) for i in request_ids],
        "tz": timezone.get_current_timezone_name(),
    }
    params = [values[name] for name in names]

    def run(cursor: Any) -> dict[UUID, str | None]:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())

    # The same text on every call: prepared once a connection has run it a few times,
    # PostgreSQL plans it once (remag.db.statements_prepared).
    return run_prepared(ProcurementRequest.objects.db, run)


_TAXONOMY_FIELDS = (
    "required_capabilities",
    "required_certifications",
    "preferred_certifications",
    "grades",
)


@functools.cache
def _request_fields() -> tuple[tuple[str, str, bool], ...]:
    """A request's representation's fields in ``ProcurementRequestSerializer``'s order:
    ``(name, SQL value, private)`` over the request ``R`` and its taxonomy joins
    (:func:`_codes_join`), as ``suppliers.selectors.json_object_sql`` takes them."""
    from suppliers.selectors import iso_sql

    def url(name: str) -> str:
        return f"replace(%({name})s, '{{id}}', R.id::text)"

    weight = _float_json("(w.v #>> '{}')::float8")[len("json:") :]  # a constant's SQL
    taxonomy = {
        name: f"json:coalesce(C{i}.codes, '[]'::json)" for i, name in enumerate(_TAXONOMY_FIELDS)
    }
    fields = {
        "id": "R.id",
        "url": url("url"),
        "owner": "R.owner_id",
        "title": "R.title",
        "description": "R.description",
        "layer": "R.layer",
        **taxonomy,
        "grades_required": "R.grades_required",
        # Each element a string (the plain shape, below): its text.
        "materials": "json:(SELECT coalesce(json_agg(e.v #>> '{}' ORDER BY e.i), '[]'::json)"
        " FROM jsonb_array_elements(R.materials) WITH ORDINALITY AS e(v, i))",
        "quantity": "R.quantity::text",
        "quantity_unit": "R.quantity_unit",
        "needed_by": "to_char(R.needed_by, 'YYYY-MM-DD')",
        "delivery_state": "R.delivery_state",
        "delivery_pin_code": "R.delivery_pin_code",
        "delivery_latitude": _float_json("R.delivery_latitude"),
        "delivery_longitude": _float_json("R.delivery_longitude"),
        "max_distance_km": "R.max_distance_km",
        "prefer_micro_small": "R.prefer_micro_small",
        "prefer_women_owned": "R.prefer_women_owned",
        "prefer_sc_st_owned": "R.prefer_sc_st_owned",
        # Each weight a number (the plain shape, below), written as a float as
        # DictField(child=FloatField) writes it, in the stored object's order.
        "weights": "json:(SELECT coalesce('{' || string_agg("  # noqa: S608 (constants)
        f"to_json(w.k)::text || ':' || {weight}, ',' ORDER BY w.i) || '}}', '{{}}')"
        " FROM jsonb_each(R.weights) WITH ORDINALITY AS w(k, v, i))",
        "status": "R.status",
        "published_at": iso_sql("R.published_at"),
        "closed_at": iso_sql("R.closed_at"),
        "matches_url": url("matches_url"),
        "match_runs_url": url("match_runs_url"),
        "created_at": iso_sql("R.created_at"),
        "updated_at": iso_sql("R.updated_at"),
    }
    public = {*PUBLIC_REQUEST_FIELDS, "url"}
    return tuple((name, value, name not in public) for name, value in fields.items())


def _float_json(value: str) -> str:
    """``value`` (a float8 expression) as Python's ``json.dumps`` writes a float, as
    JSON text: a whole number with ``.0`` (PostgreSQL writes ``18``, Python ``18.0``),
    any other with PostgreSQL's shortest exact digits, which are Python's ``repr`` below
    1e15 (above it the two spell the same number differently). Not NaN or infinite (the
    plain shape, below)."""
    return (
        f"json:(CASE WHEN {value} IS NULL THEN 'null' WHEN {value} = trunc({value})"
        f" AND abs({value}) < 1e15 THEN trunc({value})::bigint::text || '.0'"
        f" ELSE {value}::text END)"
    )


@functools.cache
def _requests_json_sql(kind: str) -> tuple[str, list[str]]:
    """The SQL of :func:`_requests_json` for ``kind`` with positional parameters, and
    the names of its parameters in order: built once (from the models' metadata)."""
    import re

    from suppliers.selectors import json_object_sql

    fields = _request_fields()
    private = {_PUBLISHED: "false", _EVERY_FIELD: "true"}.get(
        kind, "R.owner_id = ANY(%(orgs)s::uuid[])"
    )
    if kind == _PUBLISHED:  # only the public keys, as PublishedRequestSerializer has them
        fields = tuple(field for field in fields if not field[2])
    representation = json_object_sql(fields).replace("%(private)s", f"({private})")
    # Names from the models' metadata; every value a parameter.
    taxonomy = "".join(_codes_join(name, f"C{i}") for i, name in enumerate(_TAXONOMY_FIELDS))
    # The shape the API gives what it stores: materials a list of strings; weights an
    # object of numbers from 0 to MAX_WEIGHT; coordinates finite. A row of another shape
    # (stored by the admin before its form checked them, or by SQL) is the serializer's
    # to write (or refuse). The JSON paths are strict, so that a nested array is not
    # unwrapped into its elements, and silent: no error, whatever the stored shape.
    plain = (
        "jsonb_typeof(R.materials) = 'array' AND NOT jsonb_path_exists(R.materials,"
        " 'strict $[*] ? (@.type() != \"string\")', '{}', true)"
    )
    if kind != _PUBLISHED:  # the weights and coordinates are written: private fields
        plain += (
            f" AND (NOT ({private}) OR jsonb_typeof(R.weights) = 'object' AND NOT"
            ' jsonb_path_exists(R.weights, \'strict $.* ? (@.type() != "number"'
            f" || @ < 0 || @ > {MAX_WEIGHT})', '{{}}', true)"
            " AND coalesce(abs(R.delivery_latitude) < 'Infinity'::float8, true)"
            " AND coalesce(abs(R.delivery_longitude) < 'Infinity'::float8, true))"
        )
    status = " AND R.status = %(open)s" if kind == _PUBLISHED else ""
    template = (
        f"SELECT R.id, CASE WHEN {plain} THEN {representation} END"  # noqa: S608
        f' FROM "{ProcurementRequest._meta.db_table}" R{taxonomy}'
        f" WHERE R.id = ANY(%(ids)s::uuid[]){status}"
    )
    names = re.findall(r"%\((\w+)\)s", template)
    return re.sub(r"%\((\w+)\)s", "%s", template), names
