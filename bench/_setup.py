"""Shared set-up for benchmarks: a PostgreSQL database of their own, migrated and seeded."""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, or DATABASE_URL's server with the database `remag_bench`."""
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/remag")
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        sys.exit("benchmarks need PostgreSQL: set BENCH_DATABASE_URL or DATABASE_URL")
    return urlunparse(parsed._replace(path="/remag_bench"))


def setup_django(*, suppliers: int, seed: int = 42) -> None:
    """Point Django at the bench database, create/migrate it, and seed it once."""
    url = bench_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("THROTTLE_RATE_ANON", "1000000/second")
    os.environ.setdefault("THROTTLE_RATE_USER", "1000000/second")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ["DJANGO_SETTINGS_MODULE"] = "remag.settings"

    import psycopg

    parsed = urlparse(url)
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        name = parsed.path.lstrip("/")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_taxonomy", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from suppliers.models import Supplier

    have = Supplier.objects.count()
    if have < suppliers:
        from suppliers.demo import seed_demo

        started = time.perf_counter()
        from suppliers.demo import SEED_STRIDE

        while Supplier.objects.filter(udyam_number__endswith=f"-{seed * SEED_STRIDE:07d}").exists():
            seed += 1  # a top-up seeds with the next unused seed
        seed_demo(suppliers=suppliers - have, seed=seed)
        print(f"seeded {suppliers - have} suppliers in {time.perf_counter() - started:.1f} s")
        from django.db import connection

        # What autovacuum does to a deployment's tables soon after a bulk load: without
        # it the full-text index answers from its pending list (13,000 unsorted entries
        # after seeding), ten times slower than from the index proper.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    refresh_representations()


def refresh_representations() -> None:
    """Store every supplier's list representation, as the worker's sweep does within a
    minute of any write (suppliers.representations), and say how long it took."""
    from suppliers.representations import representations_sweep

    started = time.perf_counter()
    stored = representations_sweep(seconds=3600, batch=2000)
    if stored:
        print(f"stored {stored} list representations in {time.perf_counter() - started:.1f} s")
