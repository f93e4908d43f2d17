"""Read throughput over HTTP: remag's read endpoints against a bare JSON floor, served by
gunicorn with the production configuration.

The script starts gunicorn (``remag/gunicorn_conf.py``: 2 sync workers, ``DEBUG=0``,
throttles raised, no HTTPS redirect) on a free loopback port, with the settings of
``bench/_http_settings.py``: remag's own, plus two floor views (``bench/_http_urls.py``)
that answer the same rows as JSON from one SQL query each, with no serializer, no ORM
objects and no authentication. They exist only in this benchmark.

The floor of each supplier query answers the same 50 suppliers as remag for the same query
string (its filters written as plain SQL); the script checks the two agree before it
measures. A load generator in this process (``BENCH_CONNECTIONS`` keep-alive connections, 4 by
default, each sending its next request as soon as the last is answered) drives each
endpoint for ``BENCH_SECONDS`` (3), interleaved with its floor, ``BENCH_ROUNDS`` times
(3), so both see the same machine. It prints requests per second, p50 and p99 latency
(client side, milliseconds) and the ratio of the endpoint's throughput to its floor's.

Budget (issue 15): the supplier list (every filter, ``q`` included) and a request's
matches at least 0.5x the floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remag .venv/bin/python bench/bench_http.py
    BENCH_SUPPLIERS=20000 BENCH_SECONDS=2 .venv/bin/python bench/bench_http.py
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from _setup import ROOT, bench_database_url, setup_django

SUPPLIERS = int(os.environ.get("BENCH_SUPPLIERS", "100000"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BUDGET = 0.5

SUPPLIER_QUERIES = {
    "suppliers layer=components": "layer=components",
    "suppliers capability any-of": "capability=jet-milling,sintering,nicuni-coating",
    "suppliers certification": "certification=iatf-16949",
    "suppliers state+size+cert+layer": (
        "state=TN,KA&enterprise_size=micro,small&certification=iso-9001&layer=components"
    ),
    "suppliers min_capacity": (
        "capacity_for=rare-earth-oxides&min_capacity=0.5&capacity_unit=tonnes_per_month"
    ),
    "suppliers q full-text": "q=salt+spray+corrosion",
    "suppliers q + filters": "q=coating&state=TN&women_owned=true",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare() -> tuple[str, str]:
    """A request with matches and a token of its owner: ``(request_id, token)``."""
    from django.db.models import Count
    from django.utils import timezone

    from matching import runs
    from matching.models import MatchRun, ProcurementRequest
    from remag.accounts.models import Membership, Organization, User
    from remag.accounts.services import user_token_create
    from suppliers.models import Capability

    request = (
        ProcurementRequest.objects.annotate(n=Count("matches"))
        .filter(n__gte=50)
        .order_by("-n")
        .first()
    )
    if request is None:
        owner, _ = Organization.objects.get_or_create(name="Bench HTTP Buyer", kind="manufacturer")
        request = ProcurementRequest.objects.create(
            owner=owner,
            title="bench http",
            description="Sintered blocks, NiCuNi coated.",
            layer="components",
            needed_by=timezone.localdate() + timedelta(days=90),
            delivery_state="TN",
            delivery_latitude=12.97,
            delivery_longitude=77.59,
            status="open",
        )
        request.required_capabilities.set(
            Capability.objects.filter(code__in=["sintering", "nicuni-coating"])
        )
        run = MatchRun.objects.create(request=request, trigger="operator")
        runs.match_run_execute(run_id=run.id)
        from django.db import connection

        # What autovacuum does within a minute of a table growing from empty: without it
        # the planner takes the request for one of 62 matches (not 6,000) and sorts them
        # all rather than reading the first page from the (request, score) index.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE matching_match")
    user, _ = User.objects.get_or_create(username="bench-http-buyer")
    Membership.objects.get_or_create(
        user=user, organization_id=request.owner_id, defaults={"role": "admin"}
    )
    _, token = user_token_create(user=user, name="bench http")
    return str(request.id), token


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "_http_settings",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
        "DATABASE_URL": bench_database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "THROTTLE_RATE_ANON": "1000000/second",
        "THROTTLE_RATE_USER": "1000000/second",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [str(gunicorn), "-c", "python:remag.gunicorn_conf", "remag.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start (or answer /healthz within 60 s)")


def drive(port: int, path: str, headers: dict[str, str], seconds: float) -> list[float]:
    """Latencies (ms) of every request answered in ``seconds`` over CONNECTIONS
    keep-alive connections. Any answer but 200 stops the benchmark."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < stop and not errors:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path}: {response.status}")
                break
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(errors[0])
    return latencies


def same_rows(port: int, path: str, headers: dict[str, str], floor: str) -> None:
    """Stop unless the floor answers the same rows, in the same order, as remag."""
    ids = []
    for url, sent in ((path, headers), (floor, {})):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", url, headers={**sent, "Accept": "application/json"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status != 200:
            raise SystemExit(f"{url}: {response.status} {body[:200]!r}")
        ids.append([row["id"] for row in json.loads(body)["results"]])
    if not ids[0] or ids[0] != ids[1][: len(ids[0])]:
        raise SystemExit(f"{floor} does not answer the rows of {path}")


def main() -> None:
    setup_django(suppliers=SUPPLIERS)
    request_id, token = prepare()
    auth = {"Authorization": f"Token {token}"}
    pairs = [
        (label, f"/api/v1/suppliers/?{query}", {}, f"/bench-floor/suppliers/?{query}")
        for label, query in SUPPLIER_QUERIES.items()
    ]
    pairs.append(
        (
            "a request's matches",
            f"/api/v1/requests/{request_id}/matches/",
            auth,
            f"/bench-floor/requests/{request_id}/matches/",
        )
    )
    port = free_port()
    server = start_server(port)
    try:
        for _, path, headers, floor in pairs:  # warm both workers' caches
            same_rows(port, path, headers, floor)
            drive(port, path, headers, 0.5)
            drive(port, floor, {}, 0.5)
        print(f"gunicorn 2 sync workers, {CONNECTIONS} connections, {ROUNDS} x {SECONDS:g} s each")
        print(
            f"{'endpoint':34} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
            f" {'floor/s':>8} {'f p50':>6} {'ratio':>6}"
        )
        failed = []
        for label, path, headers, floor in pairs:
            mine: list[float] = []
            theirs: list[float] = []
            spent = [0.0, 0.0]
            for _ in range(ROUNDS):
                started = time.perf_counter()
                mine += drive(port, path, headers, SECONDS)
                spent[0] += time.perf_counter() - started
                started = time.perf_counter()
                theirs += drive(port, floor, {}, SECONDS)
                spent[1] += time.perf_counter() - started
            rate, floor_rate = len(mine) / spent[0], len(theirs) / spent[1]
            mine.sort()
            ratio = rate / floor_rate
            if ratio < BUDGET:
                failed.append(label)
            print(
                f"{label:34} {rate:7.1f} {statistics.median(mine):7.1f}"
                f" {mine[int(0.99 * (len(mine) - 1))]:7.1f} {floor_rate:8.1f}"
                f" {statistics.median(theirs):6.1f} {ratio:5.2f}x"
            )
        verdict = "all within" if not failed else f"{len(failed)} below"
        print(f"budget: at least {BUDGET}x the floor: {verdict}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
