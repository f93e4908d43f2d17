"""A match's public score: the score its supplier reads (matching.scoring.public_weights).

Stored matches get it from their own factors and their request: the values of the
factors a supplier may see, weighted by the default weights of those the request asks
about. As the scorer decides (matching.scoring.score): capability coverage and track
record always; capacity when the request has a quantity above 0 in a unit; lead time
when it has a needed-by date; preferred certifications when it prefers one it does not
require. Text relevance and grade compatibility are told from the stored weight (above 0:
asked), the one approximation: a buyer who weighted either 0 itself, or so little that
the weight rounds to 0, leaves it out here. Capability coverage alone if none is left.

Their digests are cleared, so the next run of their request writes each again from the
request itself. A row whose factors do not have the shape of any version, or hold
anything but finite numbers, keeps 0, as its supplier sees none of its factors either.

The column keeps a database default of 0: a worker still on the previous release between
``migrate`` and its restart (docs/operations.md, upgrades) writes its matches without the
column, and a match with public score 0 is always written again by the next run (its
digest is not trusted: matching.runs). The statement timeout is lifted for the one
UPDATE over every match (109 s for 1,001,337 matches on the benchmark machine,
docs/operations.md); the index on the supplier is swapped after it, so reads of the
table wait only for the index build.

The weights are frozen here as they were written (remag-2026.11.5 and later; the eight
factors before grade compatibility have the same ratios, scaled by 0.8), in the order
of the stored factors: capability coverage, capacity, lead time, distance (private),
track record, preferred certifications, text relevance, policy (private), grade
compatibility.
"""

import math

from django.db import migrations, models

# (default weight, public) per position of a stored factor.
WEIGHTS = (
    (0.20, True),
    (0.12, True),
    (0.12, True),
    (0.08, False),
    (0.08, True),
    (0.08, True),
    (0.08, True),
    (0.04, False),
    (0.20, True),
)
SHAPES = (8, 9)  # factors before grade compatibility, and since
# Positions (from 1) asked whatever the request: capability coverage, track record.
ALWAYS = (1, 5)


def public_score(factors: object, asked: dict[int, bool] | None = None) -> float:
    """The public score of stored ``factors`` ([[value, weight, contribution], ...]).
    ``asked`` gives, by position, what the request tells (capacity 2, lead time 3,
    preferred certifications 6); any other position is asked when its stored weight is
    above 0, capability coverage and track record always."""
    if not isinstance(factors, list) or len(factors) not in SHAPES:
        return 0.0
    asked = asked or {}
    total = weighted = 0.0
    for position, ((default, public), factor) in enumerate(
        zip(WEIGHTS, factors, strict=False), start=1
    ):
        if not (isinstance(factor, list) and len(factor) >= 2):
            return 0.0
        value, weight = factor[0], factor[1]
        if not all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in (value, weight)
        ):
            return 0.0
        counted = position in ALWAYS or asked.get(position, weight > 0)
        if public and counted:
            total += default
            weighted += default * value
    return round(min(100.0, max(0.0, 100.0 * weighted / total)), 2)


def request_asks(request: object, preferred: set[object], required: set[object]) -> dict:
    """What a request tells of its factors being asked (``public_score``'s ``asked``)."""
    quantity = getattr(request, "quantity", None)
    return {
        2: quantity is not None and bool(request.quantity_unit) and quantity > 0,
        3: request.needed_by is not None,
        6: bool(preferred - required),
    }


