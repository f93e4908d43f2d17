"""Every figure of the dashboard on the crafted data set (conftest.py): exact counts,
shares, near-miss reasons, funnel and timing, through the JSON endpoints. Runs on
SQLite and, with DATABASE_URL, on PostgreSQL (the refresh's SQL differs in two
expressions between them)."""

import math
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from stats import models as stats
from stats.services import stats_refresh
from suppliers.models import SupplierPlant
from tests.stats.conftest import CHENNAI, PUNE, Crafted

ISO = "certification:iso-iec-17025"


@pytest.fixture(autouse=True)
def refreshed(crafted: Crafted, settings: Any) -> None:
    settings.STATS_REFRESH_ON_READ = False
    stats_refresh()


def get(user: Any, url: str, **params: Any) -> dict[str, Any]:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


# ------------------------------------------------------------------ coverage


def test_coverage_counts_verified_suppliers_by_layer_and_state() -> None:
    body = get(None, "/api/v1/stats/coverage/")

    cells = {(c["layer"], c["state"]): c["suppliers"] for c in body["by_layer_state"]}
    # s1 and s2 (two components capabilities for s1 count once); s3; s4 pending and s5
    # deactivated count nowhere.
    assert cells == {("components", "MH"): 2, ("testing", "TN"): 1}
    assert body["refreshed_at"] is not None


def test_coverage_by_capability_sums_capacity_per_unit() -> None:
    body = get(None, "/api/v1/stats/coverage/")

    caps = {c["capability"]: c for c in body["by_capability"]}
    assert set(caps) == {"jet-milling", "hydrogen-decrepitation", "hysteresigraph-testing"}
    assert caps["jet-milling"]["suppliers"] == 2
    assert caps["jet-milling"]["capacity"] == [{"unit": "kg_per_month", "per_month": "1500.000"}]
    assert caps["hydrogen-decrepitation"]["capacity"] == [
        {"unit": "kg_per_month", "per_month": "800.000"}
    ]
    # A capability without a stated capacity counts its supplier and sums nothing.
    assert caps["hysteresigraph-testing"]["suppliers"] == 1
    assert caps["hysteresigraph-testing"]["capacity"] == []
    # Most suppliers first.
    assert body["by_capability"][0]["capability"] == "jet-milling"


def test_coverage_filters_by_layer_and_state() -> None:
    body = get(None, "/api/v1/stats/coverage/", layer="testing")
    assert [c["capability"] for c in body["by_capability"]] == ["hysteresigraph-testing"]
    assert body["by_layer_state"] == [{"layer": "testing", "state": "TN", "suppliers": 1}]

    body = get(None, "/api/v1/stats/coverage/", state="KA")
    assert body["by_layer_state"] == []
    assert body["by_capability"] == []


def test_coverage_gaps_count_sites_within_the_radius() -> None:
    body = get(
        None,
        "/api/v1/stats/coverage/gaps/",
        latitude=CHENNAI[0],
        longitude=CHENNAI[1],
        radius_km=50,
        threshold=2,
    )
    gaps = {g["capability"]: g["suppliers"] for g in body["capabilities"]}
    # s2's Chennai plant (offering all its capabilities: jet-milling) and s3.
    assert gaps["jet-milling"] == 1
    assert gaps["hysteresigraph-testing"] == 1
    assert gaps["hydrogen-decrepitation"] == 0  # s1 is in Pune
    assert body["capabilities"][0]["suppliers"] == 0  # fewest first

    body = get(
        None,
        "/api/v1/stats/coverage/gaps/",
        latitude=PUNE[0],
        longitude=PUNE[1],
        radius_km=50,
        threshold=1,
        layer="components",
    )
    gaps = {g["capability"]: g["suppliers"] for g in body["capabilities"]}
    # s1 is within 50 km of Pune for both of its capabilities: at the threshold, not below.
    assert "jet-milling" not in gaps
    assert "hydrogen-decrepitation" not in gaps
    assert "strip-casting" in gaps
    assert all(g["layer"] == "components" for g in body["capabilities"])


