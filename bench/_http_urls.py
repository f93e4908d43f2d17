"""remag's URLs plus the floors of bench/bench_http.py: bare Django views that answer the
same rows as JSON from one SQL query each, with no serializer, no ORM objects and no
authentication. They are mounted only by the benchmark's settings, never by remag."""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

SUPPLIERS_SQL = """
SELECT s.id::text, s.legal_name, s.udyam_number, s.state, s.district, s.city,
       s.enterprise_size, s.status, s.women_owned, s.sc_st_owned, s.latitude, s.longitude,
       s.created_at::text
FROM suppliers_supplier s
WHERE s.is_active AND s.status IN ('active', 'pending') AND EXISTS (
    SELECT 1 FROM suppliers_suppliercapability sc JOIN suppliers_capability c
    ON c.id = sc.capability_id WHERE sc.supplier_id = s.id AND c.layer = %s)
ORDER BY s.created_at DESC, s.id LIMIT 50
"""

MATCHES_SQL = """
SELECT m.id::text, m.supplier_id::text, s.legal_name, m.score, m.factors::text,
       m.reasons::text, m.status, m.qualifies, m.scored_at::text
FROM matching_match m JOIN suppliers_supplier s ON s.id = m.supplier_id
WHERE m.request_id = %s ORDER BY m.score DESC, m.supplier_id LIMIT 50
"""


def _rows(sql: str, params: list[object]) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return HttpResponse(json.dumps({"results": rows}), content_type="application/json")


def suppliers_floor(request: HttpRequest) -> HttpResponse:
    return _rows(SUPPLIERS_SQL, [request.GET.get("layer", "components")])


def matches_floor(request: HttpRequest, request_id: str) -> HttpResponse:
    return _rows(MATCHES_SQL, [request_id])


urlpatterns = [
    path("bench-floor/suppliers/", suppliers_floor),
    path("bench-floor/requests/<uuid:request_id>/matches/", matches_floor),
    path("", include("remag.urls")),
]
