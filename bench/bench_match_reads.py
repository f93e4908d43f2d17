"""Read latency of matches at 100,000 suppliers and about 1,000,000 matches.

Budget (DESIGN.md): read endpoints such as a request's top matches with p99 in tens of
milliseconds. The script seeds 100,000 suppliers once, then publishes and runs open
requests (each over a few capabilities of one layer) until the matches table holds
``BENCH_MATCHES`` rows, then times, in-process with Django's test client (server time:
view, serializer, queries; no HTTP server or network):

- a request's first page of matches (50, ranked, with explanations), filtered by
  ``min_score``, and its fifth page through the cursor;
- the opportunities of the supplier with the most matches, and its gaps;
- the buyer's list of requests (a page of 50), one request and its runs, and a match
  with its transitions (the other reads of a buyer at that scale).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remag \
        .venv/bin/python bench/bench_match_reads.py
"""

import itertools
import os
import statistics
import time
from datetime import timedelta

from _setup import setup_django

SUPPLIERS = int(os.environ.get("BENCH_SUPPLIERS", "100000"))
MATCHES = int(os.environ.get("BENCH_MATCHES", "1000000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))


def fill(owner) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from matching import runs
    from matching.models import Match, MatchRun, ProcurementRequest
    from suppliers.models import Capability, Certification

    have = Match.objects.count()
    if have >= MATCHES:
        return
    layers = {}
    for capability in Capability.objects.order_by("code"):
        layers.setdefault(capability.layer, []).append(capability)
    combos = itertools.cycle(
        [
            (layer, list(combo))
            for layer, caps in sorted(layers.items())
            for size in (2, 3)
            for combo in itertools.combinations(caps, size)
        ]
    )
    iso = Certification.objects.get(code="iso-9001")
    started = time.perf_counter()
    made = 0
    while have < MATCHES:
        layer, caps = next(combos)
        request = ProcurementRequest.objects.create(
            owner=owner,
            title=f"bench reads {made}",
            description="Bench request: powder, sintering, coating, testing.",
            layer=layer,
            needed_by=timezone.localdate() + timedelta(days=90),
            delivery_state="TN",
            delivery_latitude=12.97,
            delivery_longitude=77.59,
            status="open",
        )
        request.required_capabilities.set(caps)
        request.preferred_certifications.set([iso])
        run = MatchRun.objects.create(request=request, trigger="operator")
        runs.match_run_execute(run_id=run.id)
        have = Match.objects.count()
        made += 1
    print(f"ran {made} requests in {time.perf_counter() - started:.0f} s; matches: {have}")


def timed(client, url: str, count: int) -> tuple[int, float, float, float]:  # type: ignore[no-untyped-def]
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
    body = response.json()
    if isinstance(body, dict):
        results = len(body["results"]) if "results" in body else 1
    else:
        results = len(body)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return (
        results,
        statistics.median(timings),
        timings[int(0.95 * count) - 1],
        timings[int(0.99 * count) - 1],
    )


def main() -> None:
    setup_django(suppliers=SUPPLIERS)
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from matching.models import Match, NearMiss, ProcurementRequest
    from remag.accounts.models import Membership, Organization, User
    from suppliers.models import Supplier

    owner, _ = Organization.objects.get_or_create(name="Bench Reads Buyer", kind="manufacturer")
    fill(owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE matching_match")
    buyer, _ = User.objects.get_or_create(username="bench-reads-buyer")
    Membership.objects.get_or_create(user=buyer, organization=owner, defaults={"role": "admin"})
    request = (
        ProcurementRequest.objects.filter(owner=owner)
        .annotate(n=Count("matches"))
        .order_by("-n")
        .first()
    )
    top_supplier = (
        Match.objects.values("supplier_id").annotate(n=Count("id")).order_by("-n").first()
    )
    supplier = Supplier.objects.get(id=top_supplier["supplier_id"])
    sme_user, _ = User.objects.get_or_create(username="bench-reads-sme")
    Membership.objects.get_or_create(user=sme_user, organization=supplier.owner)
    top_missed = (
        NearMiss.objects.values("supplier_id").annotate(n=Count("id")).order_by("-n").first()
    )
    missed = Supplier.objects.get(id=top_missed["supplier_id"])
    Membership.objects.get_or_create(user=sme_user, organization=missed.owner)

    buyer_client, sme_client = Client(), Client()
    buyer_client.force_login(buyer)
    sme_client.force_login(sme_user)
    matches_url = f"/api/v1/requests/{request.id}/matches/"
    buyer_client.get(matches_url)
    from remag.gc_tuning import configure_gc

    configure_gc()  # as remag/wsgi.py does once the application is loaded

    best = Match.objects.filter(request=request).order_by("-score", "supplier_id").first()
    page = matches_url
    for _ in range(4):
        page = buyer_client.get(page).json()["next"]
    supplier_url = f"/api/v1/suppliers/{supplier.id}"
    queries = [
        (buyer_client, f"matches of a request ({request.n})", matches_url),
        (buyer_client, "  min_score=60", f"{matches_url}?min_score=60"),
        (
            buyer_client,
            "  status=proposed&min_score=50",
            f"{matches_url}?status=proposed&min_score=50",
        ),
        (buyer_client, "  page 5 via cursor", page),
        (
            sme_client,
            f"opportunities ({top_supplier['n']} matches)",
            f"{supplier_url}/opportunities/",
        ),
        (
            sme_client,
            f"gaps ({top_missed['n']} near misses)",
            f"/api/v1/suppliers/{missed.id}/gaps/",
        ),
        (buyer_client, "requests (the buyer's, 50 a page)", "/api/v1/requests/"),
        (buyer_client, "  a request", f"/api/v1/requests/{request.id}/"),
        (buyer_client, "  its match runs", f"/api/v1/requests/{request.id}/match-runs/"),
        (buyer_client, "a match", f"/api/v1/matches/{best.id}/"),
        (buyer_client, "  its transitions", f"/api/v1/matches/{best.id}/transitions/"),
    ]
    count = REQUESTS
    print(f"suppliers: {Supplier.objects.count()}, matches: {Match.objects.count()}, "
          f"requests per query: {count}")  # fmt: skip
    print(f"{'query':40} {'results':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for client, label, url in queries:
        results, p50, p95, p99 = timed(client, url, count)
        print(f"{label:40} {results:7d} {p50:8.1f} {p95:8.1f} {p99:8.1f}")


if __name__ == "__main__":
    main()
