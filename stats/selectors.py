"""Reads of the dashboard's figures, from the aggregate tables only (``stats.models``).

Who sees what: coverage is public. Unmet demand, near misses, policy shares and the
funnel are about requests: operators see every request's figures, a manufacturer those
of the requests its organisations own (an API key: its organisation's), nobody else any
(the API answers 403). Every figure says when its tables were ``refreshed_at``.
"""

import functools
import hashlib
import logging
import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Cos, TruncMonth
from django.utils import timezone

from remag.accounts.caller import Caller
from remag.accounts.choices import OrganizationKind
from stats import models as stats
from stats.services import stats_refresh
from suppliers.models import Capability, Certification, MaterialGrade

logger = logging.getLogger(__name__)

# The Public Procurement Policy for Micro and Small Enterprises (MSEs) Order, 2012 (S.O.
# 581(E)): of the annual procurement of goods and services, a minimum share from micro and
# small enterprises, 4% of it from those owned by SC/ST entrepreneurs; the Amendment Order,
# 2018 (S.O. 5670(E)): 25%, and 3% from within it from those owned by women
# (docs/dashboard.md).
POLICY_REFERENCE = {"micro_small": 25.0, "women_owned": 3.0, "sc_st_owned": 4.0}

FUNNEL_STAGES = ("published", "matched", "shortlisted", "invited", "interested", "awarded")
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Filters:
    layer: str | None = None
    state: str | None = None
    period_from: date | None = None  # inclusive
    period_to: date | None = None  # inclusive


def may_see_demand(caller: Caller) -> bool:
    return caller.is_operator or OrganizationKind.MANUFACTURER in caller.organization_kinds


def refreshed_at() -> datetime | None:
    """When the tables were last recomputed, recomputing them first when reads may
    (``STATS_REFRESH_ON_READ``: no beat, as under ``make run``) and they are stale."""
    stamp = stats.Refresh.objects.filter(id=1).values_list("refreshed_at", flat=True).first()
    if settings.STATS_REFRESH_ON_READ and (
        stamp is None or timezone.now() - stamp > timedelta(seconds=settings.STATS_REFRESH_SECONDS)
    ):
        stamp = stats_refresh().refreshed_at
    return stamp


# Part of every kept figure's key: raise it when a figure's shape changes, so that a
# release never reads what an older one kept (during a rolling deploy).
FIGURES_VERSION = 1
# After the cache fails, figures are read from their tables for this long without trying
# it (a cache that does not answer would otherwise cost each figure its timeout).
CACHE_BACKOFF_SECONDS = 30.0
_cache_failed_at: list[float] = [-math.inf]  # this process's last failure (monotonic)


