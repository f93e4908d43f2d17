"""Match runs at 100,000 suppliers: where the time goes, against the floor of reading the
same candidate rows.

For a few typical requests it runs matching in-process, exactly as the Celery task does
(`matching.runs.match_run_execute`, with the worker's collector settings): the first run
inserts the matches (timed once), then reruns update them in place (the best of three,
as the floor is). It prints
the candidate and match counts, the seconds spent loading, scoring and writing, the
total, and beside it the floor: a bare `SELECT` through psycopg of the candidate rows'
columns (suppliers offering a required capability that are not withdrawn or suspended,
and their offers of the required capabilities), best of three.
For a first run it also prints the floor of storing its matches ("store s": the same
rows copied by psycopg into a table like ``matching_match``, with its indexes, checks and
foreign keys, and committed) and the run's total as a multiple of reading and
storing together ("x both"): what a run costs beyond what PostgreSQL must do anyway.
Then the same rows copied into a bare table of the same columns, with no index, check or
key ("bare s"), and the floor plus that as a multiple of the floor ("x min"): the least a
first run could cost against its floor while every match is stored as a row, whatever
else it did in no time.
It also scores a synthetic batch of 100,000 candidates to show scoring alone.

Every figure is printed twice, on two databases, because the planner behaves differently:

* fresh: a copy of a database seeded with the suppliers and never matched (made from the
  template ``<bench database>_registry``, seeded once): every request is new to the
  planner's statistics, as on a new deployment;
* warm: the bench database (``remag_bench`` by default), shared with
  ``bench_match_reads.py`` (1,000,000 matches once that has run).

Budgets (issue 15): every run, first and rerun, on both databases, within 2x the floor;
the broadest request end to end (queued to succeeded, a real worker) within 3x the floor,
the worker's peak memory under 250 MiB; scoring under 1 s for 100,000 candidates.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remag .venv/bin/python bench/match_run.py
    BENCH_SUPPLIERS=20000 .venv/bin/python bench/match_run.py
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from _setup import bench_database_url, setup_django

SUPPLIERS = int(os.environ.get("BENCH_SUPPLIERS", "100000"))

REQUESTS = {
    "NdFeB powder (2 caps, cert, location, text)": {
        "layer": "components",
        "capabilities": ["jet-milling", "hydrogen-decrepitation"],
        "required": ["iso-9001"],
        "preferred": ["iatf-16949"],
        "quantity": ("500", "kg"),
        "location": (13.08, 80.27),
        "description": "Jet milling and hydrogen decrepitation of NdFeB strip-cast alloy.",
    },
    "magnet finishing, broad (4 caps, no certs)": {
        "layer": "components",
        "capabilities": ["sintering", "nicuni-coating", "precision-grinding", "magnetising"],
        "required": [],
        "preferred": ["iso-9001", "iatf-16949"],
        "quantity": ("20000", "pieces"),
        "location": (12.97, 77.59),
        "description": "Sintered N42 blocks, sliced, NiCuNi coated and magnetised.",
    },
    "BH-curve testing within 500 km (lab accreditation)": {
        "layer": "testing",
        "capabilities": ["hysteresigraph-testing"],
        "required": ["iso-iec-17025"],
        "preferred": ["iso-9001"],
        "quantity": ("200", "tests"),
        "location": (18.52, 73.85),
        "radius": 500,
        "description": "",
    },
    "rare-earth oxides, tonnes (chemicals)": {
        "layer": "chemicals",
        "capabilities": ["rare-earth-oxides"],
        "required": [],
        "preferred": ["bis"],
        "quantity": ("5", "tonnes"),
        "location": None,
        "description": "NdPr oxide, 99.5% purity, for alloy making.",
    },
}


def make_request(owner, spec):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from matching.models import ProcurementRequest
    from suppliers.models import Capability, Certification

    location = spec["location"]
    request = ProcurementRequest.objects.create(
        owner=owner,
        title="bench",
        description=spec["description"],
        layer=spec["layer"],
        quantity=Decimal(spec["quantity"][0]),
        quantity_unit=spec["quantity"][1],
        needed_by=timezone.localdate() + timedelta(days=60),
        delivery_state="TN",
        delivery_latitude=location[0] if location else None,
        delivery_longitude=location[1] if location else None,
        max_distance_km=spec.get("radius"),
        prefer_micro_small=True,
        status="open",
    )
    request.required_capabilities.set(Capability.objects.filter(code__in=spec["capabilities"]))
    request.required_certifications.set(Certification.objects.filter(code__in=spec["required"]))
    request.preferred_certifications.set(Certification.objects.filter(code__in=spec["preferred"]))
    return request


def floor_seconds(request) -> float:  # type: ignore[no-untyped-def]
    """A bare SELECT of the candidate rows' columns through psycopg, best of three, with
    the casts the run's own load uses (ids as text, capacities as float8): building UUID
    and Decimal objects would make the floor slower than the run's load."""
    import psycopg

    capability_ids = list(request.required_capabilities.values_list("id", flat=True))
    url = os.environ["DATABASE_URL"]
    best = float("inf")
    with psycopg.connect(url) as conn:
        for _ in range(3):
            started = time.perf_counter()
            conn.execute(
                "SELECT s.id::text, s.status, s.latitude, s.longitude, s.enterprise_size, "
                "s.women_owned, s.sc_st_owned, s.state FROM suppliers_supplier s "
                "WHERE s.is_active AND s.status IN ('active', 'pending') AND EXISTS ("
                " SELECT 1 FROM suppliers_suppliercapability sc"
                " WHERE sc.supplier_id = s.id AND sc.capability_id = ANY(%s))",
                (capability_ids,),
            ).fetchall()
            conn.execute(
                "SELECT supplier_id::text, capability_id::text, capacity_per_month::float8, "
                "capacity_unit, lead_time_days FROM suppliers_suppliercapability "
                "WHERE capability_id = ANY(%s)",
                (capability_ids,),
            ).fetchall()
            best = min(best, time.perf_counter() - started)
    return best


