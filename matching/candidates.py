"""From the database to plain data: a request's :class:`~matching.scoring.Criteria` and its
candidates as a columnar :class:`~matching.scoring.CandidateBatch`.

The candidate query is built with the ORM (so it runs on SQLite and PostgreSQL alike) and
executed through the bare DB-API cursor, skipping model instances: at 100,000 candidates
that is the difference between milliseconds and seconds. Its filters follow the hard
constraints and use their indexes:

* the supplier is not withdrawn or suspended (``supplier_status_active``); verified
  (``active``) suppliers qualify, pending ones are loaded to be reported as near misses;
* it offers at least one required capability (``supcap_capability``). A supplier
  offering none is not a candidate, so it is never reported as a near miss: every
  supplier of the registry lacking the capability would be one, which tells an SME
  nothing it can act on;
* each required and preferred certification is an ``EXISTS`` over
  ``supcert_certification`` (certification, valid_until, supplier), true when a
  certificate is valid on the run date and through the request's needed-by date (and a
  second ``EXISTS``, valid on the run date alone, tells an expiring certificate apart).
  For a scoped accreditation (``Certification.scoped``) the certificate must also cover
  the request: its scope names a required capability the supplier offers; two more
  ``EXISTS``, ignoring the scope and asking for an empty one, tell an out-of-scope
  accreditation and one that states no scope apart.

A micro or small enterprise whose classification is of a past financial year counts as
of unknown size for the policy preference (``micro_small`` false).

A candidate's location is its site nearest the delivery point that offers a required
capability: its main location (the profile's own coordinates, which count as a plant
offering everything it offers) or one of its plants (``SupplierPlant``) offering a
required capability (a plant naming no capability offers them all). The nearest plant
per supplier is chosen in SQL (:func:`nearest_plants`: a window over the plants,
portable to SQLite), compared with the main location here, and its name goes to the
explanation.

Magnet grades (a block of its own, :func:`grade_requirements` and :func:`_grade_columns`):
the request's grades become :class:`~matching.scoring.GradeRequirement` s, each with the
taxonomy's grades that meet it (``suppliers.grades``: same family, the same or a higher
energy and temperature class); a candidate's grades are those it states with its offers
of the required capabilities, read in one query of the offers that state any.

Distance and the soft factors are computed by :mod:`matching.scoring`.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    TextField,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Cos, Power, Radians, RowNumber, Sin

from matching.models import ProcurementRequest
from matching.procurement.records import delivery_records
from matching.scoring import (
    DEFAULT_WEIGHTS,
    CandidateBatch,
    Criteria,
    GradeRequirement,
    Weights,
    grade_columns,
    haversine_km,
)
from suppliers.choices import CAPACITY_TO_BASE, QUANTITY_TO_BASE, SupplierStatus
from suppliers.classification import financial_year_of
from suppliers.grades import GradeSpec, grade_order_key
from suppliers.models import (
    Capability,
    Certification,
    MaterialGrade,
    Supplier,
    SupplierCapability,
    SupplierCertificate,
    SupplierPlant,
)
from suppliers.selectors import certificate_flags, certificate_valid_exists
from suppliers.states import STATES_BY_CODE

MAX_TEXT_TERMS = 24
SEARCH_CONFIG = "english"
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A small list for the SQLite path; PostgreSQL uses its own (the 'english' configuration).
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "per",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "we",
        "were",
        "will",
        "with",
        "within",
        "who",
    ]
)


@dataclass(frozen=True)
class Loaded:
    """A request's criteria and its candidates (``batch.supplier_ids`` are the suppliers'
    UUIDs in canonical text form)."""

    criteria: Criteria
    batch: CandidateBatch


def request_text(request: ProcurementRequest) -> str:
    grades = [g.code for g in request.grades.all()]
    return " ".join([request.title, request.description, *request.materials, *grades]).strip()


def criteria_for(request: ProcurementRequest, *, run_date: date) -> Criteria:
    capabilities = sorted(c.code for c in request.required_capabilities.all())
    required = sorted(c.code for c in request.required_certifications.all())
    preferred = sorted(
        c.code for c in request.preferred_certifications.all() if c.code not in required
    )
    quantity_base = dimension = None
    if request.quantity is not None and request.quantity_unit:
        dimension, factor = QUANTITY_TO_BASE[request.quantity_unit]
        quantity_base = float(request.quantity * factor)
    return Criteria(
        required_capabilities=tuple(capabilities),
        run_date=run_date,
        required_certifications=tuple(required),
        preferred_certifications=tuple(preferred),
        quantity_base=quantity_base,
        quantity_dimension=dimension,
        needed_by=request.needed_by,
        latitude=request.delivery_latitude,
        longitude=request.delivery_longitude,
        max_distance_km=(
            float(request.max_distance_km) if request.max_distance_km is not None else None
        ),
        prefer_micro_small=request.prefer_micro_small,
        prefer_women_owned=request.prefer_women_owned,
        prefer_sc_st_owned=request.prefer_sc_st_owned,
        has_text=bool(text_terms(request_text(request))),
        weights=weights_for(request.weights),
        grades=(grades := grade_requirements(request)),
        grades_required=request.grades_required and bool(grades),
    )


def weights_for(overrides: dict[str, float] | None) -> Weights:
    return Weights(**{**asdict(DEFAULT_WEIGHTS), **(overrides or {})})


def text_terms(text: str) -> list[str]:
    """The request's distinct terms, in order of first appearance, at most MAX_TEXT_TERMS.
    On PostgreSQL they are the lexemes of ``to_tsvector('english', text)`` (stemmed, no
    stop words), matching the suppliers' search vectors."""
    if not text:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s)) "
                "ORDER BY positions[1], lexeme",
                [SEARCH_CONFIG, text],
            )
            return [row[0] for row in cursor.fetchall()][:MAX_TEXT_TERMS]
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) > 2 and word not in _STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)[:MAX_TEXT_TERMS]


