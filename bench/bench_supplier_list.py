"""Latency of the supplier list (the public registry) at 100,000 suppliers.

Budget (DESIGN.md): p99 in tens of milliseconds. Measured in-process with Django's test
client against PostgreSQL, so the figures are server time (view, serializer, queries),
without network or HTTP server overhead.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remag python bench/bench_supplier_list.py
    BENCH_SUPPLIERS=20000 BENCH_REQUESTS=100 python bench/bench_supplier_list.py
"""

import os
import statistics
import time

from _setup import setup_django

SUPPLIERS = int(os.environ.get("BENCH_SUPPLIERS", "100000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))

QUERIES = {
    "first page (50)": "",
    "layer=components": "layer=components",
    "capability any-of": "capability=jet-milling,sintering,nicuni-coating",
    "certification valid today": "certification=iatf-16949",
    "state+size+cert+layer": (
        "state=TN,KA&enterprise_size=micro,small&certification=iso-9001&layer=components"
    ),
    "min capacity (tonnes)": (
        "capacity_for=rare-earth-oxides&min_capacity=0.5&capacity_unit=tonnes_per_month"
    ),
    "q full-text": "q=salt spray corrosion",
    "q + filters": "q=coating&state=TN&women_owned=true",
    "ordering=legal_name": "ordering=legal_name",
    "page 5 via cursor": None,
}


def main() -> None:
    setup_django(suppliers=SUPPLIERS)
    from django.test import Client

    from suppliers.models import Supplier

    client = Client()
    client.get("/api/v1/suppliers/")
    if os.environ.get("GC_GEN0_THRESHOLD") != "0":
        from remag.gc_tuning import configure_gc

        configure_gc()  # as remag/wsgi.py does once the application is loaded
    print(f"suppliers: {Supplier.objects.count()}, requests per query: {REQUESTS}")
    print(f"{'query':32} {'results':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for label, query in QUERIES.items():
        url = f"/api/v1/suppliers/?{query}" if query is not None else _page_five(client)
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
        results = len(response.json()["results"])
        timings = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[int(0.95 * len(timings)) - 1]
        p99 = timings[int(0.99 * len(timings)) - 1]
        print(f"{label:32} {results:7d} {p50:8.1f} {p95:8.1f} {p99:8.1f}")


def _page_five(client: object) -> str:
    url = "/api/v1/suppliers/"
    for _ in range(4):
        url = client.get(url).json()["next"]  # type: ignore[attr-defined]
    return url


if __name__ == "__main__":
    main()