# The columns a first run copies (matching.runs._COPY_MATCHES).
_MATCH_COLUMNS = (
    "id, supplier_id, score, public_score, factors, reasons, digest, created_at, updated_at,"
    " request_id,"
    " run_id, qualifies, algorithm_version, scored_at, status, outcome"
)


def store_floor_seconds(request_id: object, *, bare: bool = False) -> float:
    """The floor of storing a first run's matches: its very rows, already in COPY's text
    format, copied through psycopg into a table like ``matching_match`` (the same columns,
    indexes, checks and foreign keys, if it has any) and committed, so PostgreSQL checks
    whatever it would check for the real table; best of three. No Python builds or
    explains anything.

    ``bare``: into a table of the same columns (NOT NULL kept) with no index, check or key, the
    least any row-per-match store could cost (what is left is PostgreSQL writing the rows
    and their WAL)."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        chunks = []
        with conn.cursor().copy(
            f"COPY (SELECT {_MATCH_COLUMNS} FROM matching_match WHERE request_id = %s)"  # noqa: S608
            " TO STDOUT",
            (request_id,),
        ) as copy:
            chunks = [bytes(chunk) for chunk in copy]
        # LIKE copies no foreign keys: the table's own, as the migrations left them
        # (a match's request and supplier have one, its run none: matching.models).
        foreign_keys = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'matching_match'::regclass AND contype = 'f'"
        ).fetchall()
        conn.commit()
        best = float("inf")
        for _ in range(3):
            conn.execute("DROP TABLE IF EXISTS bench_store_floor")
            including = "" if bare else " INCLUDING ALL"
            conn.execute(f"CREATE TABLE bench_store_floor (LIKE matching_match{including})")
            for (definition,) in [] if bare else foreign_keys:
                conn.execute(f"ALTER TABLE bench_store_floor ADD {definition}")
            conn.commit()
            started = time.perf_counter()
            with conn.cursor().copy(
                f"COPY bench_store_floor ({_MATCH_COLUMNS}) FROM STDIN"  # noqa: S608
            ) as copy:
                for chunk in chunks:
                    copy.write(chunk)
            conn.commit()
            best = min(best, time.perf_counter() - started)
        conn.execute("DROP TABLE bench_store_floor")
        conn.commit()
    return best


def synthetic_scoring() -> tuple[int, float]:
    from datetime import date

    import numpy as np

    from matching.scoring import CandidateBatch, Criteria, score

    n, rng = 100_000, np.random.default_rng(1)
    criteria = Criteria(
        required_capabilities=("a", "b", "c"),
        run_date=date(2026, 11, 25),
        required_certifications=("iso-9001",),
        preferred_certifications=("iatf-16949", "as9100"),
        quantity_base=500.0,
        quantity_dimension="mass",
        needed_by=date(2027, 1, 24),
        latitude=13.08,
        longitude=80.27,
        max_distance_km=1500.0,
        prefer_micro_small=True,
        has_text=True,
    )
    batch = CandidateBatch(
        supplier_ids=[f"{i:032x}" for i in range(n)],
        is_active=rng.random(n) < 0.85,
        offers=rng.random((n, 3)) < 0.5,
        capacity_base=np.where(rng.random((n, 3)) < 0.8, rng.uniform(10, 5000, (n, 3)), np.nan),
        lead_time_days=rng.choice([7.0, 14, 30, 45, 60, 90], (n, 3)),
        required_held=rng.random((n, 1)) < 0.6,
        preferred_held=rng.random((n, 2)) < 0.3,
        latitude=rng.uniform(8, 35, n),
        longitude=rng.uniform(70, 95, n),
        location_approximate=rng.random(n) < 0.3,
        micro_small=rng.random(n) < 0.85,
        women_owned=rng.random(n) < 0.12,
        sc_st_owned=rng.random(n) < 0.06,
        past_awards=rng.integers(0, 5, n).astype(float),
        past_successes=np.zeros(n),
        text_relevance=rng.random(n),
    )
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        result = score(criteria, batch)
        best = min(best, time.perf_counter() - started)
    return result.matched_count, best


def run_all() -> None:
    setup_django(suppliers=SUPPLIERS)
    # The collector as a worker process has it (remag/celery.py, worker_process_init):
    # with the interpreter's defaults, collections walking the run's rows took half of
    # a broad request's load.
    from remag.gc_tuning import configure_gc

    configure_gc()
    from matching import runs
    from matching.models import MatchRun, ProcurementRequest
    from remag.accounts.models import Organization
    from suppliers.models import Supplier

    owner, _ = Organization.objects.get_or_create(name="Bench Magnets", kind="manufacturer")
    ProcurementRequest.objects.filter(owner=owner).delete()
    from matching.models import Match

    print(f"suppliers: {Supplier.objects.count()}, matches before: {Match.objects.count()}")
    # "total" is the wall time of the whole call, as the task makes it: taking the job,
    # loading, scoring, writing and the commit; load, score and write are the run's own
    # timings (for a rerun, those of the best of its three).
    header = (
        f"{'request':52} {'run':>6} {'cands':>6} {'matches':>7} {'load s':>7} "
        f"{'score s':>7} {'write s':>7} {'total s':>7} {'floor s':>7} {'x floor':>7} "
        f"{'store s':>7} {'x both':>7} {'bare s':>7} {'x min':>7}"
    )
    print(header)
    for label, spec in REQUESTS.items():
        request = make_request(owner, spec)
        floor = floor_seconds(request)
        for which in ("first", "rerun"):
            # A first run happens once; a rerun is the same work each time, so it is
            # timed as the floor is, the best of three.
            total = float("inf")
            for _ in range(1 if which == "first" else 3):
                attempt = MatchRun.objects.create(request=request, trigger="operator")
                started = time.perf_counter()
                runs.match_run_execute(run_id=attempt.id)
                took = time.perf_counter() - started
                attempt.refresh_from_db()
                if attempt.status != "succeeded":
                    raise SystemExit(f"{label}: run {attempt.status}: {attempt.error}")
                if took < total:
                    total, run = took, attempt
            # What storing the first run's rows costs PostgreSQL alone (a rerun stores
            # only what changed, here nothing).
            # And into a bare table: "x min" is the least a first run could be against
            # its floor while every match is a row (reading, then storing bare rows).
            store = store_floor_seconds(request.id) if which == "first" else 0.0
            bare = store_floor_seconds(request.id, bare=True) if which == "first" else 0.0
            stored = (
                f"{store:>7.3f} {total / (floor + store):>7.2f} {bare:>7.3f} "
                f"{(floor + bare) / floor:>7.2f}"
                if store
                else ""
            )
            print(
                f"{label[:52]:52} {which:>6} {run.candidate_count:>6} {run.matched_count:>7} "
                f"{run.load_seconds:>7.3f} {run.score_seconds:>7.3f} {run.write_seconds:>7.3f} "
                f"{total:>7.3f} {floor:>7.3f} {total / floor:>7.2f} {stored}",
                flush=True,
            )


def _peak_rss_mib(pid: int) -> float:
    """The largest peak resident set (VmHWM) of ``pid`` and its children, in MiB."""
    peak = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def end_to_end() -> None:
    """The broadest request (every capability of the layer with the most offers) run by a
    real Celery worker (prefork, one child) from a fresh start: seconds from queued to
    succeeded against the floor of reading its candidates, and the worker's peak memory."""
    prefix = f"bench{os.getpid()}-"
    os.environ["CELERY_QUEUE_PREFIX"] = prefix  # a queue no other worker serves
    setup_django(suppliers=SUPPLIERS)
    from django.db.models import Count

    from matching import runs
    from matching.models import MatchRun, ProcurementRequest
    from remag.accounts.models import Organization
    from suppliers.models import Capability, SupplierCapability

    layer = (
        SupplierCapability.objects.values("capability__layer")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["capability__layer"]
    )
    codes = list(Capability.objects.filter(layer=layer).values_list("code", flat=True))
    owner, _ = Organization.objects.get_or_create(name="Bench Magnets E2E", kind="manufacturer")
    ProcurementRequest.objects.filter(owner=owner).delete()
    spec = {
        "layer": layer,
        "capabilities": codes,
        "required": [],
        "preferred": ["iso-9001"],
        "quantity": ("500", "kg"),
        "location": (12.97, 77.59),
        "description": "Sintered NdFeB blocks, coated and tested.",
    }
    request = make_request(owner, spec)
    floor = floor_seconds(request)
    # The client sends the run as a web process does, which loads the task modules as it
    # starts (remag/wsgi.py), not on its first job.
    from remag.celery import load_tasks

    load_tasks()
    worker = subprocess.Popen(  # noqa: S603 (celery of this environment)
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "remag",
            "worker",
            "--concurrency=1",
            "--loglevel=WARNING",
            "-Q",
            f"{prefix}matching",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=os.environ.copy(),
    )
    try:
        time.sleep(8)  # the worker connects and forks its child
        # Timed as a client sees it: from the request for a run to its committed
        # success (the run's own finished_at is stamped before its commit).
        started = time.perf_counter()
        run, _ = runs.match_run_create(request=request, trigger="operator")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in ("succeeded", "failed"):
                break
            time.sleep(0.02)
        queued_to_done = time.perf_counter() - started
        if run.status != "succeeded":
            raise SystemExit(f"end-to-end run {run.status}: {run.error}")
        peak = _peak_rss_mib(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    run = MatchRun.objects.get(id=run.id)
    store = store_floor_seconds(request.id)
    bare = store_floor_seconds(request.id, bare=True)
    print(
        f"end to end, real worker: {run.candidate_count} candidates, {run.matched_count} "
        f"matches: queued to succeeded {queued_to_done:.2f} s (load {run.load_seconds:.2f}, "
        f"score {run.score_seconds:.2f}, write {run.write_seconds:.2f}; picked up after "
        f"{(run.started_at - run.enqueued_at).total_seconds():.2f}, started to finished "
        f"{(run.finished_at - run.started_at).total_seconds():.2f}); floor {floor:.3f} s: "
        f"{queued_to_done / floor:.1f}x (budget 3x); storing its matches {store:.3f} s, "
        f"{queued_to_done / (floor + store):.1f}x reading and storing; into a bare table "
        f"(no index, no key) {bare:.3f} s, so at least {(floor + bare) / floor:.1f}x for any "
        f"run storing a row per match; worker peak RSS "
        f"{peak:.0f} MiB (budget 250)",
        flush=True,
    )


def fresh_database_url() -> str:
    """A new database copied from a seeded, never-matched template (seeded on first use)."""
    from urllib.parse import urlparse, urlunparse

    import psycopg

    bench = urlparse(bench_database_url())
    # Named after the bench database, so benchmarks on other databases of the same server
    # (``BENCH_DATABASE_URL``) keep copies of their own.
    name = bench.path.lstrip("/")
    template_name, fresh_name = f"{name}_registry", f"{name}_fresh"
    template = urlunparse(bench._replace(path=f"/{template_name}"))
    fresh = urlunparse(bench._replace(path=f"/{fresh_name}"))
    child(template, mode="seed")
    admin = urlunparse(bench._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fresh_name}"')
        conn.execute(f'CREATE DATABASE "{fresh_name}" TEMPLATE "{template_name}"')
    return fresh


def child(url: str, *, mode: str) -> None:
    """Run this script on another database (Django is configured once per process)."""
    subprocess.run(  # noqa: S603 (this very script)
        [sys.executable, os.path.abspath(__file__)],
        env={**os.environ, "BENCH_DATABASE_URL": url, "BENCH_MATCH_RUN_CHILD": mode},
        check=True,
    )


def main() -> None:
    mode = os.environ.get("BENCH_MATCH_RUN_CHILD")
    if mode == "seed":
        setup_django(suppliers=SUPPLIERS)
        return
    if mode == "run":
        run_all()
        return
    if mode == "end-to-end":
        end_to_end()
        return
    for label, url in (
        ("fresh database (seeded, never matched)", fresh_database_url()),
        ("warm database (remag_bench)", bench_database_url()),
    ):
        print(f"== {label}", flush=True)
        child(url, mode="run")
    if os.environ.get("REDIS_URL"):
        child(fresh_database_url(), mode="end-to-end")
    else:
        print("end to end with a real worker: skipped (set REDIS_URL)")
    matched, seconds = synthetic_scoring()
    print(f"scoring alone, 100,000 synthetic candidates ({matched} eligible): {seconds:.3f} s")


if __name__ == "__main__":
    main()