def _valid_certificate(
    certification_id: object,
    day: date,
    through: date | None = None,
    covering: Sequence[object] | None = None,
    scope_stated: bool | None = None,
) -> Exists:
    return certificate_valid_exists(
        certification_id=certification_id,
        day=day,
        through=through,
        covering=covering,
        scope_stated=scope_stated,
    )


def candidate_queryset(
    request: ProcurementRequest,
    criteria: Criteria,
    *,
    supplier_ids: Sequence[object] | None = None,
) -> tuple[QuerySet, list[str], list[str]]:
    """The candidate rows through the ORM, as a ``values_list`` query; the request's text
    terms; and the names of its columns (the SQLite path of :func:`load`)."""
    cert_ids: dict[str, object] = {}
    scoped: set[str] = set()
    for code, cert_id, is_scoped in Certification.objects.filter(
        code__in=criteria.required_certifications + criteria.preferred_certifications
    ).values_list("code", "id", "scoped"):
        cert_ids[code] = cert_id
        if is_scoped:
            scoped.add(code)
    capability_ids = list(
        Capability.objects.filter(code__in=criteria.required_capabilities).values_list(
            "id", flat=True
        )
    )
    queryset = Supplier.objects.filter(
        Exists(
            SupplierCapability.objects.filter(
                supplier=OuterRef("pk"), capability_id__in=capability_ids
            )
        ),
        is_active=True,
        status__in=(SupplierStatus.ACTIVE, SupplierStatus.PENDING),
    )
    if supplier_ids is not None:
        queryset = queryset.filter(id__in=supplier_ids)
    columns = [
        "sid",
        "status",
        "latitude",
        "longitude",
        "enterprise_size",
        "women_owned",
        "sc_st_owned",
        "state",
        "classification_year",
    ]
    annotations: dict[str, object] = {"sid": Cast("id", TextField())}
    run_date, needed_by = criteria.run_date, criteria.needed_by
    plain, scoped_checks = _certificate_checks(criteria, scoped)
    for name, (code, day, through) in plain.items():
        annotations[name] = _valid_certificate(cert_ids[code], day, through)
    for name, (code, through_needed_by) in scoped_checks.items():
        through = needed_by if through_needed_by else None
        annotations[name] = _valid_certificate(cert_ids[code], run_date, through, capability_ids)
        if name.startswith("req_"):
            # Valid, but its scope covers none of the request, or states none: near misses
            # saying so.
            j = name.removeprefix("req_")
            annotations[f"anyscope_{j}"] = _valid_certificate(cert_ids[code], run_date, needed_by)
            annotations[f"noscope_{j}"] = _valid_certificate(
                cert_ids[code], run_date, needed_by, scope_stated=False
            )
    terms = text_terms(request_text(request)) if criteria.has_text else []
    if terms:
        columns.append("search_text")
    queryset = queryset.annotate(**annotations)
    columns += [name for name in annotations if name != "sid"]
    return queryset.order_by().values_list(*columns), terms, columns