def test_a_supplier_with_several_sites_counts_once_in_the_radius(crafted: Crafted) -> None:
    """Sites are counted cheaply and suppliers exactly only where the count of sites
    could hide a gap (stats.selectors._unsure): s1's main location and two
    plants near Pune are three sites of each of its capabilities, one supplier."""
    s1 = crafted.suppliers["s1"]
    for n in (1, 2):
        SupplierPlant.objects.create(
            supplier=s1, name=f"Pune unit {n}", latitude=PUNE[0] + 0.01 * n, longitude=PUNE[1]
        )
    assert stats_refresh().most_sites == 3
    near_pune = {"latitude": PUNE[0], "longitude": PUNE[1], "radius_km": 50}

    def gaps(threshold: int) -> dict[str, int]:
        body = get(None, "/api/v1/stats/coverage/gaps/", threshold=threshold, **near_pune)
        return {g["capability"]: g["suppliers"] for g in body["capabilities"]}

    # Three sites, one supplier: below a threshold of 2 (as one supplier, not three).
    assert gaps(2)["jet-milling"] == 1
    assert gaps(2)["hydrogen-decrepitation"] == 1
    assert "jet-milling" not in gaps(1)
    # A refresh from before the bound was kept: every capability counted exactly.
    stats.Refresh.objects.filter(id=1).update(most_sites=None)
    assert gaps(2)["jet-milling"] == 1
    assert "jet-milling" not in gaps(1)
    # A bound left behind by an earlier refresh (a refresh by an older release during a
    # rolling deploy does not record one) is not trusted: 1 would count sites as suppliers.
    earlier = timezone.now() - timedelta(minutes=5)
    stats.Refresh.objects.filter(id=1).update(most_sites=1, most_sites_of=earlier)
    assert gaps(2)["jet-milling"] == 1


