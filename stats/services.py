"""Recompute the dashboard's aggregate tables (``stats.models``) from the live ones.

One transaction, set-based SQL (``INSERT ... SELECT ... GROUP BY``), the same on
PostgreSQL and SQLite but for two expressions (seconds between two times, the larger of
two numbers). Readers see the previous figures until the transaction commits.
"""

import logging
import time

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from matching.choices import MatchStatus
from matching.models import Match, MatchTransition, NearMiss, ProcurementRequest
from matching.procurement.models import Order
from stats import models as stats
from suppliers.choices import EnterpriseSize, SupplierStatus
from suppliers.models import Capability, Supplier, SupplierCapability, SupplierPlant

logger = logging.getLogger(__name__)

# How far a match went: the funnel's stages (RequestFact.stage).
STAGE_RANK = {
    MatchStatus.PROPOSED: 1,
    MatchStatus.NOT_SELECTED: 1,
    MatchStatus.SHORTLISTED: 2,
    MatchStatus.INVITED: 3,
    MatchStatus.DECLINED: 3,  # declining answers an invitation
    MatchStatus.INTERESTED: 4,
    MatchStatus.AWARDED: 5,
}


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "supplier": q(Supplier._meta.db_table),
        "supcap": q(SupplierCapability._meta.db_table),
        "capability": q(Capability._meta.db_table),
        "plant": q(SupplierPlant._meta.db_table),
        "plant_caps": q(SupplierPlant.capabilities.through._meta.db_table),
        "request": q(ProcurementRequest._meta.db_table),
        "request_caps": q(ProcurementRequest.required_capabilities.through._meta.db_table),
        "match": q(Match._meta.db_table),
        "order": q(Order._meta.db_table),
        "transition": q(MatchTransition._meta.db_table),
        "nearmiss": q(NearMiss._meta.db_table),
        **{
            name: q(model._meta.db_table)
            for name, model in (
                ("layer_state", stats.CoverageLayerState),
                ("cov_cap", stats.CoverageCapability),
                ("site", stats.CoverageSite),
                ("cell", stats.CoverageCell),
                ("req_cap", stats.RequestCapabilityFact),
                ("req", stats.RequestFact),
                ("award", stats.AwardFact),
                ("near", stats.NearMissFact),
            )
        },
    }


def _seconds_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if connection.vendor == "postgresql" else f"MAX({a}, {b})"


def _rank(column: str) -> str:
    whens = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in STAGE_RANK.items())
    return f"CASE {column} {whens} ELSE 0 END"


# The advisory lock key of a refresh ("stats" in ASCII).
REFRESH_LOCK = 0x7374617473

_SITE_COLUMNS = (
    "capability_code, layer, supplier_id, latitude, longitude, sin_latitude, cos_latitude, "
    "longitude_radians, cell_latitude, cell_longitude"
)


def _derived_site_columns(alias: str) -> str:
    # SIN, COS, RADIANS and FLOOR: PostgreSQL's own; on SQLite, Django registers them.
    # The last two are the site's cell of the 0.1-degree grid (stats.models.CoverageCell);
    # the rows go in in the cells' order, so a cell's sites share a few pages.
    return (
        f"SIN(RADIANS({alias}.latitude)), COS(RADIANS({alias}.latitude)), "
        f"RADIANS({alias}.longitude), {_cell(f'{alias}.latitude')} AS cell_latitude, "
        f"{_cell(f'{alias}.longitude')} AS cell_longitude"
    )


def _cell(degrees: str) -> str:
    return f"CAST(FLOOR({degrees} * {stats.CELLS_PER_DEGREE}) AS INTEGER)"


def _cell_centre(cell: str) -> str:
    return f"RADIANS(({cell} + 0.5) / {stats.CELLS_PER_DEGREE}.0)"


_VERIFIED = "s.status = %(active)s AND s.is_active = %(true)s"