def per_snapshot(
    read: Callable[..., dict[str, Any]] | None = None, *, reads_period: bool = True
) -> Any:
    """Keep a figure in the cache for as long as the tables it reads stand: its key is
    the figure, the tables' ``refreshed_at`` stamp (every write to them is a refresh,
    which sets a new one: ``stats.services``), what the caller may see (everyone the
    same public figures, every operator the same ones, a manufacturer those of its
    organisations), ``FIGURES_VERSION`` and the arguments. A refresh therefore makes
    every key new; the old entries expire. So the dashboard's page and the API read each
    figure's tables once per refresh and filter, not once per view.

    What may be kept is bounded: a figure for a period (``period_from``, ``period_to``:
    any pair of dates) is read every time, and one that ignores the period
    (``reads_period=False``: coverage) is kept once for every period. The names of
    capabilities, certifications and grades a figure shows are read with it, and so are
    as fresh as its tables. With no stamp (tables never refreshed), or for
    ``CACHE_BACKOFF_SECONDS`` after the cache failed, the figure is read every time."""
    if read is None:
        return functools.partial(per_snapshot, reads_period=reads_period)
    name = read.__name__

    @functools.wraps(read)
    def cached(
        *, stamp: datetime | None = None, caller: Caller | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        stamp = stamp or refreshed_at()
        if caller is not None:
            kwargs["caller"] = caller
        filters = kwargs.get("filters")
        if isinstance(filters, Filters) and (filters.period_from or filters.period_to):
            if not reads_period:
                kwargs["filters"] = Filters(layer=filters.layer, state=filters.state)
            else:
                return read(stamp=stamp, **kwargs)
        if stamp is None or time.monotonic() - _cache_failed_at[0] < CACHE_BACKOFF_SECONDS:
            return read(stamp=stamp, **kwargs)
        if caller is None:
            scope: object = "public"
        elif caller.is_operator:
            scope = "operator"
        else:
            scope = sorted(str(organization) for organization in caller.organization_ids)
        arguments = sorted((k, v) for k, v in kwargs.items() if k != "caller")
        digest = hashlib.sha256(
            repr((FIGURES_VERSION, stamp.isoformat(), scope, arguments)).encode()
        )
        key = f"stats:{name}:{digest.hexdigest()}"
        try:
            found = cache.get(key)
        except Exception:  # any failure of the cache: the tables still answer
            _cache_failed_at[0] = time.monotonic()
            logger.warning("stats: the cache is out of reach; reading %s", name, exc_info=True)
            return read(stamp=stamp, **kwargs)
        if found is not None:
            return found  # type: ignore[no-any-return]
        figure = read(stamp=stamp, **kwargs)
        try:
            cache.set(key, figure, timeout=2 * settings.STATS_REFRESH_SECONDS + 60)
        except Exception:
            _cache_failed_at[0] = time.monotonic()
            logger.warning("stats: could not keep %s in the cache", name, exc_info=True)
        return figure

    return cached


def _owned(queryset: QuerySet, caller: Caller) -> QuerySet:
    if caller.is_operator:
        return queryset
    return queryset.filter(owner_id__in=caller.organization_ids)


def _filtered(queryset: QuerySet, filters: Filters, *, at: str) -> QuerySet:
    if filters.layer:
        queryset = queryset.filter(layer=filters.layer)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.period_from:
        queryset = queryset.filter(**{f"{at}__date__gte": filters.period_from})
    if filters.period_to:
        queryset = queryset.filter(**{f"{at}__date__lte": filters.period_to})
    return queryset


def _names(model: Any, codes: Iterable[str]) -> dict[str, str]:
    return dict(model.objects.filter(code__in=set(codes)).values_list("code", "name"))


# ------------------------------------------------------------------ coverage (public)


@per_snapshot(reads_period=False)
def coverage(*, filters: Filters, stamp: datetime | None = None) -> dict[str, Any]:
    """Verified suppliers by layer x state, and by capability with capacity summed per
    unit. The period filter does not apply (the registry as it stands).

    ``stamp``, here and in the other figures: ``refreshed_at()`` when the caller has read
    it already (the dashboard reads it once for all its figures); read here if not."""
    stamp = stamp or refreshed_at()
    cells = stats.CoverageLayerState.objects.all()
    caps = stats.CoverageCapability.objects.all()
    if filters.layer:
        cells, caps = cells.filter(layer=filters.layer), caps.filter(layer=filters.layer)
    if filters.state:
        cells, caps = cells.filter(state=filters.state), caps.filter(state=filters.state)
    by_layer_state = list(cells.order_by("layer", "state").values("layer", "state", "suppliers"))
    rows = caps.values("capability_code", "layer", "capacity_unit").annotate(
        n=Sum("suppliers"), capacity=Sum("capacity_per_month")
    )
    by_capability: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_capability.setdefault(
            row["capability_code"],
            {
                "capability": row["capability_code"],
                "layer": row["layer"],
                "suppliers": 0,
                "capacity": [],
            },
        )
        entry["suppliers"] += row["n"]
        if row["capacity_unit"]:
            entry["capacity"].append(
                {"unit": row["capacity_unit"], "per_month": Decimal(row["capacity"] or 0)}
            )
    names = _names(Capability, by_capability)
    capabilities = sorted(by_capability.values(), key=lambda e: (-e["suppliers"], e["capability"]))
    for entry in capabilities:
        entry["name"] = names.get(entry["capability"], entry["capability"])
        entry["capacity"].sort(key=lambda c: c["unit"])
    return {
        "refreshed_at": stamp,
        "by_layer_state": by_layer_state,
        "by_capability": capabilities,
        "magnet_plants": magnet_plants(),
    }


def magnet_plants() -> list[dict[str, Any]]:
    """The plants of ``STATS_MAGNET_PLANTS`` that have a name and a location in India
    (an entry that has not is left out, rather than failing every coverage read)."""
    plants = []
    for entry in settings.STATS_MAGNET_PLANTS:
        try:
            name = str(entry["name"])
            latitude, longitude = float(entry["latitude"]), float(entry["longitude"])
        except (KeyError, TypeError, ValueError):
            continue
        if 6 <= latitude <= 38 and 68 <= longitude <= 98:
            plants.append({"name": name, "latitude": latitude, "longitude": longitude})
    return plants


def coverage_gaps(
    *,
    latitude: float,
    longitude: float,
    radius_km: float,
    threshold: int,
    layer: str | None,
    stamp: datetime | None = None,
) -> dict[str, Any]:
    """Capabilities (of ``layer``, or all) with fewer than ``threshold`` verified
    suppliers having a site (main location or plant) within ``radius_km`` of the point,
    fewest first. Distances are great-circle ones, measured in SQL (the same as
    matching's, to rounding)."""
    stamp = stamp or refreshed_at()
    circle = _Circle(latitude, longitude, radius_km)
    near = _suppliers_near_by_cells(circle, layer=layer, threshold=threshold)
    if near is None:  # the cells are not the last refresh's
        near = _suppliers_near(circle, layer=layer, threshold=threshold)
    capabilities = Capability.objects.filter(is_active=True)
    if layer:
        capabilities = capabilities.filter(layer=layer)
    gaps = [
        {"capability": code, "name": name, "layer": cap_layer, "suppliers": near.get(code, 0)}
        for code, name, cap_layer in capabilities.values_list("code", "name", "layer")
        if near.get(code, 0) < threshold
    ]
    gaps.sort(key=lambda g: (g["suppliers"], g["capability"]))
    return {
        "refreshed_at": stamp,
        "latitude": latitude,
        "longitude": longitude,
        "radius_km": radius_km,
        "threshold": threshold,
        "capabilities": gaps,
    }


# Degrees added to each side of a circle's box, so that a site on the circle's edge at its
# northern, southern, eastern or western point is not lost to the box's rounding.
_ROUNDING = 1e-9


@dataclass(frozen=True)
class _Circle:
    """A point and a radius on the sphere, and what the radius queries need of them."""

    latitude: float
    longitude: float
    radius_km: float

    @property
    def angle(self) -> float:
        """The radius as an angle at the Earth's centre (radians)."""
        return self.radius_km / EARTH_RADIUS_KM

    def bounds(self) -> tuple[float, float, float, float]:
        """The smallest latitude/longitude box holding the circle (degrees): south,
        north, west, east. Along a parallel the circle reaches furthest where it
        touches a meridian, asin(sin(r) / cos(latitude)) away, not r / cos(latitude)."""
        r = self.angle
        dlat = math.degrees(r) + _ROUNDING
        if abs(self.latitude) + dlat >= 90.0 or r >= math.pi / 2:
            dlon = 180.0  # a pole is inside: every longitude
        else:
            reach = min(1.0, math.sin(r) / math.cos(math.radians(self.latitude)))
            dlon = math.degrees(math.asin(reach)) + _ROUNDING
        return (
            self.latitude - dlat,
            self.latitude + dlat,
            self.longitude - dlon,
            self.longitude + dlon,
        )

    def cosine_params(self) -> dict[str, float]:
        """A row is within the circle when ``sin_latitude * sin + cos_latitude * cos *
        COS(longitude_radians - longitude) >= within`` (the spherical law of cosines:
        the cosine of the central angle is at least cos(r))."""
        return {
            "sin": math.sin(math.radians(self.latitude)),
            "cos": math.cos(math.radians(self.latitude)),
            "longitude": math.radians(self.longitude),
            "within": math.cos(self.angle),
        }


# The cosine of a row's central angle to the circle's centre (table alias ``t``; the
# parameters of _Circle.cosine_params).
_COSINE = (
    "{t}.sin_latitude * %(sin)s"
    " + {t}.cos_latitude * %(cos)s * COS({t}.longitude_radians - %(longitude)s)"
)


def _suppliers_near_by_cells(
    circle: _Circle, *, layer: str | None, threshold: int
) -> dict[str, int] | None:
    """Per capability code, the distinct suppliers with a site within the circle, read
    from the coverage cells (``stats.models.CoverageCell``); None when the cells are not
    the last refresh's (before the first refresh of a release that writes them, or
    after one by an older release during a rolling deploy).

    Every point of a cell lies within ``reach`` of its centre: half a cell along the
    meridian, then half a cell along the parallel, 0.1 degree at most (0.07 at India's
    latitudes). So a cell whose centre is within ``r - reach`` is inside the circle
    whole, and its sites are counted by the cell's one row; one whose centre is beyond
    ``r + reach`` is outside whole; only the sites of the cells between (a ring about
    two cells wide) are measured one by one. Within 500 km of Chennai, at 100,000
    suppliers: about 6,800 cells and 470 sites read, against 74,000 sites in the
    circle's box.

    As in ``_suppliers_near``, sites are counted first, and suppliers counted exactly
    (distinct) only for the capabilities whose sites leave it in doubt (``_unsure``,
    here in SQL). One statement does it all, so the cells, the sites and the bound are
    one refresh's even while another commits."""
    t = {name: connection.ops.quote_name(model._meta.db_table) for name, model in _CELL_TABLES}
    south, north, west, east = circle.bounds()
    reach = math.radians(1.0 / stats.CELLS_PER_DEGREE)
    params: dict[str, Any] = {
        **circle.cosine_params(),
        "south": math.floor(south * stats.CELLS_PER_DEGREE),
        "north": math.floor(north * stats.CELLS_PER_DEGREE),
        "west": math.floor(west * stats.CELLS_PER_DEGREE),
        "east": math.floor(east * stats.CELLS_PER_DEGREE),
        # No cell is inside whole when the radius is under a cell's reach (a cosine > 1).
        "inside": math.cos(circle.angle - reach) if circle.angle > reach else 2.0,
        "beyond": math.cos(min(circle.angle + reach, math.pi)),
        "layer": layer,
        "threshold": threshold,
    }
    ring = f"""JOIN {t["site"]} s ON s.cell_latitude = box.cell_latitude
            AND s.cell_longitude = box.cell_longitude AND s.capability_code = box.capability_code"""
    site_within = f"{_COSINE.format(t='s')} >= %(within)s"
    with connection.cursor() as cursor:
        cursor.execute(
            # Table names from the models' metadata; every value a parameter.
            f"""WITH box AS (
                SELECT cell_latitude, cell_longitude, capability_code, sites,
                    {_COSINE.format(t="c")} AS cosine
                FROM {t["cell"]} c
                WHERE cell_latitude BETWEEN %(south)s AND %(north)s
                  AND cell_longitude BETWEEN %(west)s AND %(east)s
                  {"AND layer = %(layer)s" if layer else ""}
            ),
            last AS (
                SELECT CASE WHEN cells_of = refreshed_at THEN 1 ELSE 0 END AS cells,
                    CASE WHEN most_sites_of = refreshed_at THEN most_sites END AS most_sites
                FROM {t["refresh"]} WHERE id = 1
            ),
            counted AS (
                SELECT capability_code, SUM(n) AS n FROM (
                    SELECT capability_code, sites AS n FROM box WHERE cosine >= %(inside)s
                    UNION ALL
                    SELECT s.capability_code, 1 AS n FROM box {ring}
                    WHERE box.cosine < %(inside)s AND box.cosine >= %(beyond)s
                      AND {site_within}
                ) parts
                GROUP BY capability_code
            ),
            unsure AS (
                SELECT counted.capability_code FROM counted, last
                WHERE last.most_sites IS NULL
                   OR (last.most_sites > 1 AND counted.n < %(threshold)s * last.most_sites)
            ),
            exact AS (
                SELECT s.capability_code, COUNT(DISTINCT s.supplier_id) AS n FROM box {ring}
                WHERE box.capability_code IN (SELECT capability_code FROM unsure)
                  AND box.cosine >= %(beyond)s AND (box.cosine >= %(inside)s OR {site_within})
                GROUP BY s.capability_code
            )
            SELECT last.cells, counted.capability_code, COALESCE(exact.n, counted.n)
            FROM last
            LEFT JOIN counted ON last.cells = 1
            LEFT JOIN exact ON exact.capability_code = counted.capability_code""",  # noqa: S608
            params,
        )
        rows = cursor.fetchall()
    if not rows or rows[0][0] != 1:
        return None
    return {code: n for _, code, n in rows if code is not None}


_CELL_TABLES = (
    ("cell", stats.CoverageCell),
    ("site", stats.CoverageSite),
    ("refresh", stats.Refresh),
)


def _unsure(counts: dict[str, int], *, most_sites: int | None, threshold: int) -> list[str]:
    """The capabilities whose count of sites does not settle whether they have
    ``threshold`` suppliers: a supplier has at most ``most_sites`` sites of one
    capability (unknown: None), so ``threshold * most_sites`` sites are at least
    ``threshold`` suppliers, and with one site each, sites are suppliers."""
    if most_sites is not None and most_sites <= 1:
        return []
    return [code for code, n in counts.items() if most_sites is None or n < threshold * most_sites]


def _suppliers_near(circle: _Circle, *, layer: str | None, threshold: int) -> dict[str, int]:
    """Per capability code, the distinct suppliers with a site within the circle, read
    from the sites alone: those in the circle's box (indexed), then measured.

    Counting sites is a cheap aggregate; counting distinct suppliers sorts or hashes
    every site (half the time of a 500 km radius), so only the capabilities that
    ``_unsure`` names are counted exactly. The bound is read in the statement that
    counts the sites, so both come from one refresh, and only when that refresh
    recorded it."""
    south, north, west, east = circle.bounds()
    sites = stats.CoverageSite.objects.filter(
        latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
    )
    if layer:
        sites = sites.filter(layer=layer)
    c = circle.cosine_params()
    cosine = F("sin_latitude") * Value(c["sin"]) + F("cos_latitude") * Value(c["cos"]) * Cos(
        F("longitude_radians") - Value(c["longitude"])
    )
    within = sites.annotate(cosine=cosine).filter(cosine__gte=c["within"])
    sql, params = within.values("capability_code").annotate(n=Count("id")).query.sql_with_params()
    refresh = connection.ops.quote_name(stats.Refresh._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # The compiled query of the aggregate above and a constant subquery.
            f"SELECT sites.capability_code, sites.n, (SELECT CASE WHEN"  # noqa: S608
            f" most_sites_of = refreshed_at THEN most_sites END FROM {refresh}"
            f" WHERE id = 1) FROM ({sql}) sites",
            params,
        )
        rows = cursor.fetchall()
    counts = {code: n for code, n, _ in rows}
    unsure = _unsure(counts, most_sites=rows[0][2] if rows else None, threshold=threshold)
    if unsure:
        counts.update(
            within.filter(capability_code__in=unsure)
            .values("capability_code")
            .annotate(n=Count("supplier_id", distinct=True))
            .values_list("capability_code", "n")
        )
    return counts


# ------------------------------------------------------------------ demand (private)


@per_snapshot
def unmet_demand(
    *, caller: Caller, filters: Filters, below: int, stamp: datetime | None = None
) -> dict[str, Any]:
    """Published requests with fewer than ``below`` qualifying matches, counted by
    required capability x delivery state; and the near-miss constraints that kept most
    suppliers out (across all published requests; the period filter does not apply)."""
    stamp = stamp or refreshed_at()
    facts = _filtered(
        _owned(stats.RequestCapabilityFact.objects.all(), caller), filters, at="published_at"
    ).filter(matches__lt=below)
    groups = list(
        facts.values("capability_code", "state")
        .annotate(requests=Count("request_id", distinct=True))
        .order_by("-requests", "capability_code", "state")
    )
    names = _names(Capability, (g["capability_code"] for g in groups))
    groups = [
        {
            "capability": g["capability_code"],
            "name": names.get(g["capability_code"], g["capability_code"]),
            "state": g["state"],
            "requests": g["requests"],
        }
        for g in groups
    ]
    return {
        "refreshed_at": stamp,
        "below": below,
        "groups": groups,
        "near_misses": near_miss_reasons(caller=caller, filters=filters),
    }


def near_miss_reasons(*, caller: Caller, filters: Filters) -> list[dict[str, Any]]:
    rows = stats.NearMissFact.objects.filter(layer=filters.layer or "", state=filters.state or "")
    if caller.is_operator:
        rows = rows.filter(owner_id__isnull=True)
        by_constraint = {
            r["constraint"]: r for r in rows.values("constraint", "suppliers", "requests")
        }
    else:
        # Per organisation; for a caller acting for several, their sums (a supplier
        # missing requests of two of them counts twice).
        by_constraint = {
            r["constraint"]: r
            for r in rows.filter(owner_id__in=caller.organization_ids)
            .values("constraint")
            .annotate(suppliers=Sum("suppliers"), requests=Sum("requests"))
        }
    ranked = sorted(by_constraint.values(), key=lambda r: (-r["suppliers"], r["constraint"]))
    certs = _names(
        Certification, (c.split(":", 1)[1] for c in by_constraint if c.startswith("certification:"))
    )
    grades = _names(
        MaterialGrade, (c.split(":", 1)[1] for c in by_constraint if c.startswith("grade:"))
    )
    return [
        {
            "constraint": r["constraint"],
            "label": constraint_label(r["constraint"], certs, grades),
            "suppliers": r["suppliers"],
            "requests": r["requests"],
        }
        for r in ranked
    ]


def constraint_label(constraint: str, certs: dict[str, str], grades: dict[str, str]) -> str:
    """What a near miss lacked, in a few words ("ISO/IEC 17025 missing")."""
    kind, _, code = constraint.partition(":")
    if kind == "certification":
        return f"{certs.get(code, code)} missing"
    if kind == "grade":
        return f"no grade compatible with {grades.get(code, code)}"
    return {
        "capability": "a required capability missing",
        "active": "not verified yet",
        "distance": "outside the delivery radius",
    }.get(constraint, constraint)


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@per_snapshot
def policy_shares(
    *, caller: Caller, filters: Filters, stamp: datetime | None = None
) -> dict[str, Any]:
    """Awarded matches, and the shares of them won by micro and small, women-owned and
    SC/ST-owned enterprises, by count and, for awards that became orders, by value (unit
    price x quantity, INR), in all and by month of the award."""
    stamp = stamp or refreshed_at()
    awards = _filtered(_owned(stats.AwardFact.objects.all(), caller), filters, at="awarded_at")
    # The value sums come first: their filters name the fields, which the count aliases
    # below (of the same names) would shadow once defined.
    sums = {
        # By value: the awards that became orders (quotations), in INR.
        "value": Sum("value_inr"),
        "micro_small_value": Sum("value_inr", filter=Q(micro_small=True)),
        "women_owned_value": Sum("value_inr", filter=Q(women_owned=True)),
        "sc_st_owned_value": Sum("value_inr", filter=Q(sc_st_owned=True)),
        "awards": Count("id"),
        "micro_small": Count("id", filter=Q(micro_small=True)),
        "women_owned": Count("id", filter=Q(women_owned=True)),
        "sc_st_owned": Count("id", filter=Q(sc_st_owned=True)),
    }

    def shaped(row: dict[str, Any]) -> dict[str, Any]:
        value = row["value"] or Decimal(0)

        def part(name: str) -> Decimal:
            return row[name] or Decimal(0)

        return {
            "awards": row["awards"],
            "micro_small": row["micro_small"],
            "women_owned": row["women_owned"],
            "sc_st_owned": row["sc_st_owned"],
            "micro_small_share": _share(row["micro_small"], row["awards"]),
            "women_owned_share": _share(row["women_owned"], row["awards"]),
            "sc_st_owned_share": _share(row["sc_st_owned"], row["awards"]),
            "value_inr": value,
            "micro_small_value_share": _value_share(part("micro_small_value"), value),
            "women_owned_value_share": _value_share(part("women_owned_value"), value),
            "sc_st_owned_value_share": _value_share(part("sc_st_owned_value"), value),
        }

    months = (
        awards.annotate(month=TruncMonth("awarded_at"))
        .values("month")
        .annotate(**sums)
        .order_by("month")
    )
    return {
        "refreshed_at": stamp,
        "reference": POLICY_REFERENCE,
        "total": shaped(awards.aggregate(**sums)),
        "by_month": [{"month": _month(row["month"]), **shaped(row)} for row in months],
    }


def _value_share(part: Decimal, whole: Decimal) -> float | None:
    """Percent of ``whole`` (None when nothing was awarded by value)."""
    return None if not whole else round(float(part * 100 / whole), 1)


def _month(value: date | datetime) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


@per_snapshot
def funnel(*, caller: Caller, filters: Filters, stamp: datetime | None = None) -> dict[str, Any]:
    """Published requests (by publication date) and how many reached each stage; mean
    and median hours from publication to the first match and to the first award."""
    stamp = stamp or refreshed_at()
    facts = _filtered(_owned(stats.RequestFact.objects.all(), caller), filters, at="published_at")
    counts = facts.aggregate(
        published=Count("id"),
        **{
            stage: Count("id", filter=Q(stage__gte=rank))
            for rank, stage in enumerate(FUNNEL_STAGES)
            if rank
        },
        first_match=Avg("first_match_seconds"),
        award=Avg("award_seconds"),
        with_first_match=Count("first_match_seconds"),
        with_award=Count("award_seconds"),
    )

    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / 3600.0, 2)

    # One pair per request (never per match): cheap at tens of thousands.
    timed = list(
        facts.filter(
            Q(first_match_seconds__isnull=False) | Q(award_seconds__isnull=False)
        ).values_list("first_match_seconds", "award_seconds")
    )

    def median(column: int) -> float | None:
        values = [row[column] for row in timed if row[column] is not None]
        return statistics.median(values) if values else None

    return {
        "refreshed_at": stamp,
        "stages": [{"stage": stage, "requests": counts[stage]} for stage in FUNNEL_STAGES],
        "timing": {
            "publish_to_first_match_hours": hours(counts["first_match"]),
            "publish_to_first_match_median_hours": hours(median(0)),
            "requests_with_match": counts["with_first_match"],
            "publish_to_award_hours": hours(counts["award"]),
            "publish_to_award_median_hours": hours(median(1)),
            "requests_with_award": counts["with_award"],
        },
    }
