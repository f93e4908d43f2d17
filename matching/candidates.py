"""From the database to plain data: a request's :class:`~matching.scoring.Criteria` and its
candidates as a columnar :class:`~matching.scoring.CandidateBatch`.

The candidate query is built with the ORM (so it runs on SQLite and PostgreSQL alike) and
executed through the bare DB-API cursor, skipping model instances: at 100,000 candidates
that is the difference between milliseconds and seconds. Its filters follow the hard
constraints and use their indexes:

* the supplier is not withdrawn or suspended (``supplier_status_active``); verified
  (``active``) suppliers qualify, pending ones are loaded to be reported as near misses;
* it offers at least one required capability (``supcap_capability_offer``). A supplier
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
  accreditation and one that states no scope apart. On PostgreSQL the checks (up to 62,
  more than a request of 20 required and 20 preferred certifications usually needs)
  are instead one query of their own over the certificates, a bit mask per supplier
  (:func:`suppliers.selectors.certificate_flag_masks`), read beside the candidate query.

On PostgreSQL, for a whole request, the reads that do not depend on the candidate rows
(offers, certificate checks, nearest plants, track records, grades) run on a
second pooled connection while the candidate query runs (:func:`load`,
:class:`remag.db.Alongside`; docs/matching.md, "How a run reads and writes").

A micro or small enterprise whose classification is of a past financial year counts as
of unknown size for the policy preference (``micro_small`` false).

A candidate's location is its site nearest the delivery point that offers a required
capability: its main location (the profile's own coordinates, which count as a plant
offering everything it offers) or one of its plants (``SupplierPlant``) offering a
required capability (a plant naming no capability offers them all). The nearest plant
per supplier is chosen in SQL (:func:`nearest_plants`: ``DISTINCT ON`` on PostgreSQL, a
window over the plants elsewhere), compared with the main location here, and its name goes
to the explanation.

Magnet grades (a block of its own, :func:`grade_requirements` and :func:`_grade_columns`):
the request's grades become :class:`~matching.scoring.GradeRequirement` s, each with the
taxonomy's grades that meet it (``suppliers.grades``: same family, the same or a higher
energy and temperature class); a candidate's grades are those it states with its offers
of the required capabilities, read in one query of the offers that state any.

Distance and the soft factors are computed by :mod:`matching.scoring`.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from itertools import repeat
from typing import Any

import numpy as np
from django.db import OperationalError, connection
from django.db.models import (
    Exists,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    TextField,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Cos, Power, Radians, RowNumber, Sin
from psycopg.errors import QueryCanceled

from matching.models import ProcurementRequest
from matching.procurement.records import DeliveryRecord, delivery_records
from matching.scoring import (
    DEFAULT_WEIGHTS,
    CandidateBatch,
    Criteria,
    GradeRequirement,
    Weights,
    grade_columns,
    haversine_km,
)
from remag.db import Alongside, can_read_alongside, fetch_rows
from suppliers.choices import CAPACITY_TO_BASE, QUANTITY_TO_BASE, SupplierStatus
from suppliers.classification import financial_year_of
from suppliers.grades import GradeSpec, grade_order_key
from suppliers.models import (
    MaterialGrade,
    Supplier,
    SupplierCapability,
    SupplierPlant,
)
from suppliers.selectors import (
    MAX_FLAG_CHECKS,
    CertificateCheck,
    certificate_flag_masks,
    certificate_valid_exists,
    offering_any,
)
from suppliers.states import STATES_BY_CODE

logger = logging.getLogger(__name__)

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


# The request's relations a load reads, several times each: a caller that loads a request
# it has just read prefetches them (``prefetch_related(*REQUEST_RELATIONS)``).
REQUEST_RELATIONS = (
    "required_capabilities",
    "required_certifications",
    "preferred_certifications",
    "grades",
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
        return list(_lexemes(text))
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) > 2 and word not in _STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)[:MAX_TEXT_TERMS]


@functools.lru_cache(maxsize=512)
def _lexemes(text: str) -> tuple[str, ...]:
    """PostgreSQL's lexemes of ``text`` (see :func:`text_terms`), kept per process: a
    run's criteria and its candidate query both ask, and reruns ask again."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s)) "
            "ORDER BY positions[1], lexeme",
            [SEARCH_CONFIG, text],
        )
        return tuple(row[0] for row in cursor.fetchall())[:MAX_TEXT_TERMS]


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
) -> tuple[QuerySet, list[str], list[str], dict[str, CertificateCheck]]:
    """The candidate rows, as a ``values_list`` query; the request's text terms; the
    names of its columns; and the certificate checks read apart from it on PostgreSQL
    (``{column name: check}``, read by
    :func:`suppliers.selectors.certificate_flag_masks` in :func:`load`)."""
    # The request's own taxonomy rows, which the criteria's codes come from (read once
    # when the caller prefetched REQUEST_RELATIONS, as a run does).
    certifications = [
        *request.required_certifications.all(),
        *request.preferred_certifications.all(),
    ]
    cert_ids: dict[str, object] = {c.code: c.id for c in certifications}
    scoped = {c.code for c in certifications if c.scoped}
    capability_ids = [c.id for c in request.required_capabilities.all()]
    queryset = Supplier.objects.filter(
        is_active=True,
        status__in=(SupplierStatus.ACTIVE, SupplierStatus.PENDING),
    )
    if connection.vendor == "postgresql":
        # The offering suppliers' ids first, then the suppliers by primary key: as a semi
        # join PostgreSQL scanned the whole registry (its wide rows, search vectors
        # included) and hashed the offers, several times the cost for a few thousand
        # candidates among 100,000 suppliers.
        queryset = queryset.filter(offering_any(Supplier, "id", capability_ids))
    else:
        queryset = queryset.filter(
            Exists(
                SupplierCapability.objects.filter(
                    supplier=OuterRef("pk"), capability_id__in=capability_ids
                )
            )
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
    # Ids as text: no uuid.UUID object per row (they are strings for scoring and COPY).
    annotations: dict[str, object] = {"sid": Cast("id", TextField())}
    run_date, needed_by = criteria.run_date, criteria.needed_by
    # Every certificate check, on PostgreSQL, in a query of its own over the certificates
    # (``flagged``, made into these columns by ``load``) as long as the mask has bits for
    # it; each one left an EXISTS of the candidate query (on SQLite every one).
    flagged: dict[str, CertificateCheck] = {}
    aggregate = connection.vendor == "postgresql"
    covering = tuple(capability_ids)

    def check(
        name: str,
        code: str,
        through: date | None,
        covering: tuple[object, ...] | None = None,
        scope_stated: bool | None = None,
    ) -> None:
        wanted = CertificateCheck(cert_ids[code], run_date, through, covering, scope_stated)
        if aggregate and len(flagged) < MAX_FLAG_CHECKS:
            flagged[name] = wanted
        else:
            annotations[name] = _valid_certificate(*wanted)

    for kind, codes in (
        ("req", criteria.required_certifications),
        ("pref", criteria.preferred_certifications),
    ):
        for j, code in enumerate(codes):
            check(f"{kind}_{j}", code, needed_by, covering=covering if code in scoped else None)
    for j, code in enumerate(criteria.required_certifications):
        if code in scoped:
            # Valid, but its scope covers none of the request, or states none: near misses
            # saying so.
            check(f"anyscope_{j}", code, needed_by)
            check(f"noscope_{j}", code, needed_by, scope_stated=False)
    if needed_by is not None and needed_by > run_date:
        # Valid today but not through the needed-by date: a near miss with that reason.
        for j, code in enumerate(criteria.required_certifications):
            check(f"today_{j}", code, None, covering=covering if code in scoped else None)
    terms = text_terms(request_text(request)) if criteria.has_text else []
    if terms and connection.vendor == "postgresql":
        hits = " + ".join(
            "COALESCE(search_vector @@ quote_literal(%s)::tsquery, false)::int" for _ in terms
        )
        annotations["text_hits"] = RawSQL(f"({hits})", terms)  # noqa: S611 (placeholders only)
    elif terms:
        columns.append("search_text")
    queryset = queryset.annotate(**annotations)
    columns += [name for name in annotations if name != "sid"]
    return queryset.order_by().values_list(*columns), terms, columns, flagged


def nearest_plants(
    criteria: Criteria,
    capability_ids: Sequence[object],
    *,
    supplier_ids: Sequence[object] | None = None,
) -> dict[str, tuple[float, float, str]]:
    """Per supplier with plants, its plant nearest the delivery point among those with
    coordinates that offer a required capability: ``{supplier id (text): (latitude,
    longitude, name)}``. Empty when the request has no delivery point.

    One query: the plants, ranked per supplier by the haversine term (the great-circle
    distance grows with it), the first kept (``DISTINCT ON`` on PostgreSQL, a window
    elsewhere: Django's SQLite backend provides the maths functions, so it runs there
    too). Whether the supplier is a candidate (not withdrawn or suspended, offering a
    required capability) is the candidate query's business: the caller keeps the plants
    of its candidates. On PostgreSQL only plants of suppliers with an offer of a required
    capability are ranked (a supplier without one is no candidate), found through the
    offers' index; joining the registry for the rest of the test made PostgreSQL read
    the whole registry (140 ms of a broad request's load at 100,000 suppliers)."""
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
    ).filter(
        # Naming no capability, a plant offers all the supplier's (a candidate offers a
        # required one); naming some, one of them must be required.
        ~Exists(through.objects.filter(supplierplant_id=OuterRef("pk")))
        | Exists(
            through.objects.filter(
                supplierplant_id=OuterRef("pk"), capability_id__in=capability_ids
            )
        ),
    )
    if supplier_ids is not None:
        plants = plants.filter(supplier_id__in=supplier_ids)
    if connection.vendor == "postgresql":
        # Only the plants of suppliers offering a required capability (the candidates'
        # offers, by their index, as the candidate query reads them), the nearest of each
        # kept by DISTINCT ON: ranking every located plant of the registry took a quarter
        # of a request's load at 100,000 suppliers (56 ms against 11 to 28).
        rows = (
            plants.filter(offering_any(SupplierPlant, "supplier_id", capability_ids))
            .annotate(sid=Cast("supplier_id", TextField()))
            .order_by("supplier_id", haversine.asc(), "id")
            .distinct("supplier_id")
            .values_list("sid", "latitude", "longitude", "name")
        )
    else:
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
    found = fetch_rows(rows)
    ids = _ids_text([sid for sid, *_ in found])
    return {sid: (lat, lon, name) for sid, (_, lat, lon, name) in zip(ids, found, strict=True)}