def _statements() -> list[str]:
    t = _tables()
    coverage = [
        f"""INSERT INTO {t["layer_state"]} (layer, state, suppliers)
        SELECT c.layer, s.state, COUNT(DISTINCT s.id)
        FROM {t["supplier"]} s
        JOIN {t["supcap"]} sc ON sc.supplier_id = s.id
        JOIN {t["capability"]} c ON c.id = sc.capability_id
        WHERE {_VERIFIED}
        GROUP BY c.layer, s.state""",
        f"""INSERT INTO {t["cov_cap"]}
            (capability_code, layer, state, capacity_unit, suppliers, capacity_per_month)
        SELECT c.code, c.layer, s.state, sc.capacity_unit, COUNT(*),
            COALESCE(SUM(sc.capacity_per_month), 0)
        FROM {t["supplier"]} s
        JOIN {t["supcap"]} sc ON sc.supplier_id = s.id
        JOIN {t["capability"]} c ON c.id = sc.capability_id
        WHERE {_VERIFIED}
        GROUP BY c.code, c.layer, s.state, sc.capacity_unit""",
        f"""INSERT INTO {t["site"]} ({_SITE_COLUMNS})
        SELECT c.code, c.layer, s.id, s.latitude, s.longitude, {_derived_site_columns("s")}
        FROM {t["supplier"]} s
        JOIN {t["supcap"]} sc ON sc.supplier_id = s.id
        JOIN {t["capability"]} c ON c.id = sc.capability_id
        WHERE {_VERIFIED} AND s.latitude IS NOT NULL AND s.longitude IS NOT NULL
        ORDER BY cell_latitude, cell_longitude""",
        f"""INSERT INTO {t["site"]} ({_SITE_COLUMNS})
        SELECT c.code, c.layer, s.id, p.latitude, p.longitude, {_derived_site_columns("p")}
        FROM {t["plant"]} p
        JOIN {t["supplier"]} s ON s.id = p.supplier_id
        JOIN {t["supcap"]} sc ON sc.supplier_id = s.id
        JOIN {t["capability"]} c ON c.id = sc.capability_id
        WHERE {_VERIFIED} AND p.latitude IS NOT NULL AND p.longitude IS NOT NULL
          AND (NOT EXISTS (SELECT 1 FROM {t["plant_caps"]} pc WHERE pc.supplierplant_id = p.id)
               OR EXISTS (SELECT 1 FROM {t["plant_caps"]} pc
                          WHERE pc.supplierplant_id = p.id
                            AND pc.capability_id = sc.capability_id))
        ORDER BY cell_latitude, cell_longitude""",
        f"""INSERT INTO {t["cell"]} (cell_latitude, cell_longitude, capability_code, layer, sites,
            sin_latitude, cos_latitude, longitude_radians)
        SELECT cell_latitude, cell_longitude, capability_code, layer, COUNT(*),
            SIN({_cell_centre("cell_latitude")}), COS({_cell_centre("cell_latitude")}),
            {_cell_centre("cell_longitude")}
        FROM {t["site"]}
        GROUP BY cell_latitude, cell_longitude, capability_code, layer
        ORDER BY cell_latitude, cell_longitude""",
    ]
    per_request = f"""(SELECT request_id,
            SUM(CASE WHEN qualifies = %(true)s THEN 1 ELSE 0 END) AS qualifying,
            MIN(created_at) AS first_at,
            MIN(CASE WHEN status = %(awarded)s THEN status_changed_at END) AS award_at,
            MAX({_rank("status")}) AS stage
        FROM {t["match"]} GROUP BY request_id)"""
    per_request_transitions = f"""(SELECT m.request_id, MAX({_rank("tr.to_status")}) AS stage
        FROM {t["transition"]} tr JOIN {t["match"]} m ON m.id = tr.match_id
        GROUP BY m.request_id)"""
    demand = [
        f"""INSERT INTO {t["req"]} (request_id, owner_id, layer, state, published_at, matches,
            stage, first_match_seconds, award_seconds)
        SELECT r.id, r.owner_id, r.layer, r.delivery_state, r.published_at,
            COALESCE(m.qualifying, 0),
            {_greatest("COALESCE(m.stage, 0)", "COALESCE(tr.stage, 0)")},
            {_seconds_between("m.first_at", "r.published_at")},
            {_seconds_between("m.award_at", "r.published_at")}
        FROM {t["request"]} r
        LEFT JOIN {per_request} m ON m.request_id = r.id
        LEFT JOIN {per_request_transitions} tr ON tr.request_id = r.id
        WHERE r.published_at IS NOT NULL""",
        f"""INSERT INTO {t["req_cap"]}
            (request_id, owner_id, capability_code, layer, state, published_at, matches)
        SELECT f.request_id, f.owner_id, c.code, f.layer, f.state, f.published_at, f.matches
        FROM {t["req"]} f
        JOIN {t["request_caps"]} rc ON rc.procurementrequest_id = f.request_id
        JOIN {t["capability"]} c ON c.id = rc.capability_id""",
        f"""INSERT INTO {t["award"]} (match_id, request_id, owner_id, layer, state, awarded_at,
            micro_small, women_owned, sc_st_owned, value_inr)
        SELECT m.id, r.id, r.owner_id, r.layer, r.delivery_state,
            COALESCE(m.status_changed_at, m.updated_at),
            CASE WHEN s.enterprise_size IN (%(micro)s, %(small)s) THEN %(true)s
                 ELSE %(false)s END,
            -- The women-owned and SC/ST sub-targets are shares of purchases from micro and small
            -- enterprises (docs/matching.md): a medium enterprise earns no credit.
            CASE WHEN s.enterprise_size IN (%(micro)s, %(small)s) AND s.women_owned
                 THEN %(true)s ELSE %(false)s END,
            CASE WHEN s.enterprise_size IN (%(micro)s, %(small)s) AND s.sc_st_owned
                 THEN %(true)s ELSE %(false)s END,
            (SELECT SUM(o.unit_price * o.quantity) FROM {t["order"]} o WHERE o.match_id = m.id)
        FROM {t["match"]} m
        JOIN {t["request"]} r ON r.id = m.request_id
        JOIN {t["supplier"]} s ON s.id = m.supplier_id
        WHERE m.status = %(awarded)s""",
    ]
    # Every combination of the three filters (owner, layer, state), "all" being NULL/''.
    near = []
    constraint = connection.ops.quote_name("constraint")
    for owner in (True, False):
        for layer in (True, False):
            for state in (True, False):
                picked = [
                    ("r.owner_id" if owner else "NULL"),
                    ("r.layer" if layer else "''"),
                    ("r.delivery_state" if state else "''"),
                ]
                grouped = [c for c, on in zip(picked, (owner, layer, state), strict=True) if on]
                near.append(
                    f"""INSERT INTO {t["near"]}
                        (owner_id, layer, state, {constraint}, suppliers, requests)
                    SELECT {", ".join(picked)}, nm.{constraint},
                        COUNT(DISTINCT nm.supplier_id), COUNT(DISTINCT nm.request_id)
                    FROM {t["nearmiss"]} nm JOIN {t["request"]} r ON r.id = nm.request_id
                    WHERE r.published_at IS NOT NULL
                    GROUP BY {", ".join([*grouped, f"nm.{constraint}"])}"""
                )
    return coverage + demand + near


