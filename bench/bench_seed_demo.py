"""How fast `seed_demo` fills the registry (budget, issue 15: 100,000 suppliers in under 60 s).

Seeds into a fresh database `remag_bench_seed` (dropped first) on DATABASE_URL's server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remag python bench/bench_seed_demo.py
    BENCH_SUPPLIERS=20000 python bench/bench_seed_demo.py
"""

import os
import time
from urllib.parse import urlparse, urlunparse

import psycopg

SUPPLIERS = int(os.environ.get("BENCH_SUPPLIERS", "100000"))


def main() -> None:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/remag")
    parsed = urlparse(base)
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "remag_bench_seed"')
        conn.execute('CREATE DATABASE "remag_bench_seed"')
    os.environ["BENCH_DATABASE_URL"] = urlunparse(parsed._replace(path="/remag_bench_seed"))

    from _setup import setup_django

    setup_django(suppliers=0)
    from django.db import connection

    from suppliers.demo import seed_demo
    from suppliers.models import Supplier, SupplierCapability, SupplierCertificate

    started = time.perf_counter()
    seed_demo(suppliers=SUPPLIERS, seed=11)
    elapsed = time.perf_counter() - started
    print(
        f"seed_demo: {Supplier.objects.count()} suppliers, "
        f"{SupplierCapability.objects.count()} capabilities, "
        f"{SupplierCertificate.objects.count()} certificates in {elapsed:.1f} s "
        f"({Supplier.objects.count() / elapsed:.0f} suppliers/s)"
    )
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()  # the pool's idle connections hold the database open
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "remag_bench_seed"')


if __name__ == "__main__":
    main()