def _floats(values: Sequence[object]) -> np.ndarray:
    return np.fromiter(
        (math.nan if v is None else float(v) for v in values), dtype=np.float64, count=len(values)
    )


def _id_text(value: object) -> str:
    """A UUID in its canonical text form (PostgreSQL's ``::text`` already is; SQLite
    stores 32 hex digits)."""
    text = str(value)
    return text if len(text) == 36 else str(uuid.UUID(text))


def _ids_text(values: Sequence[object]) -> Sequence[str]:
    """:func:`_id_text` of each of ``values`` read as ``::text``: as they are on
    PostgreSQL (a call per id costs a run of 100,000 offers a tenth of a second)."""
    if connection.vendor == "postgresql":
        return values  # type: ignore[return-value]
    return [_id_text(value) for value in values]


@dataclass(frozen=True)
class _SideRows:
    """What a load reads besides the candidate query (:func:`_side_reads`)."""

    # (supplier id, capability id, capacity per month as float, unit, lead time days)
    offers: list[tuple[str, str, float | None, str, int | None]]
    records: dict[str, DeliveryRecord]
    # supplier id -> bit mask of the certificate checks held (certificate_flag_masks)
    certificates: dict[str, int]
    plants: dict[str, tuple[float, float, str]]
    # (supplier id, grade codes) of the offers of a required capability stating grades
    grades: list[tuple[str, object]]


