"""The dashboard's aggregate tables: derived data, rewritten whole by
:func:`stats.services.stats_refresh` (beat, every ``STATS_REFRESH_SECONDS``), so that a
page reads a few hundred rows and never scans the matches table. Nothing else writes
them; they hold no foreign keys, so a refresh never waits on the live tables' locks.
"""

from django.db import models

from suppliers.choices import Layer
from suppliers.states import STATE_CHOICES


class Derived(models.Model):
    """A row of a derived table (no meaning outside the figures it feeds)."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class Refresh(Derived):
    """The one row saying when the tables were last recomputed (id 1)."""

    refreshed_at = models.DateTimeField()
    seconds = models.FloatField(help_text="How long the last refresh took.")
    most_sites = models.PositiveIntegerField(
        null=True,
        help_text="The most sites (CoverageSite rows) one supplier has for one capability, "
        "as last refreshed: bounds the distinct suppliers a count of sites can stand for. "
        "Empty until the first refresh that records it.",
    )
    most_sites_of = models.DateTimeField(
        null=True,
        help_text="The refresh (its refreshed_at) that recorded most_sites: the bound is "
        "used only when it is the last refresh's (a refresh by an older release during "
        "a rolling deploy leaves it behind).",
    )
    cells_of = models.DateTimeField(
        null=True,
        help_text="The refresh (its refreshed_at) that wrote the coverage cells and the "
        "sites' cells: the radius figure reads them only when it is the last refresh's.",
    )


class CoverageLayerState(Derived):
    """Verified suppliers (status active, not deactivated) offering at least one
    capability of ``layer``, whose main location is in ``state``."""

    layer = models.CharField(max_length=20, choices=Layer.choices)
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    suppliers = models.PositiveIntegerField()


class CoverageCapability(Derived):
    """Verified suppliers of one capability in one state, with their monthly capacity
    summed per unit (a capacity left empty counts the supplier but adds nothing)."""

    capability_code = models.CharField(max_length=60)
    layer = models.CharField(max_length=20, choices=Layer.choices)
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    capacity_unit = models.CharField(max_length=20, blank=True)
    suppliers = models.PositiveIntegerField()
    capacity_per_month = models.DecimalField(max_digits=20, decimal_places=3, default=0)

    class Meta:
        indexes = [models.Index(fields=("layer", "state"), name="stats_covcap_layer_state")]


class CoverageSite(Derived):
    """A located site of a verified supplier offering a capability: its main location
    (every capability) and its plants (the capabilities they name, or all). Read with a
    bounding box for the radius figure."""

    capability_code = models.CharField(max_length=60)
    layer = models.CharField(max_length=20, choices=Layer.choices)
    supplier_id = models.UUIDField()
    latitude = models.FloatField()
    longitude = models.FloatField()
    # Kept so a radius query is arithmetic and one cosine per row, in SQL.
    sin_latitude = models.FloatField()
    cos_latitude = models.FloatField()
    longitude_radians = models.FloatField()
    # The site's cell of the 0.1-degree grid (floor(latitude * 10), floor(longitude * 10)):
    # see CoverageCell. The database defaults keep an older release's refresh working.
    cell_latitude = models.SmallIntegerField(db_default=0)
    cell_longitude = models.SmallIntegerField(db_default=0)

    class Meta:
        indexes = [
            models.Index(fields=("latitude", "longitude"), name="stats_site_latlon"),
            models.Index(
                fields=("cell_latitude", "cell_longitude", "capability_code"),
                name="stats_site_cell",
            ),
        ]


# The coverage cells' grid: 10 cells a degree, 0.1 degree (about 11 km) on a side.
CELLS_PER_DEGREE = 10


class CoverageCell(Derived):
    """The sites of one capability in one cell of a 0.1-degree grid, counted, with the
    cell's centre kept for the radius query's arithmetic. A radius figure adds up whole
    cells whose every point is within the radius, skips those whose every point is
    beyond it, and reads the sites of the cells between (``stats.selectors``)."""

    cell_latitude = models.SmallIntegerField()
    cell_longitude = models.SmallIntegerField()
    capability_code = models.CharField(max_length=60)
    layer = models.CharField(max_length=20, choices=Layer.choices)
    sites = models.PositiveIntegerField()
    sin_latitude = models.FloatField()
    cos_latitude = models.FloatField()
    longitude_radians = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=("cell_latitude", "cell_longitude"), name="stats_cell_latlon")
        ]


class RequestCapabilityFact(Derived):
    """A published request x one capability it requires, with the request's number of
    qualifying matches (for unmet demand)."""

    request_id = models.UUIDField()
    owner_id = models.UUIDField()
    capability_code = models.CharField(max_length=60)
    layer = models.CharField(max_length=20, choices=Layer.choices)
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    published_at = models.DateTimeField()
    matches = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=("owner_id", "published_at"), name="stats_reqcap_owner")]


class RequestFact(Derived):
    """A published request: how far its best match went and how long it took.

    ``stage``: 0 no match, 1 matched, 2 shortlisted, 3 invited, 4 interested, 5 awarded;
    the furthest any of its matches reached, by its current status or any transition it
    made (a match declined after an invitation still counts as invited).
    """

    request_id = models.UUIDField(unique=True)
    owner_id = models.UUIDField()
    layer = models.CharField(max_length=20, choices=Layer.choices)
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    published_at = models.DateTimeField()
    matches = models.PositiveIntegerField()
    stage = models.PositiveSmallIntegerField()
    first_match_seconds = models.FloatField(null=True)
    award_seconds = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=("owner_id", "published_at"), name="stats_req_owner")]


class AwardFact(Derived):
    """An awarded match, with what the policy counts of its supplier."""

    match_id = models.UUIDField(unique=True)
    request_id = models.UUIDField()
    owner_id = models.UUIDField()
    layer = models.CharField(max_length=20, choices=Layer.choices)
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    awarded_at = models.DateTimeField()
    micro_small = models.BooleanField()
    women_owned = models.BooleanField()
    sc_st_owned = models.BooleanField()
    # The value of the orders the award became (unit price x quantity, INR); null for an
    # award made without quotations (a direct transition before issue 16).
    value_inr = models.DecimalField(max_digits=30, decimal_places=2, null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=("owner_id", "awarded_at"), name="stats_award_owner")]


class NearMissFact(Derived):
    """Near misses grouped by the constraint that kept the supplier out, for every
    combination of the filters (an empty ``owner_id``, ``layer`` or ``state`` means all),
    so a distinct count of suppliers is read exactly, never summed."""

    owner_id = models.UUIDField(null=True)
    layer = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=2, blank=True)
    constraint = models.CharField(max_length=80)
    suppliers = models.PositiveIntegerField()
    requests = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=("owner_id", "layer", "state"), name="stats_nearmiss_filter")
        ]
