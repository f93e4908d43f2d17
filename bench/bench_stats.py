"""Latency of the dashboard's stats endpoints at 100,000 suppliers and 1,000,000 matches.

Budget (issue 18): every stats endpoint answers with p99 under 100 ms, because a page
reads only the aggregate tables that beat refreshes (``stats.services.stats_refresh``),
never the matches table. The script reuses ``bench_match_reads.py``'s data (it seeds
``BENCH_SUPPLIERS`` suppliers and runs requests until ``BENCH_MATCHES`` matches), then
gives the figures something to count: every bench request published (that bench opens
them without publishing), and per request its best match awarded (through invited and
interested, with transitions) and the next two shortlisted. It times one refresh, then
each endpoint in-process with Django's test client (server time: view, serializer,
queries), as an operator (every request) or anonymously (coverage), and the
server-rendered /dashboard/ page (all figures at once).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/remag_bench \
        .venv/bin/python bench/bench_stats.py
"""

import os
import statistics
import time

os.environ.setdefault("STATS_REFRESH_ON_READ", "0")  # the bench refreshes once, itself

from _setup import setup_django  # noqa: E402
from bench_match_reads import SUPPLIERS, fill  # noqa: E402

COUNT = int(os.environ.get("BENCH_STATS_REQUESTS", "200"))


def give_the_figures_something(owner) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.db import transaction
    from django.db.models import F

    from matching.models import Match, MatchTransition, ProcurementRequest

    requests = ProcurementRequest.objects.filter(owner=owner)
    requests.filter(published_at__isnull=True).update(published_at=F("created_at"))
    if MatchTransition.objects.filter(match__request__owner=owner).exists():
        return  # done on an earlier run
    with transaction.atomic():
        for index, request in enumerate(requests.order_by("created_at")):
            ranked = list(Match.objects.filter(request=request).order_by("-score")[:3])
            if not ranked:
                continue
            best, *next_ = ranked
            awarded_at = request.created_at + timedelta(days=3 + index % 20)
            Match.objects.filter(id=best.id).update(status="awarded", status_changed_at=awarded_at)
            MatchTransition.objects.bulk_create(
                MatchTransition(
                    match=best, from_status=a, to_status=b, party="buyer", at=awarded_at
                )
                for a, b in (
                    ("proposed", "invited"),
                    ("invited", "interested"),
                    ("interested", "awarded"),
                )
            )
            Match.objects.filter(id__in=[m.id for m in next_]).update(
                status="shortlisted", status_changed_at=awarded_at
            )


def timed(client, url: str) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
    timings = []
    for _ in range(COUNT):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return (
        statistics.median(timings),
        timings[int(0.95 * COUNT) - 1],
        timings[int(0.99 * COUNT) - 1],
    )


def main() -> None:
    setup_django(suppliers=SUPPLIERS)
    from django.db import connection
    from django.test import Client

    from matching.models import Match, ProcurementRequest
    from remag.accounts.models import Membership, Organization, User
    from stats import models as stats
    from stats.services import stats_refresh
    from suppliers.models import Supplier

    owner, _ = Organization.objects.get_or_create(name="Bench Reads Buyer", kind="manufacturer")
    fill(owner)
    give_the_figures_something(owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    started = time.perf_counter()
    stats_refresh()
    refresh_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    operator_org, _ = Organization.objects.get_or_create(name="Bench Operators", kind="operator")
    operator, _ = User.objects.get_or_create(username="bench-stats-operator")
    Membership.objects.get_or_create(user=operator, organization=operator_org)
    buyer, _ = User.objects.get_or_create(username="bench-reads-buyer")
    Membership.objects.get_or_create(user=buyer, organization=owner, defaults={"role": "admin"})
    anonymous, operator_client, buyer_client = Client(), Client(), Client()
    operator_client.force_login(operator)
    buyer_client.force_login(buyer)
    from remag.gc_tuning import configure_gc

    configure_gc()  # as remag/wsgi.py does once the application is loaded

    print(
        f"suppliers: {Supplier.objects.count()}, matches: {Match.objects.count()}, "
        f"requests: {ProcurementRequest.objects.count()}, "
        f"awards: {stats.AwardFact.objects.count()}, "
        f"coverage sites: {stats.CoverageSite.objects.count()}, "
        f"near-miss rows: {stats.NearMissFact.objects.count()}; "
        f"refresh: {refresh_seconds:.2f} s; requests per query: {COUNT}"
    )
    queries = [
        (anonymous, "coverage", "/api/v1/stats/coverage/"),
        (
            anonymous,
            "  state=MH&layer=components",
            "/api/v1/stats/coverage/?state=MH&layer=components",
        ),
        (
            anonymous,
            "coverage gaps, 200 km of Pune",
            "/api/v1/stats/coverage/gaps/?latitude=18.52&longitude=73.85&radius_km=200",
        ),
        (
            anonymous,
            "coverage gaps, 500 km of Chennai",
            "/api/v1/stats/coverage/gaps/?latitude=13.08&longitude=80.27&radius_km=500",
        ),
        (operator_client, "unmet demand (operator)", "/api/v1/stats/unmet-demand/"),
        (buyer_client, "unmet demand (the buyer)", "/api/v1/stats/unmet-demand/?below=1000"),
        (operator_client, "policy shares (operator)", "/api/v1/stats/policy-shares/"),
        (operator_client, "funnel (operator)", "/api/v1/stats/funnel/"),
        (operator_client, "funnel, layer=components", "/api/v1/stats/funnel/?layer=components"),
        (operator_client, "/dashboard/ page (operator)", "/dashboard/"),
    ]
    print(f"{'query':45} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for client, label, url in queries:
        p50, p95, p99 = timed(client, url)
        print(f"{label:45} {p50:8.1f} {p95:8.1f} {p99:8.1f}")


if __name__ == "__main__":
    main()