def nearest_plants(
    criteria: Criteria,
    capability_ids: Sequence[object],
    *,
    supplier_ids: Sequence[object] | None = None,
) -> dict[str, tuple[float, float, str]]:
    """Per candidate supplier with plants, its plant nearest the delivery point among
    those with coordinates that offer a required capability: ``{supplier id (text):
    (latitude, longitude, name)}``. Empty when the request has no delivery point.

    One query: the plants of active or pending suppliers offering a required capability,
    ranked per supplier by the haversine term (the great-circle distance grows with it)
    in a window, the first kept. Django's SQLite backend provides the maths functions, so
    it runs there too."""
    if criteria.latitude is None or criteria.longitude is None or not capability_ids:
        return {}
    through = SupplierPlant.capabilities.through
    lat0, lon0 = math.radians(criteria.latitude), math.radians(criteria.longitude)
    half_dlat = (Radians(F("latitude")) - Value(lat0)) / Value(2.0)
    half_dlon = (Radians(F("longitude")) - Value(lon0)) / Value(2.0)
    haversine = Power(Sin(half_dlat), 2) + Value(math.cos(lat0)) * Cos(
        Radians(F("latitude"))
    ) * Power(Sin(half_dlon), 2)
    plants = SupplierPlant.objects.filter(
        latitude__isnull=False,
        longitude__isnull=False,
        supplier__is_active=True,
        supplier__status__in=(SupplierStatus.ACTIVE, SupplierStatus.PENDING),
    ).filter(
        Exists(
            SupplierCapability.objects.filter(
                supplier_id=OuterRef("supplier_id"), capability_id__in=capability_ids
            )
        ),
        # Naming no capability, a plant offers all the supplier's (one is required: the
        # Exists above); naming some, one of them must be required.
        ~Exists(through.objects.filter(supplierplant_id=OuterRef("pk")))
        | Exists(
            through.objects.filter(
                supplierplant_id=OuterRef("pk"), capability_id__in=capability_ids
            )
        ),
    )
    if supplier_ids is not None:
        plants = plants.filter(supplier_id__in=supplier_ids)
    rows = (
        plants.annotate(
            sid=Cast("supplier_id", TextField()),
            nearness=Window(
                RowNumber(),
                partition_by=[F("supplier_id")],
                order_by=[haversine.asc(), F("id").asc()],
            ),
        )
        .filter(nearness=1)
        .order_by()
        .values_list("sid", "latitude", "longitude", "name")
    )
    return {_id_text(sid): (lat, lon, name) for sid, lat, lon, name in rows}


def _floats(values: Sequence[object]) -> np.ndarray:
    return np.fromiter(
        (math.nan if v is None else float(v) for v in values), dtype=np.float64, count=len(values)
    )


def _id_text(value: object) -> str:
    """A UUID in its canonical text form (PostgreSQL's ``::text`` already is; SQLite
    stores 32 hex digits)."""
    text = str(value)
    return text if len(text) == 36 else str(uuid.UUID(text))


@dataclass
class _Columns:
    """The candidates' own columns, as the loader reads them from either backend."""

    ids: list[str]
    is_active: np.ndarray
    latitude: np.ndarray  # NaN when unknown
    longitude: np.ndarray
    state: Sequence[str]
    micro_small: np.ndarray
    women_owned: np.ndarray
    sc_st_owned: np.ndarray
    offers: np.ndarray  # (n, k)
    capacity: np.ndarray  # (n, k) in the base unit, NaN when unknown or in another dimension
    lead: np.ndarray  # (n, k)
    required_held: np.ndarray  # (n, r)
    preferred_held: np.ndarray  # (n, p)
    required_valid_today: np.ndarray  # (n, r)
    required_out_of_scope: np.ndarray  # (n, r)
    required_scope_unstated: np.ndarray  # (n, r)
    text: np.ndarray  # (n,) the share of the request's terms found


def _capacity_factors(criteria: Criteria) -> dict[str, float]:
    """The factor from each capacity unit of the request's dimension (all of them when it
    states none) to the base unit."""
    return {
        str(unit): float(factor)
        for unit, (dimension, factor) in CAPACITY_TO_BASE.items()
        if criteria.quantity_dimension in (None, dimension)
    }