def test_bad_query_is_a_problem_naming_the_field() -> None:
    response = APIClient().get("/api/v1/stats/coverage/gaps/", {"latitude": "north"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "latitude" in response.content.decode()
    assert "longitude" in response.content.decode()


# ------------------------------------------------------------------ unmet demand


def test_unmet_demand_groups_requests_with_too_few_matches(crafted: Crafted) -> None:
    body = get(crafted.operator, "/api/v1/stats/unmet-demand/", below=1)
    groups = [(g["capability"], g["state"], g["requests"]) for g in body["groups"]]
    assert groups == [("hysteresigraph-testing", "TN", 1)]  # r2: no match; r4 a draft

    body = get(crafted.operator, "/api/v1/stats/unmet-demand/", below=2)
    groups = {(g["capability"], g["state"]): g["requests"] for g in body["groups"]}
    assert groups == {("hysteresigraph-testing", "TN"): 1, ("jet-milling", "MH"): 1}  # + r5

    body = get(crafted.operator, "/api/v1/stats/unmet-demand/", below=3)
    groups = {(g["capability"], g["state"]): g["requests"] for g in body["groups"]}
    assert groups == {
        ("jet-milling", "MH"): 2,  # r1, r5
        ("hydrogen-decrepitation", "MH"): 1,
        ("jet-milling", "KA"): 1,
        ("hysteresigraph-testing", "TN"): 1,
    }
    assert body["groups"][0]["capability"] == "jet-milling"  # most requests first


def test_near_miss_reasons_count_distinct_suppliers(crafted: Crafted) -> None:
    body = get(crafted.operator, "/api/v1/stats/unmet-demand/")
    reasons = [(n["constraint"], n["suppliers"], n["requests"]) for n in body["near_misses"]]
    # ISO/IEC 17025 kept s1, s2 (r2) and s3 (r1 and r5) out: 3 suppliers, not 4.
    assert reasons == [(ISO, 3, 3), ("active", 1, 1), ("capability", 1, 1)]
    assert body["near_misses"][0]["label"] == "ISO/IEC 17025 accreditation missing"
    assert body["near_misses"][1]["label"] == "not verified yet"

    testing = get(crafted.operator, "/api/v1/stats/unmet-demand/", layer="testing")
    assert [(n["constraint"], n["suppliers"]) for n in testing["near_misses"]] == [(ISO, 2)]
    karnataka = get(crafted.operator, "/api/v1/stats/unmet-demand/", state="KA")
    assert {n["constraint"] for n in karnataka["near_misses"]} == {"active", "capability"}


def test_a_manufacturer_sees_its_own_requests_only(crafted: Crafted) -> None:
    a = get(crafted.buyer_a, "/api/v1/stats/unmet-demand/", below=3)
    assert {(g["capability"], g["state"]) for g in a["groups"]} == {
        ("jet-milling", "MH"),
        ("hydrogen-decrepitation", "MH"),
        ("hysteresigraph-testing", "TN"),
    }
    assert {g["requests"] for g in a["groups"]} == {1}  # r1 and r2 only
    assert [(n["constraint"], n["suppliers"], n["requests"]) for n in a["near_misses"]] == [
        (ISO, 3, 2)
    ]
    b = get(crafted.buyer_b, "/api/v1/stats/unmet-demand/", below=3)
    assert [(n["constraint"], n["suppliers"]) for n in b["near_misses"]] == [
        ("active", 1),
        ("capability", 1),
        (ISO, 1),
    ]


# ------------------------------------------------------------------ policy shares


def test_policy_shares_by_count_and_month(crafted: Crafted) -> None:
    body = get(crafted.operator, "/api/v1/stats/policy-shares/")

    assert body["reference"] == {"micro_small": 25.0, "women_owned": 3.0, "sc_st_owned": 4.0}
    assert body["total"] == {
        "awards": 2,
        "micro_small": 2,
        "women_owned": 1,
        "sc_st_owned": 1,
        "micro_small_share": 100.0,
        "women_owned_share": 50.0,
        "sc_st_owned_share": 50.0,
        # Awarded by transitions, not through quotations: no orders, no value.
        "value_inr": "0.00",
        "micro_small_value_share": None,
        "women_owned_value_share": None,
        "sc_st_owned_value_share": None,
    }
    months = [
        (m["month"], m["awards"], m["women_owned_share"], m["sc_st_owned_share"])
        for m in body["by_month"]
    ]
    assert months == [("2026-10-01", 1, 100.0, 0.0), ("2026-11-01", 1, 0.0, 100.0)]


def test_policy_shares_filter_by_period_and_owner(crafted: Crafted) -> None:
    body = get(crafted.operator, "/api/v1/stats/policy-shares/", period_from="2026-11-01")
    assert body["total"]["awards"] == 1
    assert body["total"]["sc_st_owned"] == 1

    mine = get(crafted.buyer_a, "/api/v1/stats/policy-shares/")
    assert mine["total"]["awards"] == 1
    assert mine["total"]["women_owned"] == 1
    assert [m["month"] for m in mine["by_month"]] == ["2026-10-01"]

    nothing = get(crafted.operator, "/api/v1/stats/policy-shares/", state="TN")
    assert nothing["total"]["awards"] == 0
    assert nothing["total"]["micro_small_share"] is None  # no award: no share
    assert nothing["by_month"] == []


def test_a_reversed_period_is_refused(crafted: Crafted) -> None:
    client = APIClient()
    client.force_authenticate(crafted.operator)
    response = client.get(
        "/api/v1/stats/funnel/", {"period_from": "2026-11-02", "period_to": "2026-11-01"}
    )
    assert response.status_code == 400
    assert "period_to" in response.content.decode()


# ------------------------------------------------------------------ funnel


def stages(body: dict[str, Any]) -> list[int]:
    assert [s["stage"] for s in body["stages"]] == [
        "published",
        "matched",
        "shortlisted",
        "invited",
        "interested",
        "awarded",
    ]
    return [s["requests"] for s in body["stages"]]


def test_funnel_counts_the_furthest_stage_of_each_request(crafted: Crafted) -> None:
    body = get(crafted.operator, "/api/v1/stats/funnel/")
    # r1 awarded, r3 awarded (no transitions: its status says so), r5 declined after an
    # invitation (invited), r2 no match.
    assert stages(body) == [4, 3, 3, 3, 2, 2]
    assert stages(get(crafted.buyer_a, "/api/v1/stats/funnel/")) == [2, 1, 1, 1, 1, 1]
    assert stages(get(crafted.buyer_b, "/api/v1/stats/funnel/")) == [2, 2, 2, 2, 1, 1]
    november = get(crafted.operator, "/api/v1/stats/funnel/", period_from="2026-11-01")
    assert stages(november) == [3, 2, 2, 2, 1, 1]


def test_funnel_timing_means(crafted: Crafted) -> None:
    timing = get(crafted.operator, "/api/v1/stats/funnel/")["timing"]
    # First matches after 1, 2 and 3 hours; awards after 5 days (r1) and 17 days (r3).
    assert timing["publish_to_first_match_hours"] == pytest.approx(2.0, abs=0.01)
    assert timing["requests_with_match"] == 3
    assert timing["publish_to_first_match_median_hours"] == pytest.approx(2.0, abs=0.01)
    assert timing["publish_to_award_hours"] == pytest.approx((120 + 408) / 2, abs=0.01)
    assert timing["publish_to_award_median_hours"] == pytest.approx(264, abs=0.01)
    buyer_b = get(crafted.buyer_b, "/api/v1/stats/funnel/")["timing"]
    assert buyer_b["publish_to_first_match_median_hours"] == pytest.approx(2.5, abs=0.01)
    assert timing["requests_with_award"] == 2


# ------------------------------------------------------------------ refresh


def test_refresh_rewrites_the_tables_whole(crafted: Crafted) -> None:
    before = stats.NearMissFact.objects.count(), stats.RequestFact.objects.count()
    first = stats.Refresh.objects.get().refreshed_at

    stats_refresh()

    assert (stats.NearMissFact.objects.count(), stats.RequestFact.objects.count()) == before
    assert stats.RequestFact.objects.count() == 4  # the draft is not counted
    assert stats.Refresh.objects.get().refreshed_at >= first


def test_a_new_award_shows_after_the_next_refresh(crafted: Crafted) -> None:
    from matching.models import Match

    Match.objects.filter(request=crafted.requests["r1"], supplier=crafted.suppliers["s2"]).update(
        status="awarded", status_changed_at=timezone.now()
    )
    assert get(crafted.operator, "/api/v1/stats/policy-shares/")["total"]["awards"] == 2

    stats_refresh()

    assert get(crafted.operator, "/api/v1/stats/policy-shares/")["total"]["awards"] == 3


def test_reads_refresh_stale_tables_when_allowed(crafted: Crafted, settings: Any) -> None:
    settings.STATS_REFRESH_ON_READ = True
    settings.STATS_REFRESH_SECONDS = 300
    stats.Refresh.objects.update(refreshed_at=timezone.now() - timezone.timedelta(hours=1))
    stats.CoverageLayerState.objects.all().delete()

    body = get(None, "/api/v1/stats/coverage/")

    assert len(body["by_layer_state"]) == 2
    assert stats.Refresh.objects.get().refreshed_at > timezone.now() - timezone.timedelta(minutes=1)


def test_the_beat_task_refreshes(crafted: Crafted) -> None:
    from django.conf import settings

    from stats.tasks import stats_refresh as task

    stats.CoverageLayerState.objects.all().delete()
    task.apply()
    assert stats.CoverageLayerState.objects.count() == 2
    entry = settings.CELERY_BEAT_SCHEDULE["stats-refresh"]
    assert entry["task"] == "stats.refresh"
    assert entry["schedule"].total_seconds() == settings.STATS_REFRESH_SECONDS


@pytest.mark.django_db(transaction=True)
def test_refreshes_take_turns_on_postgresql(postgres: None, crafted: Crafted) -> None:
    """A refresh waits while another holds the lock, and never doubles the rows."""
    import threading

    import psycopg
    from django.db import connection

    from stats.services import REFRESH_LOCK

    settings_dict = connection.settings_dict
    other = psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname=settings_dict["NAME"],
    )
    other.execute("SELECT pg_advisory_lock(%s)", [REFRESH_LOCK])
    done = threading.Event()

    def refresh() -> None:
        from django.db import connection as thread_connection

        try:
            stats_refresh()
        finally:
            thread_connection.close()
            done.set()

    thread = threading.Thread(target=refresh)
    thread.start()
    assert not done.wait(1.0)  # waiting for the lock
    other.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK])
    other.close()
    assert done.wait(30)
    thread.join()
    assert stats.RequestFact.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_refresh_leaves_its_tables_vacuumed_on_postgresql(
    postgres: None, crafted: Crafted
) -> None:
    """Each refresh deletes the rows of the last one: vacuumed once it commits, the
    tables do not grow with every refresh where autovacuum is off or behind. ANALYZE,
    which counts the pages marked all visible afresh, would find the pages written
    since the last vacuum unmarked."""
    from django.db import connection

    stats_refresh()  # rewrites the rows the fixture's refresh wrote

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stats_coveragesite")
        cursor.execute(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'stats_coveragesite'"
        )
        pages, visible = cursor.fetchone()
    assert pages > 0
    assert visible == pages


