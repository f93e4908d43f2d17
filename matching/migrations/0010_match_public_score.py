"""A match's public score: the score its supplier reads (matching.scoring.public_weights).

Stored matches get it from their own factors: the values of the factors a supplier may
see, weighted by the default weights of the factors the request asked about (a stored
weight above 0; a factor the buyer weighted 0 itself counts as not asked here, the one
case the stored rows cannot tell apart), capability coverage alone when none is left.
Their digests are cleared, so the next run of their request writes each again with the
public score computed from the request itself. A row whose factors do not have the shape
of any version keeps 0, as its supplier sees none of its factors either.

The weights are frozen here as they were written (remag-2026.11.5 and later; the eight
factors before grade compatibility have the same ratios, scaled by 0.8), in the order
of the stored factors: capability coverage, capacity, lead time, distance (private),
track record, preferred certifications, text relevance, policy (private), grade
compatibility.
"""

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


def public_score(factors: object) -> float:
    """The public score of stored ``factors`` ([[value, weight, contribution], ...])."""
    if not isinstance(factors, list) or len(factors) not in SHAPES:
        return 0.0
    total = weighted = 0.0
    for (default, public), factor in zip(WEIGHTS, factors, strict=False):
        if not (isinstance(factor, list) and len(factor) >= 2):
            return 0.0
        value, weight = factor[0], factor[1]
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (value, weight)):
            return 0.0
        if public and weight > 0:
            total += default
            weighted += default * value
    if total == 0:
        coverage = factors[0][0]
        return round(min(100.0, max(0.0, 100.0 * coverage)), 2)
    return round(min(100.0, max(0.0, 100.0 * weighted / total)), 2)


# The same rule in one statement on PostgreSQL: every number is checked to be one, as
# above, so a document the admin stored in another shape gives 0 rather than an error.
_SQL = """
WITH factor AS (
    SELECT m.id, w.position, w.weight AS default_weight, w.public, f.e
    FROM matching_match m
    CROSS JOIN LATERAL json_array_elements(
        CASE WHEN json_typeof(m.factors) = 'array' THEN m.factors ELSE '[]' END
    ) WITH ORDINALITY AS f(e, position)
    JOIN (VALUES {weights}) AS w(position, weight, public) ON w.position = f.position
    WHERE CASE WHEN json_typeof(m.factors) = 'array' THEN json_array_length(m.factors) END
          IN ({shapes})
),
checked AS (
    SELECT id, position, default_weight, public,
           CASE WHEN json_typeof(e) = 'array' AND json_typeof(e->0) = 'number'
                     AND json_typeof(e->1) = 'number'
                THEN (e->>0)::float8 END AS value,
           CASE WHEN json_typeof(e) = 'array' AND json_typeof(e->1) = 'number'
                THEN (e->>1)::float8 END AS weight
    FROM factor
),
scored AS (
    SELECT id,
           bool_and(value IS NOT NULL AND weight IS NOT NULL) AS well_formed,
           sum(default_weight * value) FILTER (WHERE public AND weight > 0) AS weighted,
           sum(default_weight) FILTER (WHERE public AND weight > 0) AS total,
           max(value) FILTER (WHERE position = 1) AS coverage
    FROM checked GROUP BY id
)
UPDATE matching_match m
SET public_score = CASE
        WHEN NOT s.well_formed THEN 0
        WHEN s.total IS NULL THEN round(least(100, greatest(0, 100 * s.coverage))::numeric, 2)
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
            cursor.execute(
                _SQL.format(weights=weights, shapes=", ".join(map(str, SHAPES))),
            )
            cursor.execute("UPDATE matching_match SET digest = NULL WHERE digest IS NOT NULL")
        return
    batch = []
    for match in Match.objects.only("id", "factors").iterator(chunk_size=2000):
        match.public_score = public_score(match.factors)
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
        migrations.RemoveIndex(
            model_name="match",
            name="match_supplier_score",
        ),
        migrations.AddField(
            model_name="match",
            name="public_score",
            field=models.FloatField(default=0.0),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="match",
            index=models.Index(fields=["supplier", "-public_score"], name="match_supplier_public"),
        ),
        migrations.AddConstraint(
            model_name="match",
            constraint=models.CheckConstraint(
                condition=models.Q(("public_score__gte", 0), ("public_score__lte", 100)),
                name="match_public_score_range",
            ),
        ),
    ]