def _certificate_checks(
    criteria: Criteria, scoped: set[str]
) -> tuple[dict[str, tuple[str, date, date | None]], dict[str, tuple[str, bool]]]:
    """The certificate columns a request needs, by name (``req_j``, ``pref_j``,
    ``today_j``): the unscoped ones as ``(code, day, through)`` checks, the scoped ones
    (accreditations whose scope must cover the request) as ``(code, through needed-by)``."""
    run_date, needed_by = criteria.run_date, criteria.needed_by
    plain: dict[str, tuple[str, date, date | None]] = {}
    scoped_checks: dict[str, tuple[str, bool]] = {}
    for kind, codes in (
        ("req", criteria.required_certifications),
        ("pref", criteria.preferred_certifications),
    ):
        for j, code in enumerate(codes):
            if code in scoped:
                scoped_checks[f"{kind}_{j}"] = (code, True)
            else:
                plain[f"{kind}_{j}"] = (code, run_date, needed_by)
    if needed_by is not None and needed_by > run_date:
        # Valid today but not through the needed-by date: a near miss with that reason.
        for j, code in enumerate(criteria.required_certifications):
            if code in scoped:
                scoped_checks[f"today_{j}"] = (code, False)
            else:
                plain[f"today_{j}"] = (code, run_date, None)
    return plain, scoped_checks


# A request's candidates on PostgreSQL, in one statement: the offers of the required
# capabilities grouped per supplier (one column per capability: offered, capacity in the
# base unit, lead time) drive it; the suppliers are read by key (the lateral subquery, kept
# apart by OFFSET 0, stops the planner from hashing the whole registry, search vectors
# and all, when it misjudges how many suppliers offer the capabilities), then their
# certificate flags (one grouped pass over the certificates of the certifications asked,
# limited to the candidates) and their text hits. Unknown numbers come back as NaN and
# flags as booleans, so the columns become arrays without a Python step per value.
_CANDIDATES_SQL = """
WITH candidate_offers AS MATERIALIZED (
    SELECT sc.supplier_id, {offer_columns}
    FROM suppliers_suppliercapability sc
    WHERE sc.capability_id = ANY(%s::uuid[]){supplier_filter}
    GROUP BY sc.supplier_id
)
SELECT s.id::text, s.status = %s, COALESCE(s.latitude, 'NaN'), COALESCE(s.longitude, 'NaN'),
    s.state, s.enterprise_size IN ('micro', 'small')
        AND (s.classification_year IS NULL OR s.classification_year >= %s),
    s.women_owned, s.sc_st_owned, {text_hits}{flag_columns}, o.*
FROM candidate_offers o
CROSS JOIN LATERAL (
    SELECT * FROM suppliers_supplier s WHERE s.id = o.supplier_id AND s.is_active
        AND s.status IN (%s, %s)
    OFFSET 0
) s{flag_join}
"""