def _side_reads(
    criteria: Criteria,
    capability_ids: list[object],
    certificate_checks: list[CertificateCheck],
    *,
    supplier_ids: Sequence[object] | None,
) -> dict[str, Callable[[], Any]]:
    """The offers of the required capabilities (``capability_ids``), the certificate
    checks read apart (``certificate_checks``, PostgreSQL only), the nearest plants, the
    track records and the stated grades, by :class:`_SideRows` field: reads that do not
    depend on the candidate query's rows, so they may run beside it
    (:class:`remag.db.Alongside`). The longest usually first."""

    def offers() -> list[tuple[str, str, float | None, str, int | None]]:
        offered = SupplierCapability.objects.filter(capability_id__in=capability_ids).order_by()
        if supplier_ids is not None:
            offered = offered.filter(supplier_id__in=supplier_ids)
        # Capacity as a float in SQL (converting numerics to Decimal in Python is slow);
        # the columns become arrays in one step each (NumPy reads None as NaN).
        return fetch_rows(
            offered.annotate(
                sid=Cast("supplier_id", TextField()),
                cid=Cast("capability_id", TextField()),
                capacity=Cast("capacity_per_month", FloatField()),
            ).values_list("sid", "cid", "capacity", "capacity_unit", "lead_time_days")
        )

    def certificates() -> dict[str, int]:
        if not certificate_checks:
            return {}
        return certificate_flag_masks(
            certificate_checks,
            offering=capability_ids if supplier_ids is None else None,
            supplier_ids=supplier_ids,
        )

    return {
        "offers": offers,
        "certificates": certificates,
        "plants": lambda: nearest_plants(criteria, capability_ids, supplier_ids=supplier_ids),
        "records": lambda: delivery_records(
            supplier_ids=None if supplier_ids is None else [str(s) for s in supplier_ids],
            run_date=criteria.run_date,
        ),
        "grades": lambda: _grade_rows(criteria, capability_ids, supplier_ids=supplier_ids),
    }


