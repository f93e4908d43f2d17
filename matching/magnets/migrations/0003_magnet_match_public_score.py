"""A magnet match's public score: the score its maker reads
(matching.magnets.scoring.public_weights).

Stored matches get it from their own factors: the values of the factors a maker may see
(capacity headroom, lead time, track record, preferred certifications), weighted by the
default weights of those the requirement asked about (a stored weight above 0),
capacity headroom alone when none is left. A row whose factors do not have the shape
of the one version keeps 0, as its maker sees none of its factors either. Magnet matches
are few (one per requirement and qualifying offer), so they are read and written in
batches through the ORM on every database. The column keeps a database default of 0 for
a worker of the previous release until it restarts; every run writes all of its
subject's matches again.
"""

import math

from django.db import migrations, models

# (default weight, public) per position of a stored factor (remag-magnets-2026.11.1):
# capacity headroom, lead time, distance (private), track record, price (private),
# preferred certifications.
WEIGHTS = (
    (0.30, True),
    (0.20, True),
    (0.15, False),
    (0.15, True),
    (0.10, False),
    (0.10, True),
)
BATCH = 2000


def public_score(factors: object) -> float:
    """The public score of stored ``factors`` ([[value, weight, contribution], ...])."""
    if not isinstance(factors, list) or len(factors) != len(WEIGHTS):
        return 0.0
    total = weighted = 0.0
    for (default, public), factor in zip(WEIGHTS, factors, strict=True):
        if not (isinstance(factor, list) and len(factor) >= 2):
            return 0.0
        value, weight = factor[0], factor[1]
        if not all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in (value, weight)
        ):
            return 0.0
        if public and weight > 0:
            total += default
            weighted += default * value
    if total == 0:
        headroom = factors[0][0]
        return round(min(100.0, max(0.0, 100.0 * headroom)), 2)
    return round(min(100.0, max(0.0, 100.0 * weighted / total)), 2)


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    MagnetMatch = apps.get_model("magnets", "MagnetMatch")
    batch = []
    for match in MagnetMatch.objects.only("id", "factors").iterator(chunk_size=BATCH):
        match.public_score = public_score(match.factors)
        batch.append(match)
        if len(batch) == BATCH:
            MagnetMatch.objects.bulk_update(batch, ["public_score"])
            batch = []
    MagnetMatch.objects.bulk_update(batch, ["public_score"])


class Migration(migrations.Migration):
    dependencies = [
        ("magnets", "0002_pool_required_certifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="magnetmatch",
            name="public_score",
            field=models.FloatField(db_default=0.0),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="magnetmatch",
            index=models.Index(
                fields=["offer", "-public_score", "requirement"], name="magnetmatch_offer_public"
            ),
        ),
        migrations.RemoveIndex(
            model_name="magnetmatch",
            name="magnetmatch_offer_score",
        ),
        migrations.AddConstraint(
            model_name="magnetmatch",
            constraint=models.CheckConstraint(
                condition=models.Q(("public_score__gte", 0), ("public_score__lte", 100)),
                name="magnetmatch_public_range",
            ),
        ),
    ]