def _columns_postgresql(
    request: ProcurementRequest,
    criteria: Criteria,
    capability_ids: list[object],
    supplier_ids: Sequence[object] | None,
) -> _Columns:
    k = len(capability_ids)
    certifications = {
        code: (cert_id, is_scoped)
        for code, cert_id, is_scoped in Certification.objects.filter(
            code__in=criteria.required_certifications + criteria.preferred_certifications
        ).values_list("code", "id", "scoped")
    }
    plain, scoped_checks = _certificate_checks(
        criteria, {code for code, (_, is_scoped) in certifications.items() if is_scoped}
    )
    factors = _capacity_factors(criteria)
    params: list[object] = []
    offer_columns = []
    for j, capability_id in enumerate(capability_ids):
        offer_columns.append(f"bool_or(sc.capability_id = %s) AS offers_{j}")
        params.append(capability_id)
    for j, capability_id in enumerate(capability_ids):
        # Capacity as a float in SQL (a Decimal per value is slow), times its unit's factor.
        cases = " ".join("WHEN %s THEN sc.capacity_per_month::float8 * %s::float8" for _ in factors)
        offer_columns.append(
            f"COALESCE(max(CASE sc.capacity_unit {cases} END)"
            f" FILTER (WHERE sc.capability_id = %s), 'NaN') AS capacity_{j}"
            if factors
            else f"'NaN'::float8 AS capacity_{j}"
        )
        for unit, factor in factors.items():
            params += [unit, factor]
        if factors:
            params.append(capability_id)
    for j, capability_id in enumerate(capability_ids):
        offer_columns.append(
            "COALESCE(max(sc.lead_time_days::float8)"
            f" FILTER (WHERE sc.capability_id = %s), 'NaN') AS lead_{j}"
        )
        params.append(capability_id)
    params.append([str(c) for c in capability_ids])
    supplier_filter = ""
    if supplier_ids is not None:
        supplier_filter = " AND sc.supplier_id = ANY(%s::uuid[])"
        params.append([_id_text(s) for s in supplier_ids])
    params += [SupplierStatus.ACTIVE.value, financial_year_of(criteria.run_date)]

    terms = text_terms(request_text(request)) if criteria.has_text else []
    if terms:
        text_hits = (
            "("
            + " + ".join(
                "COALESCE(s.search_vector @@ quote_literal(%s)::tsquery, false)::int" for _ in terms
            )
            + ")"
        )
        params += terms
    else:
        text_hits = "0"
    params += [SupplierStatus.ACTIVE.value, SupplierStatus.PENDING.value]
    flag_columns = flag_join = ""
    if plain:
        flag_columns = "".join(f", COALESCE(f.flag_{j}, false)" for j in range(len(plain)))
        flags_sql, flags_params = (
            certificate_flags(
                [(certifications[code][0], day, through) for code, day, through in plain.values()]
            )
            .filter(
                RawSQL(  # noqa: S611 (no parameters)
                    '"suppliers_suppliercertificate"."supplier_id" IN'
                    " (SELECT supplier_id FROM candidate_offers)",
                    [],
                    output_field=BooleanField(),
                )
            )
            .query.sql_with_params()
        )
        flag_join = f"\nLEFT JOIN ({flags_sql}) f ON f.supplier_id = s.id"
        params += flags_params
    sql = _CANDIDATES_SQL.format(
        offer_columns=", ".join(offer_columns),
        supplier_filter=supplier_filter,
        text_hits=text_hits,
        flag_columns=flag_columns,
        flag_join=flag_join,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    n = len(rows)
    columns = list(zip(*rows, strict=True)) if rows else [()] * (9 + len(plain) + 1 + 3 * k)
    ids = list(columns[0])
    flags = {
        name: np.array(columns[9 + position], dtype=bool) for position, name in enumerate(plain)
    }
    first_offer = 9 + len(plain) + 1  # after the flags and the offers' supplier_id
    block = np.array(columns[first_offer:], dtype=np.float64).reshape(3 * k, n)
    if scoped_checks:
        flags.update(
            _scoped_columns(
                criteria,
                certifications,
                scoped_checks,
                capability_ids,
                {sid: i for i, sid in enumerate(ids)},
                supplier_ids=supplier_ids,
            )
        )
    required_held, preferred_held, required_valid_today, out_of_scope, scope_unstated = (
        _certificate_arrays(criteria, n, flags.__getitem__, flags)
    )
    return _Columns(
        ids=ids,
        is_active=np.array(columns[1], dtype=bool),
        latitude=np.array(columns[2], dtype=np.float64),
        longitude=np.array(columns[3], dtype=np.float64),
        state=columns[4],
        micro_small=np.array(columns[5], dtype=bool),
        women_owned=np.array(columns[6], dtype=bool),
        sc_st_owned=np.array(columns[7], dtype=bool),
        offers=block[:k].T > 0,
        capacity=block[k : 2 * k].T.copy(),
        lead=block[2 * k :].T.copy(),
        required_held=required_held,
        preferred_held=preferred_held,
        required_valid_today=required_valid_today,
        required_out_of_scope=out_of_scope,
        required_scope_unstated=scope_unstated,
        text=np.array(columns[8], dtype=np.float64) / len(terms) if terms else np.zeros(n),
    )


def _scoped_columns(
    criteria: Criteria,
    certifications: dict[str, tuple[object, bool]],
    checks: dict[str, tuple[str, bool]],
    capability_ids: list[object],
    index: dict[str, int],
    *,
    supplier_ids: Sequence[object] | None,
) -> dict[str, np.ndarray]:
    """The columns of scoped accreditations (their scope must cover the request), each an
    ``EXISTS`` per supplier, plus ``anyscope_j`` and ``noscope_j`` for the required ones
    (valid but covering nothing, or stating no scope). Read only for the candidates
    holding a certificate of one of them: every such column is false for the others."""
    run_date, needed_by = criteria.run_date, criteria.needed_by
    annotations: dict[str, object] = {"sid": Cast("id", TextField())}
    for name, (code, through_needed_by) in checks.items():
        cert_id = certifications[code][0]
        through = needed_by if through_needed_by else None
        annotations[name] = _valid_certificate(cert_id, run_date, through, capability_ids)
        if name.startswith("req_"):
            j = name.removeprefix("req_")
            annotations[f"anyscope_{j}"] = _valid_certificate(cert_id, run_date, needed_by)
            annotations[f"noscope_{j}"] = _valid_certificate(
                cert_id, run_date, needed_by, scope_stated=False
            )
    holders = Supplier.objects.filter(
        id__in=SupplierCertificate.objects.filter(
            certification_id__in=[certifications[code][0] for code, _ in checks.values()]
        ).values("supplier_id"),
    ).filter(
        id__in=SupplierCapability.objects.filter(capability_id__in=capability_ids).values(
            "supplier_id"
        ),
    )
    if supplier_ids is not None:
        holders = holders.filter(id__in=supplier_ids)
    names = list(annotations)
    columns = {name: np.zeros(len(index), dtype=bool) for name in names[1:]}
    for row in holders.annotate(**annotations).order_by().values_list(*names):
        i = index.get(_id_text(row[0]))
        if i is not None:
            for name, value in zip(names[1:], row[1:], strict=True):
                columns[name][i] = bool(value)
    return columns


def _columns_orm(
    request: ProcurementRequest,
    criteria: Criteria,
    capability_ids: list[object],
    supplier_ids: Sequence[object] | None,
) -> _Columns:
    """The candidates' columns through the ORM (SQLite; PostgreSQL reads them in one
    statement, :func:`_columns_postgresql`)."""
    queryset, terms, names = candidate_queryset(request, criteria, supplier_ids=supplier_ids)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    ids = [_id_text(row[0]) for row in rows]
    n = len(rows)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    index = {sid: i for i, sid in enumerate(ids)}

    k = len(capability_ids)
    column_of = {_id_text(capability_id): j for j, capability_id in enumerate(capability_ids)}
    offers = np.zeros((n, k), dtype=bool)
    capacity = np.full((n, k), np.nan)
    lead = np.full((n, k), np.nan)
    factors = _capacity_factors(criteria)
    offered = SupplierCapability.objects.filter(capability_id__in=capability_ids).order_by()
    if supplier_ids is not None:
        offered = offered.filter(supplier_id__in=supplier_ids)
    for supplier_id, capability_id, amount, unit, days in offered.values_list(
        "supplier_id", "capability_id", "capacity_per_month", "capacity_unit", "lead_time_days"
    ):
        i = index.get(_id_text(supplier_id))
        if i is None:
            continue
        j = column_of[_id_text(capability_id)]
        offers[i, j] = True
        if days is not None:
            lead[i, j] = days
        if amount is not None and unit in factors:
            capacity[i, j] = float(amount) * factors[unit]

    column = {name: list(values) for name, values in zip(names, columns, strict=True)}
    required_held, preferred_held, required_valid_today, out_of_scope, scope_unstated = (
        _certificate_arrays(
            criteria, n, lambda name: np.fromiter(map(bool, column[name]), bool, n), column
        )
    )
    text = np.zeros(n)
    if terms:
        wanted = set(terms)
        text = np.fromiter(
            (
                len(wanted & set(_WORD.findall((t or "").lower()))) / len(wanted)
                for t in column["search_text"]
            ),
            np.float64,
            n,
        )
    this_year = financial_year_of(criteria.run_date)
    return _Columns(
        ids=ids,
        is_active=np.fromiter((s == SupplierStatus.ACTIVE for s in columns[1]), bool, n),
        latitude=_floats(columns[2]),
        longitude=_floats(columns[3]),
        state=column["state"],
        micro_small=np.fromiter(
            (
                size in ("micro", "small") and (year is None or year >= this_year)
                for size, year in zip(columns[4], column["classification_year"], strict=True)
            ),
            bool,
            n,
        ),
        women_owned=np.fromiter(map(bool, columns[5]), bool, n),
        sc_st_owned=np.fromiter(map(bool, columns[6]), bool, n),
        offers=offers,
        capacity=capacity,
        lead=lead,
        required_held=required_held,
        preferred_held=preferred_held,
        required_valid_today=required_valid_today,
        required_out_of_scope=out_of_scope,
        required_scope_unstated=scope_unstated,
        text=text,
    )


def _certificate_arrays(
    criteria: Criteria,
    n: int,
    read: Callable[[str], np.ndarray],
    names: Collection[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``required_held``, ``preferred_held``, ``required_valid_today``,
    ``required_out_of_scope`` and ``required_scope_unstated`` from the certificate columns
    by name (``req_j``, ``pref_j``, ``today_j``, ``anyscope_j``, ``noscope_j``; a column
    not in ``names`` is all false, but a missing ``today_j`` means ``req_j``)."""
    r, p = len(criteria.required_certifications), len(criteria.preferred_certifications)

    def column(name: str) -> np.ndarray:
        return read(name) if name in names else np.zeros(n, dtype=bool)

    required_held = np.zeros((n, r), dtype=bool)
    preferred_held = np.zeros((n, p), dtype=bool)
    for j in range(r):
        required_held[:, j] = column(f"req_{j}")
    for j in range(p):
        preferred_held[:, j] = column(f"pref_{j}")
    required_valid_today = required_held.copy()
    out_of_scope = np.zeros((n, r), dtype=bool)
    scope_unstated = np.zeros((n, r), dtype=bool)
    for j in range(r):
        if f"today_{j}" in names:
            required_valid_today[:, j] = read(f"today_{j}")
        if f"anyscope_{j}" in names:
            out_of_scope[:, j] = read(f"anyscope_{j}") & ~required_held[:, j]
            scope_unstated[:, j] = read(f"noscope_{j}") & ~required_held[:, j]
    return required_held, preferred_held, required_valid_today, out_of_scope, scope_unstated


def load(
    request: ProcurementRequest,
    *,
    run_date: date,
    supplier_ids: Sequence[object] | None = None,
) -> Loaded:
    """Read the request's criteria and its candidates (or only ``supplier_ids``)."""
    criteria = criteria_for(request, run_date=run_date)
    by_code = dict(request.required_capabilities.values_list("code", "id"))
    capability_ids = [by_code[code] for code in criteria.required_capabilities]
    if connection.vendor == "postgresql":
        loaded = _columns_postgresql(request, criteria, capability_ids, supplier_ids)
    else:
        loaded = _columns_orm(request, criteria, capability_ids, supplier_ids)
    # Row order does not matter: ranking ties and near misses are ordered by supplier id.
    ids = loaded.ids
    n = len(ids)
    index = {sid: i for i, sid in enumerate(ids)}

    # The track record: recency-weighted delivery outcomes (matching/procurement/records.py).
    awards = np.zeros(n)
    successes = np.zeros(n)
    recent = np.zeros(n)
    recent_on_time = np.zeros(n)
    recent_accepted = np.full(n, np.nan)
    records = delivery_records(
        supplier_ids=None if supplier_ids is None else [str(s) for s in supplier_ids],
        run_date=run_date,
    )
    for supplier_id, record in records.items():
        i = index.get(supplier_id)
        if i is None:
            continue
        awards[i], successes[i] = record.weight, record.quality
        recent[i], recent_on_time[i] = record.recent, record.recent_on_time
        share = record.recent_accepted_share
        if share is not None:
            recent_accepted[i] = share

    latitude, longitude = loaded.latitude, loaded.longitude
    location_names = [""] * n
    plants = nearest_plants(criteria, capability_ids, supplier_ids=supplier_ids)
    placed = [(index[sid], plant) for sid, plant in plants.items() if sid in index]
    if placed:
        # A plant nearer than the main location (or the only exact one) places the
        # candidate; at equal distance the main location stays.
        rows = np.array([i for i, _ in placed], dtype=np.intp)
        plant_lat = np.array([plant[0] for _, plant in placed], dtype=np.float64)
        plant_lon = np.array([plant[1] for _, plant in placed], dtype=np.float64)
        lat0, lon0 = criteria.latitude, criteria.longitude
        main_km = haversine_km(lat0, lon0, latitude[rows], longitude[rows])  # type: ignore[arg-type]
        plant_km = haversine_km(lat0, lon0, plant_lat, plant_lon)  # type: ignore[arg-type]
        nearer = np.isnan(main_km) | (plant_km < main_km)
        for position in np.flatnonzero(nearer).tolist():
            i, (plant_latitude, plant_longitude, name) = placed[position]
            latitude[i], longitude[i], location_names[i] = plant_latitude, plant_longitude, name
    # A profile without coordinates (and no plant placing it) is placed at its state's
    # centre: an approximate location, which scoring neither rewards nor penalises.
    approximate = np.isnan(latitude)
    for i in np.flatnonzero(approximate).tolist():
        state = STATES_BY_CODE.get(loaded.state[i])
        if state is not None:
            latitude[i], longitude[i] = state.latitude, state.longitude
    grade_met, grades_stated, grade_notes = _grade_columns(
        criteria, index, [str(c) for c in capability_ids], supplier_ids=supplier_ids
    )
    batch = CandidateBatch(
        supplier_ids=ids,
        is_active=loaded.is_active,
        offers=loaded.offers,
        capacity_base=loaded.capacity,
        lead_time_days=loaded.lead,
        required_held=loaded.required_held,
        preferred_held=loaded.preferred_held,
        required_valid_today=loaded.required_valid_today,
        required_out_of_scope=loaded.required_out_of_scope,
        required_scope_unstated=loaded.required_scope_unstated,
        latitude=latitude,
        longitude=longitude,
        location_approximate=approximate,
        micro_small=loaded.micro_small,
        women_owned=loaded.women_owned,
        sc_st_owned=loaded.sc_st_owned,
        past_awards=awards,
        past_successes=successes,
        text_relevance=np.clip(loaded.text, 0.0, 1.0),
        location_names=location_names,
        grade_met=grade_met,
        grades_stated=grades_stated,
        grade_notes=grade_notes,
        recent_deliveries=recent,
        recent_on_time=recent_on_time,
        recent_accepted_share=recent_accepted,
    )
    return Loaded(criteria=criteria, batch=batch)


# ------------------------------------------------------------------ magnet grades


def _grade_spec(grade: MaterialGrade) -> GradeSpec | None:
    try:
        return GradeSpec(grade.family, grade.energy_class, grade.temperature_class)
    except ValueError:  # a family without the structure (an operator's legacy "smco" grade)
        return None


def grade_requirements(request: ProcurementRequest) -> tuple[GradeRequirement, ...]:
    """The request's grades, each with the taxonomy's grades that meet it and those of its
    family, least demanding first (temperature class, then energy class, then code). A
    grade without structure is met by itself alone."""
    requested = sorted(request.grades.all(), key=lambda grade: grade.code)
    if not requested:
        return ()
    taxonomy = [
        (grade.code, spec)
        for grade in MaterialGrade.objects.filter(family__in={g.family for g in requested})
        if (spec := _grade_spec(grade)) is not None
    ]
    taxonomy.sort(key=lambda item: (grade_order_key(item[1]), item[0]))
    requirements = []
    for grade in requested:
        wanted = _grade_spec(grade)
        if wanted is None:
            requirements.append(GradeRequirement(grade.code, (grade.code,), (grade.code,)))
            continue
        family = [(code, spec) for code, spec in taxonomy if spec.family == wanted.family]
        requirements.append(
            GradeRequirement(
                code=grade.code,
                meeting=tuple(code for code, spec in family if spec.meets(wanted)),
                family=tuple(code for code, _ in family),
            )
        )
    return tuple(requirements)


def _grade_columns(
    criteria: Criteria,
    index: dict[str, int],
    capability_ids: list[str],
    *,
    supplier_ids: Sequence[object] | None,
) -> tuple[np.ndarray | None, np.ndarray | None, list[list[str]] | None]:
    """The batch's grade columns (:func:`matching.scoring.grade_columns`) from the grades
    the candidates state with their offers of the required capabilities."""
    if not criteria.grades:
        return None, None, None
    offered: list[set[str]] = [set() for _ in index]
    rows = (
        SupplierCapability.objects.filter(capability_id__in=capability_ids)
        .exclude(grades=[])
        .order_by()
    )
    if supplier_ids is not None:
        rows = rows.filter(supplier_id__in=supplier_ids)
    for supplier_id, grades in rows.values_list("supplier_id", "grades").iterator(2000):
        i = index.get(str(supplier_id))
        if i is not None and isinstance(grades, list):
            offered[i].update(str(code) for code in grades)
    return grade_columns(criteria.grades, offered)