class _Shared:
    """Reads shared between the caller and an :class:`~remag.db.Alongside` thread: each
    takes the next one not yet taken until none is left, so the caller, once its own
    query has answered, reads what the thread has not yet begun rather than waiting."""

    def __init__(self, reads: dict[str, Callable[[], Any]]) -> None:
        self._pending = list(reads.items())
        self._lock = threading.Lock()
        self.results: dict[str, Any] = {}

    def take(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                name, read = self._pending.pop(0)
            self.results[name] = read()

    def missing(self, reads: dict[str, Callable[[], Any]]) -> None:
        """Read, on the caller's connection, what a failed thread left unread."""
        for name, read in reads.items():
            if name not in self.results:
                self.results[name] = read()


def load(
    request: ProcurementRequest,
    *,
    run_date: date,
    supplier_ids: Sequence[object] | None = None,
) -> Loaded:
    """Read the request's criteria and its candidates (or only ``supplier_ids``)."""
    criteria = criteria_for(request, run_date=run_date)
    capability_ids = {c.code: c.id for c in request.required_capabilities.all()}
    column_of = {
        str(capability_ids[code]): j for j, code in enumerate(criteria.required_capabilities)
    }

    queryset, terms, names, flagged = candidate_queryset(
        request, criteria, supplier_ids=supplier_ids
    )

    reads = _side_reads(
        criteria,
        list(capability_ids.values()),
        list(flagged.values()),
        supplier_ids=supplier_ids,
    )
    shared = _Shared(reads)
    # A whole request's offers, certificates, plants and records are read on a connection
    # of their own while the candidate query runs (remag.db.Alongside), when possible;
    # what that connection has not begun when the candidate query answers is read here.
    alongside = Alongside(shared.take) if supplier_ids is None and can_read_alongside() else None
    try:
        rows = fetch_rows(queryset)
        shared.take()
        if alongside is not None:
            try:
                alongside.result()
            except OperationalError as exc:
                # No second connection to be had (the pool or the server full), or a read
                # that failed there: what it left is read in turn on this connection,
                # which raises if it fails again. Not a statement the statement timeout
                # cut off: it would only take as long again.
                if isinstance(exc.__cause__, QueryCanceled):
                    raise
                logger.warning("match load: side reads failed on their connection", exc_info=True)
                shared.missing(reads)
    finally:
        if alongside is not None:
            alongside.wait()  # no thread outlives the load, whatever happened here
    read = _SideRows(**shared.results)
    # Row order does not matter: ranking ties and near misses are ordered by supplier id.
    n = len(rows)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    ids = list(_ids_text(columns[0]))
    index = {sid: i for i, sid in enumerate(ids)}

    k = len(criteria.required_capabilities)
    offers = np.zeros((n, k), dtype=bool)
    capacity = np.full((n, k), np.nan)
    lead = np.full((n, k), np.nan)
    offer_rows = read.offers
    if offer_rows:
        sids, cids, amounts, units, days = zip(*offer_rows, strict=True)
        rows_of = np.fromiter(map(index.get, _ids_text(sids), repeat(-1)), np.intp, len(sids))
        cols_of = np.fromiter(map(column_of.__getitem__, _ids_text(cids)), np.intp, len(cids))
        # The factor of each offer's unit to the base unit, NaN for a unit of another
        # dimension than the request's quantity (or none known).
        factors = {
            unit: float(factor)
            for unit, (dimension, factor) in CAPACITY_TO_BASE.items()
            if criteria.quantity_dimension in (None, dimension)
        }
        factor_of = np.fromiter(map(factors.get, units, repeat(math.nan)), np.float64, len(units))
        keep = rows_of >= 0
        i, j = rows_of[keep], cols_of[keep]
        offers[i, j] = True
        lead[i, j] = np.asarray(days, dtype=np.float64)[keep]
        capacity[i, j] = (np.asarray(amounts, dtype=np.float64) * factor_of)[keep]

    # The track record: recency-weighted delivery outcomes (matching/procurement/records.py).
    awards = np.zeros(n)
    successes = np.zeros(n)
    recent = np.zeros(n)
    recent_on_time = np.zeros(n)
    recent_accepted = np.full(n, np.nan)
    for supplier_id, record in read.records.items():
        i = index.get(supplier_id)
        if i is None:
            continue
        awards[i], successes[i] = record.weight, record.quality
        recent[i], recent_on_time[i] = record.recent, record.recent_on_time
        share = record.recent_accepted_share
        if share is not None:
            recent_accepted[i] = share

    column = dict(zip(names, columns, strict=True))
    if flagged:
        masks = np.fromiter(map(read.certificates.get, ids, repeat(0)), np.int64, n)
        for position, name in enumerate(flagged):
            column[name] = (masks >> position) & 1
    r, p = len(criteria.required_certifications), len(criteria.preferred_certifications)
    required_held = np.zeros((n, r), dtype=bool)
    preferred_held = np.zeros((n, p), dtype=bool)
    for j in range(r):
        required_held[:, j] = np.fromiter(map(bool, column[f"req_{j}"]), bool, n)
    for j in range(p):
        preferred_held[:, j] = np.fromiter(map(bool, column[f"pref_{j}"]), bool, n)
    required_valid_today = required_held.copy()
    required_out_of_scope = np.zeros((n, r), dtype=bool)
    required_scope_unstated = np.zeros((n, r), dtype=bool)
    for j in range(r):
        if f"today_{j}" in column:
            required_valid_today[:, j] = np.fromiter(map(bool, column[f"today_{j}"]), bool, n)
        if f"anyscope_{j}" in column:
            any_scope = np.fromiter(map(bool, column[f"anyscope_{j}"]), bool, n)
            no_scope = np.fromiter(map(bool, column[f"noscope_{j}"]), bool, n)
            required_out_of_scope[:, j] = any_scope & ~required_held[:, j]
            required_scope_unstated[:, j] = no_scope & ~required_held[:, j]
    text = np.zeros(n)
    if terms and "text_hits" in column:
        text = _floats(column["text_hits"]) / len(terms)
    elif terms:
        wanted = set(terms)
        text = np.fromiter(
            (
                len(wanted & set(_WORD.findall((t or "").lower()))) / len(wanted)
                for t in column["search_text"]
            ),
            np.float64,
            n,
        )

    latitude, longitude = _floats(columns[2]), _floats(columns[3])
    location_names = [""] * n
    placed = [(index[sid], plant) for sid, plant in read.plants.items() if sid in index]
    if placed:
        # A plant nearer than the main location (or the only exact one) places the
        # candidate; at equal distance the main location stays.
        rows = np.fromiter((i for i, _ in placed), np.intp, len(placed))
        plant_lat = np.fromiter((plant[0] for _, plant in placed), np.float64, len(placed))
        plant_lon = np.fromiter((plant[1] for _, plant in placed), np.float64, len(placed))
        lat0, lon0 = criteria.latitude, criteria.longitude
        main_km = haversine_km(lat0, lon0, latitude[rows], longitude[rows])  # type: ignore[arg-type]
        plant_km = haversine_km(lat0, lon0, plant_lat, plant_lon)  # type: ignore[arg-type]
        for position in np.flatnonzero(np.isnan(main_km) | (plant_km < main_km)).tolist():
            i, (plant_latitude, plant_longitude, name) = placed[position]
            latitude[i], longitude[i], location_names[i] = plant_latitude, plant_longitude, name
    # A profile without coordinates (and no plant placing it) is placed at its state's
    # centre: an approximate location, which scoring neither rewards nor penalises.
    approximate = np.isnan(latitude)
    for i in np.flatnonzero(approximate):
        state = STATES_BY_CODE.get(column["state"][i])
        if state is not None:
            latitude[i], longitude[i] = state.latitude, state.longitude
    # A classification of a past financial year is stale: its size counts as unknown for
    # the policy preference. An undated one (no year stated) counts as declared.
    this_year = financial_year_of(criteria.run_date)
    micro_small = np.fromiter(
        (
            size in ("micro", "small") and (year is None or year >= this_year)
            for size, year in zip(columns[4], column["classification_year"], strict=True)
        ),
        bool,
        n,
    )
    grade_met, grades_stated, grade_notes = _grade_columns(criteria, index, read.grades)
    batch = CandidateBatch(
        supplier_ids=ids,
        is_active=np.fromiter((s == SupplierStatus.ACTIVE for s in columns[1]), bool, n),
        offers=offers,
        capacity_base=capacity,
        lead_time_days=lead,
        required_held=required_held,
        preferred_held=preferred_held,
        required_valid_today=required_valid_today,
        required_out_of_scope=required_out_of_scope,
        required_scope_unstated=required_scope_unstated,
        latitude=latitude,
        longitude=longitude,
        location_approximate=approximate,
        micro_small=micro_small,
        women_owned=np.fromiter(map(bool, columns[5]), bool, n),
        sc_st_owned=np.fromiter(map(bool, columns[6]), bool, n),
        past_awards=awards,
        past_successes=successes,
        text_relevance=np.clip(text, 0.0, 1.0),
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


def _grade_rows(
    criteria: Criteria,
    capability_ids: list[object],
    *,
    supplier_ids: Sequence[object] | None,
) -> list[tuple[str, object]]:
    """``(supplier id, grades)`` of the offers of the required capabilities that state
    grades; none read when the request names no grade."""
    if not criteria.grades:
        return []
    rows = (
        SupplierCapability.objects.filter(capability_id__in=capability_ids)
        .exclude(grades=[])
        .order_by()
    )
    if supplier_ids is not None:
        rows = rows.filter(supplier_id__in=supplier_ids)
    return [
        (_id_text(supplier_id), grades)
        for supplier_id, grades in rows.values_list("supplier_id", "grades").iterator(2000)
    ]


def _grade_columns(
    criteria: Criteria,
    index: dict[str, int],
    rows: list[tuple[str, object]],
) -> tuple[np.ndarray | None, np.ndarray | None, list[list[str]] | None]:
    """The batch's grade columns (:func:`matching.scoring.grade_columns`) from the grades
    the candidates state with their offers of the required capabilities (``rows``, from
    :func:`_grade_rows`)."""
    if not criteria.grades:
        return None, None, None
    offered: list[set[str]] = [set() for _ in index]
    for supplier_id, grades in rows:
        i = index.get(supplier_id)
        if i is not None and isinstance(grades, list):
            offered[i].update(str(code) for code in grades)
    return grade_columns(criteria.grades, offered)
