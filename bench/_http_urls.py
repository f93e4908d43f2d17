"""remag's URLs plus the floors of bench/bench_http.py: bare Django views that answer the
same rows as JSON from one SQL query each, with no serializer, no ORM objects and no
authentication. They are mounted only by the benchmark's settings, never by remag.

The supplier floor answers the same 50 suppliers as remag's list for the same query
string: each filter the benchmark uses is written here as plain SQL (a capability or
certification named by its code, joined in the same query), so the floor pays what
finding those rows costs and nothing else."""

import json
from decimal import Decimal

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import include, path
from django.utils import timezone

SUPPLIERS_SQL = """
SELECT s.id::text, s.legal_name, s.udyam_number, s.state, s.district, s.city,
       s.enterprise_size, s.status, s.women_owned, s.sc_st_owned, s.latitude, s.longitude,
       s.created_at::text
FROM suppliers_supplier s
WHERE s.is_active AND s.status IN ('active', 'pending') {where}
ORDER BY s.created_at DESC, s.id DESC LIMIT 50
"""

MATCHES_SQL = """
SELECT m.id::text, m.supplier_id::text, s.legal_name, m.score, m.factors::text,
       m.reasons::text, m.status, m.qualifies, m.scored_at::text
FROM matching_match m JOIN suppliers_supplier s ON s.id = m.supplier_id
WHERE m.request_id = %s ORDER BY m.score DESC, m.supplier_id LIMIT 50
"""

# The conversions of suppliers.choices.CAPACITY_TO_BASE for the units the benchmark asks.
_PER_KG = {"kg_per_month": Decimal(1), "tonnes_per_month": Decimal(1000)}


def _supplier_conditions(query: dict[str, str]) -> tuple[str, list[object]]:  # noqa: C901
    """remag's supplier filters (suppliers/filtersets.py) that the benchmark uses, as
    SQL over ``s``."""
    sql: list[str] = []
    params: list[object] = []
    today = timezone.localdate()
    if "layer" in query:
        sql.append(
            "EXISTS (SELECT 1 FROM suppliers_suppliercapability sc JOIN suppliers_capability c"
            " ON c.id = sc.capability_id WHERE sc.supplier_id = s.id AND c.layer = %s)"
        )
        params.append(query["layer"])
    if "capability" in query:
        sql.append(
            "EXISTS (SELECT 1 FROM suppliers_suppliercapability sc WHERE sc.supplier_id = s.id"
            " AND sc.capability_id IN (SELECT id FROM suppliers_capability"
            " WHERE code = ANY(%s)))"
        )
        params.append(query["capability"].split(","))
    for code in query.get("certification", "").split(",") if "certification" in query else []:
        sql.append(
            "EXISTS (SELECT 1 FROM suppliers_suppliercertificate sc WHERE sc.supplier_id = s.id"
            " AND sc.certification_id = (SELECT id FROM suppliers_certification WHERE code = %s)"
            " AND sc.valid_from <= %s AND (sc.valid_until >= %s OR sc.valid_until IS NULL))"
        )
        params += [code, today, today]
    if "state" in query:
        sql.append("s.state = ANY(%s)")
        params.append(query["state"].upper().split(","))
    if "enterprise_size" in query:
        sql.append("s.enterprise_size = ANY(%s)")
        params.append(query["enterprise_size"].split(","))
    if "women_owned" in query:
        sql.append("s.women_owned = %s")
        params.append(query["women_owned"] == "true")
    if "min_capacity" in query:
        per_kg = _PER_KG[query["capacity_unit"]]
        kilograms = Decimal(query["min_capacity"]) * per_kg
        sql.append(
            "s.id = ANY(ARRAY(SELECT sc.supplier_id FROM suppliers_suppliercapability sc"
            " WHERE sc.capability_id = (SELECT id FROM suppliers_capability WHERE code = %s)"
            " AND ((sc.capacity_unit = 'kg_per_month' AND sc.capacity_per_month >= %s)"
            " OR (sc.capacity_unit = 'tonnes_per_month' AND sc.capacity_per_month >= %s))))"
        )
        params += [query["capacity_for"], kilograms, kilograms / 1000]
    if "q" in query:
        sql.append("s.search_vector @@ websearch_to_tsquery('english', %s)")
        params.append(query["q"])
    return "".join(f" AND {condition}" for condition in sql), params


def _rows(sql: str, params: list[object]) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return HttpResponse(json.dumps({"results": rows}), content_type="application/json")


def suppliers_floor(request: HttpRequest) -> HttpResponse:
    try:
        where, params = _supplier_conditions(request.GET.dict())
    except (KeyError, ArithmeticError) as exc:
        return HttpResponseBadRequest(f"the floor does not know {exc}")
    return _rows(SUPPLIERS_SQL.format(where=where), params)


def matches_floor(request: HttpRequest, request_id: str) -> HttpResponse:
    return _rows(MATCHES_SQL, [request_id])


urlpatterns = [
    path("bench-floor/suppliers/", suppliers_floor),
    path("bench-floor/requests/<uuid:request_id>/matches/", matches_floor),
    path("", include("remag.urls")),
]