# The same rule in SQL on PostgreSQL: every number is checked to be a finite one, as above
# (through numeric, which takes any JSON number), so a document the admin stored in
# another shape gives 0 rather than an error.
_SQL = """
WITH asks AS (
    SELECT r.id,
           (r.quantity IS NOT NULL AND r.quantity_unit <> '' AND r.quantity > 0) AS capacity,
           (r.needed_by IS NOT NULL) AS lead_time,
           EXISTS (
               SELECT 1 FROM matching_procurementrequest_preferred_certifications p
               WHERE p.procurementrequest_id = r.id AND NOT EXISTS (
                   SELECT 1 FROM matching_procurementrequest_required_certifications q
                   WHERE q.procurementrequest_id = r.id
                     AND q.certification_id = p.certification_id)
           ) AS preferred
    FROM matching_procurementrequest r
),
factor AS (
    SELECT m.id, m.request_id, w.position, w.weight AS default_weight, w.public, f.e
    FROM matching_match m
    CROSS JOIN LATERAL json_array_elements(
        CASE WHEN json_typeof(m.factors) = 'array' THEN m.factors ELSE '[]' END
    ) WITH ORDINALITY AS f(e, position)
    JOIN (VALUES {weights}) AS w(position, weight, public) ON w.position = f.position
    WHERE CASE WHEN json_typeof(m.factors) = 'array' THEN json_array_length(m.factors) END
          IN ({shapes})
),
number AS (
    SELECT id, request_id, position, default_weight, public,
           CASE WHEN json_typeof(e) = 'array' AND json_typeof(e->0) = 'number'
                THEN (e->>0)::numeric END AS value,
           CASE WHEN json_typeof(e) = 'array' AND json_typeof(e->1) = 'number'
                THEN (e->>1)::numeric END AS weight
    FROM factor
),
checked AS (
    SELECT n.id, n.default_weight, n.public,
           CASE WHEN abs(n.value) < 1e300 THEN n.value::float8 END AS value,
           CASE WHEN abs(n.weight) < 1e300 THEN n.weight::float8 END AS weight,
           CASE n.position
               WHEN 1 THEN true WHEN 5 THEN true
               WHEN 2 THEN a.capacity WHEN 3 THEN a.lead_time WHEN 6 THEN a.preferred
               ELSE abs(n.weight) < 1e300 AND n.weight > 0
           END AS asked
    FROM number n JOIN asks a ON a.id = n.request_id
),
scored AS (
    SELECT id,
           bool_and(value IS NOT NULL AND weight IS NOT NULL) AS well_formed,
           sum(default_weight * value) FILTER (WHERE public AND asked) AS weighted,
           sum(default_weight) FILTER (WHERE public AND asked) AS total
    FROM checked GROUP BY id
)
UPDATE matching_match m
SET public_score = CASE
        WHEN NOT s.well_formed THEN 0
        ELSE round(least(100, greatest(0, 100 * s.weighted / s.total))::numeric, 2)
    END,
    digest = NULL
FROM scored s
WHERE s.id = m.id
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Match = apps.get_model("matching", "Match")
    if schema_editor.connection.vendor == "postgresql":
        weights = ", ".join(
            f"({n}, {default}::float8, {str(public).lower()})"
            for n, (default, public) in enumerate(WEIGHTS, start=1)
        )
        with schema_editor.connection.cursor() as cursor:
            # One statement over every match: not cut short by the connection's timeout
            # (DATABASE_STATEMENT_TIMEOUT_MS), for this migration's transaction only.
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute(_SQL.format(weights=weights, shapes=", ".join(map(str, SHAPES))))
            cursor.execute("UPDATE matching_match SET digest = NULL WHERE digest IS NOT NULL")
        return
    Request = apps.get_model("matching", "ProcurementRequest")
    asks = {}
    for request in Request.objects.prefetch_related(
        "preferred_certifications", "required_certifications"
    ):
        asks[request.id] = request_asks(
            request,
            {c.id for c in request.preferred_certifications.all()},
            {c.id for c in request.required_certifications.all()},
        )
    batch = []
    for match in Match.objects.only("id", "request_id", "factors").iterator(chunk_size=2000):
        match.public_score = public_score(match.factors, asks.get(match.request_id))
        match.digest = None
        batch.append(match)
        if len(batch) == 2000:
            Match.objects.bulk_update(batch, ["public_score", "digest"])
            batch = []
    Match.objects.bulk_update(batch, ["public_score", "digest"])


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0009_match_run_no_index"),
        ("suppliers", "0019_certificate_covering_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="match",
            name="public_score",
            field=models.FloatField(db_default=0.0),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="match",
            index=models.Index(fields=["supplier", "-public_score"], name="match_supplier_public"),
        ),
        migrations.RemoveIndex(
            model_name="match",
            name="match_supplier_score",
        ),
        migrations.AddConstraint(
            model_name="match",
            constraint=models.CheckConstraint(
                condition=models.Q(("public_score__gte", 0), ("public_score__lte", 100)),
                name="match_public_score_range",
            ),
        ),
    ]