def stats_refresh() -> stats.Refresh:
    """Rewrite every aggregate table; return the refresh's stamp.

    On PostgreSQL, once the rewrite has committed (and unless the caller holds a
    transaction open), the tables are vacuumed and analysed: each refresh deletes every
    row it wrote last time, and where autovacuum is off or behind, those dead rows pile
    up and every read wades through them. On the benchmark's machine (autovacuum off)
    the coverage sites held as many dead rows as live ones after two refreshes, and
    the gaps' query within 200 km of Pune read 5,569 heap pages for 24,450 sites in
    about 42 ms; vacuumed, 19 to 24 ms. The vacuum takes about half a second at
    100,000 suppliers."""
    refresh = _rewrite()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        try:
            with connection.cursor() as cursor:
                # Table names from the models' metadata: no input.
                tables = ", ".join(_tables()[name] for name in _AGGREGATES)
                cursor.execute(f"VACUUM (ANALYZE) {tables}")
        except DatabaseError:
            # The figures are written; a vacuum refused (a statement timeout, say) is
            # autovacuum's to do, not a failed refresh.
            logger.warning("stats tables not vacuumed after the refresh", exc_info=True)
    return refresh


# The aggregate tables a refresh rewrites (keys of ``_tables``).
_AGGREGATES = ("layer_state", "cov_cap", "site", "cell", "req_cap", "req", "award", "near")


@transaction.atomic
def _rewrite() -> stats.Refresh:
    started = time.perf_counter()
    params = {
        "active": SupplierStatus.ACTIVE.value,
        "true": True,
        "false": False,
        "awarded": MatchStatus.AWARDED.value,
        "micro": EnterpriseSize.MICRO.value,
        "small": EnterpriseSize.SMALL.value,
    }
    t = _tables()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One refresh at a time (beat's, a read's): a second one waits, then deletes
            # what the first wrote, instead of adding its rows to the first's. (SQLite
            # lets one writer in at a time anyway.)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        for name in _AGGREGATES:
            cursor.execute(f"DELETE FROM {t[name]}")
        for statement in _statements():
            cursor.execute(statement, params)
        cursor.execute(
            f"SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM {t['site']}"
            " GROUP BY supplier_id, capability_code) per_supplier"
        )
        (most_sites,) = cursor.fetchone()
    now = timezone.now()
    refresh, _ = stats.Refresh.objects.update_or_create(
        id=1,
        defaults={
            "refreshed_at": now,
            "seconds": time.perf_counter() - started,
            "most_sites": most_sites or 0,
            "most_sites_of": now,
            "cells_of": now,
        },
    )
    return refresh