# ------------------------------------------------------------------ kept per refresh


FIGURES = [
    "/api/v1/stats/coverage/",
    "/api/v1/stats/unmet-demand/",
    "/api/v1/stats/policy-shares/",
    "/api/v1/stats/funnel/",
]


@pytest.fixture(autouse=True)
def cache_in_reach() -> Iterator[None]:
    """No failure of the cache left to another test (selectors.CACHE_BACKOFF_SECONDS)."""
    from stats import selectors

    selectors._cache_failed_at[0] = -math.inf
    yield
    selectors._cache_failed_at[0] = -math.inf


def tables_read(user: Any, url: str, read: list[dict[str, Any]], **params: Any) -> set[str]:
    """The registry's and stats' tables a GET of ``url`` reads; its body goes to ``read``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        read.append(get(user, url, **params))
    return {
        table
        for query in queries.captured_queries
        for table in re.findall(r'"((?:stats|suppliers)_\w+)"', query["sql"])
    }


@pytest.mark.parametrize("url", FIGURES)
def test_a_figure_is_read_from_its_tables_once_per_refresh(crafted: Crafted, url: str) -> None:
    """stats.selectors.per_snapshot: the same figure again, with the tables unchanged,
    reads no table but the stamp's (nor the taxonomy's names)."""
    read: list[dict[str, Any]] = []
    assert tables_read(crafted.operator, url, read) > {"stats_refresh"}
    assert tables_read(crafted.operator, url, read) == {"stats_refresh"}
    first, again = read
    assert again == first
    stats_refresh()
    assert get(crafted.operator, url)["refreshed_at"] != first["refreshed_at"]


@pytest.mark.parametrize("url", FIGURES[1:])
def test_a_figure_for_a_period_is_read_every_time(crafted: Crafted, url: str) -> None:
    """Any pair of dates is a period: such figures are not kept (what is kept stays
    bounded), and the same period twice reads the tables twice."""
    period = {"period_from": "2026-01-01", "period_to": "2026-12-31"}
    read: list[dict[str, Any]] = []
    assert tables_read(crafted.operator, url, read, **period) > {"stats_refresh"}
    assert tables_read(crafted.operator, url, read, **period) > {"stats_refresh"}
    assert read[0] == read[1]


def test_coverage_is_kept_once_whatever_the_period(crafted: Crafted) -> None:
    """Coverage ignores the period (the registry as it stands): one kept figure for all."""
    url = "/api/v1/stats/coverage/"
    read: list[dict[str, Any]] = []
    assert tables_read(None, url, read, layer="testing") > {"stats_refresh"}
    later = {"layer": "testing", "period_from": "2026-03-01", "period_to": "2026-04-01"}
    assert tables_read(None, url, read, **later) == {"stats_refresh"}
    assert read[0] == read[1]
    assert tables_read(None, url, read, layer="components") > {"stats_refresh"}
    assert read[2] != read[0]


def test_a_kept_figure_is_the_callers_own(crafted: Crafted) -> None:
    everyone = get(crafted.operator, "/api/v1/stats/unmet-demand/", below=3)
    own = get(crafted.buyer_a, "/api/v1/stats/unmet-demand/", below=3)
    assert {g["requests"] for g in own["groups"]} == {1}  # r1 and r2 only
    assert {g["requests"] for g in everyone["groups"]} == {1, 2}
    other = get(crafted.buyer_b, "/api/v1/stats/unmet-demand/", below=3)
    assert other["groups"] != own["groups"]
    assert (
        get(crafted.buyer_a, "/api/v1/stats/policy-shares/")["total"]["awards"]
        < get(crafted.operator, "/api/v1/stats/policy-shares/")["total"]["awards"]
    )


def test_figures_are_read_when_the_cache_is_out_of_reach(crafted: Crafted, settings: Any) -> None:
    django_settings_caches = settings.CACHES
    kept = get(crafted.operator, "/api/v1/stats/funnel/")
    settings.CACHES = {  # nothing listens on port 1 (Django opens the caches anew)
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    assert get(crafted.operator, "/api/v1/stats/funnel/") == kept
    settings.CACHES = django_settings_caches  # in reach again, but not tried for a while
    read: list[dict[str, Any]] = []
    assert tables_read(crafted.operator, "/api/v1/stats/funnel/", read) > {"stats_refresh"}
    assert tables_read(crafted.operator, "/api/v1/stats/funnel/", read) > {"stats_refresh"}
    assert read == [kept, kept]
