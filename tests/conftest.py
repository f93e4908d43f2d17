"""Fixtures shared by the whole suite.

Tests that need PostgreSQL or Redis ask for the ``postgres`` or ``redis_url`` fixture.
When the service is not configured they are skipped, unless ``REMAG_REQUIRE_SERVICES=1``
(as in CI), where they fail.
"""

import copy
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from remag import queues
from tests.factories import (
    APIKeyFactory,
    MembershipFactory,
    OrganizationFactory,
    UserTokenFactory,
)

ROOT = Path(__file__).resolve().parent.parent

# Property-based and schema-fuzzing tests draw the same examples on every run, so CI is
# reproducible; HYPOTHESIS_PROFILE=explore draws new ones (run it by hand to hunt bugs).
hypothesis_settings.register_profile("remag", derandomize=True, deadline=None)
hypothesis_settings.register_profile("explore", max_examples=300, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "remag"))

# The suite runs the same whatever DEBUG says (CI runs it with DEBUG=0, developers with
# DEBUG=1). Tests speak plain HTTP to "testserver", "localhost" (schemathesis) and
# 127.0.0.1 (real servers on loopback), which production settings would redirect to
# HTTPS or refuse as unknown hosts. tests/remag/test_settings.py checks that the
# production defaults keep the redirect on; test_security.py that it redirects.
django_settings.SECURE_SSL_REDIRECT = False
django_settings.ALLOWED_HOSTS = [
    *django_settings.ALLOWED_HOSTS,
    *(
        h
        for h in ("testserver", "localhost", "127.0.0.1")
        if h not in django_settings.ALLOWED_HOSTS
    ),
]


def service_unavailable(reason: str) -> None:
    if django_settings.REMAG_REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    url = django_settings.REDIS_URL
    if not url:
        service_unavailable("REDIS_URL is not set")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis at {url} does not answer: {exc}")
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def postgres() -> None:
    if not django_settings.IS_POSTGRES:
        service_unavailable("DATABASE_URL does not point at PostgreSQL")


@pytest.fixture
def eager() -> Iterator[None]:
    """Tasks run in-process while the test runs (as without ``REDIS_URL``)."""
    from remag.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def fresh_taxonomy_ids() -> None:
    """Each test builds (and rolls back) its own taxonomy rows: the filters' per-process
    copy of the taxonomy's ids (``suppliers.selectors.taxonomy_ids``) starts empty, as
    a new process's does."""
    from suppliers.selectors import forget_taxonomy_ids

    forget_taxonomy_ids()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: Any) -> None:
    """Factories give every user a password; the production hasher would spend a fifth of
    a second on each. Tests of authentication use tokens and keys, not this hasher."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def cache_key_prefix(settings: Any) -> str:
    """Each test gets its own key namespace in the (real, possibly shared) cache, so
    throttle buckets and cached values never leak from one test to the next."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    return prefix


@pytest.fixture(autouse=True)
def celery_test_queue() -> Iterator[str]:
    """Each test sends its tasks to queues of its own (deleted afterwards): the default
    queue is ``test-<hex>`` and the job queues ``test-<hex>.matching`` and so on, so tests
    never leave messages in a real broker's queues for a real worker to find. Returns the
    default queue's name; ``queues_of_test(name)`` lists them all."""
    with own_celery_queues() as queue:
        yield queue


@contextmanager
def own_celery_queues() -> Iterator[str]:
    from remag.celery import app

    queue = f"test-{uuid.uuid4().hex[:10]}"
    previous = app.conf.task_default_queue, app.conf.task_routes
    app.conf.task_default_queue = queue
    app.conf.task_routes = queues.task_routes(queue_prefix(queue))
    reset_router(app)
    try:
        yield queue
    finally:
        app.conf.task_default_queue, app.conf.task_routes = previous
        reset_router(app)
        if django_settings.REDIS_URL:
            try:
                client = redis.Redis.from_url(django_settings.REDIS_URL, socket_connect_timeout=1)
                client.delete(*queues_of_test(queue))
                client.close()
            except redis.RedisError:
                pass


def reset_router(app: Any) -> None:
    """Celery builds its router from ``task_routes`` once per process and keeps it: make
    it read this test's routes."""
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)


def queue_prefix(default_queue: str) -> str:
    return f"{default_queue}."


def queues_of_test(default_queue: str) -> list[str]:
    """Every queue of a test whose default queue is ``default_queue``."""
    return queues.all_queues(default_queue, queue_prefix(default_queue))


# ------------------------------------------------------------------ rows shared by many tests


@contextmanager
def shared_rows(django_db_blocker: Any) -> Iterator[None]:
    """Rows built once for a whole module (or class) of tests, such as a permission
    matrix's world: the ``with`` block, and every test run inside it, is in one
    transaction that is rolled back at its end. Each test still runs in a savepoint of its
    own (pytest-django's ``db``), rolled back after it, so what a test writes never reaches
    the next one. Build the rows under ``django_db_blocker.unblock()``, and hand each test
    a ``copy.deepcopy`` of the objects (as ``TestCase.setUpTestData`` does), so a change a
    test makes to an instance stays in that test. Not for transactional tests (they
    commit and flush): the fixture refuses to be used by one (see ``shared_copy``).
    While the rows are built, tasks go to queues of their own, the cache uses a key
    namespace of its own and passwords the fast hasher, as in a test."""
    from django.db import transaction
    from django.test import override_settings

    caches = copy.deepcopy(django_settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        # A durable block inside a test is allowed under a test case's own transaction;
        # this one counts as such.
        atomic._from_testcase = True  # type: ignore[attr-defined]
        atomic.__enter__()
    try:
        with own_celery_queues(), override_settings(CACHES=caches, PASSWORD_HASHERS=FAST_HASHERS):
            yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def shared_copy(request: pytest.FixtureRequest, value: Any) -> Any:
    """``value`` (built by ``shared_rows``) for one test: a deep copy, for a test that runs
    in its own rolled-back savepoint (not a transactional one)."""
    request.getfixturevalue("db")
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction")
    if transactional or "transactional_db" in request.fixturenames:
        pytest.fail("rows shared by shared_rows() would be committed and flushed by this test")
    return copy.deepcopy(value)


# ------------------------------------------------------------------ the shipped taxonomy


def taxonomy_load_fast() -> None:
    """The shipped taxonomy, exactly as ``taxonomy_load()`` writes it into empty tables
    (same values and digests), in three queries instead of one per row: the worlds of
    hundreds of tests start with it. The rows are those of one real ``taxonomy_load()``,
    run once per session in a savepoint that is rolled back. With any taxonomy row
    present, it is the real ``taxonomy_load()``."""
    from suppliers.taxonomy import taxonomy_load

    models = _taxonomy_models()
    if any(model.objects.exists() for model in models):
        taxonomy_load()
        return
    for model, rows in _shipped_taxonomy_rows().items():
        model.objects.bulk_create([model(**row) for row in rows])


def _taxonomy_models() -> tuple[Any, ...]:
    from suppliers.models import Capability, Certification, MaterialGrade

    return (Capability, Certification, MaterialGrade)


@cache
def _shipped_taxonomy_rows() -> dict[Any, list[dict[str, Any]]]:
    from django.db import transaction

    from suppliers.taxonomy import taxonomy_load

    generated = {"id", "created_at", "updated_at"}  # a new id and stamps for each load
    with transaction.atomic():
        taxonomy_load()
        rows = {
            model: [
                {name: value for name, value in row.items() if name not in generated}
                for row in model.objects.values()
            ]
            for model in _taxonomy_models()
        }
        transaction.set_rollback(True)
    return rows


# ------------------------------------------------------------------ callers


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def walk_pages(client: APIClient, url: str, params: dict[str, Any]) -> list[Any]:
    """Every page of a list: forwards from the first by ``next``, then back from the last
    by ``previous`` (each page's JSON, in the order read)."""
    pages: list[Any] = []
    query: dict[str, Any] | None = params
    for link in ("next", "previous"):
        while True:
            response = client.get(url, query)
            assert response.status_code == 200, response.content
            pages.append(response.json())
            url, query = pages[-1][link], None
            if url is None:
                break
        url = pages[-1]["previous"] if link == "next" else None
        if url is None:
            break
    return pages


def client_with(authorization: str | None = None, **headers: str) -> APIClient:
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization, **headers)
    elif headers:
        client.credentials(**headers)
    return client


@pytest.fixture
def user_client() -> Callable[..., APIClient]:
    """A client authenticated as ``user`` with a real personal token."""

    def make(user: Any) -> APIClient:
        token = UserTokenFactory(user=user)
        return client_with(f"Bearer {token.raw_key}")

    return make


@pytest.fixture
def key_client() -> Callable[..., APIClient]:
    """A client authenticated with a new API key of ``organization`` and ``scopes``."""

    def make(organization: Any, scopes: tuple[str, ...] = ("read", "write")) -> APIClient:
        api_key = APIKeyFactory(organization=organization, scopes=list(scopes))
        return client_with(f"Api-Key {api_key.raw_key}")

    return make


@pytest.fixture
def org_admin(db: None) -> Any:
    """A user who administers an SME organisation."""
    membership = MembershipFactory(role="admin", organization=OrganizationFactory(kind="sme"))
    return membership.user


@pytest.fixture
def operator(db: None) -> Any:
    membership = MembershipFactory(organization=OrganizationFactory(kind="operator"))
    return membership.user


# ------------------------------------------------------------------ a real Celery worker


def database_url_for_subprocess() -> str | None:
    """The URL of the database this test run uses (the test database), for child processes."""
    from django.db import connection

    data = connection.settings_dict
    if connection.vendor != "postgresql":
        return None
    user = data.get("USER") or "postgres"
    password = f":{data['PASSWORD']}" if data.get("PASSWORD") else ""
    host = data.get("HOST") or "127.0.0.1"
    port = data.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{data['NAME']}"


@pytest.fixture
def celery_worker_process(
    redis_url: str, cache_key_prefix: str, tmp_path: Path, celery_test_queue: str
) -> Iterator[Callable[..., str]]:
    """Start real ``celery worker`` processes consuming a queue of their own.

    Returns a function ``start(serve=None, pool="solo", **extra_env) -> queue_name``
    (``serve``: the queues to consume, all of this test's by default; ``pool``: Celery's
    execution pool, one process or thread); ``start.processes`` lists the
    ``(Popen, log_path)`` of each worker started. The worker shares this test's cache
    namespace and database; it is stopped (and its log shown on failure) at teardown.
    """
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    queue = celery_test_queue

    def start(serve: list[str] | None = None, pool: str = "solo", **extra_env: str) -> str:
        log_path = tmp_path / f"worker-{len(processes)}.log"
        env = {
            **os.environ,
            **extra_env,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": cache_key_prefix,
            # What the worker sends (retries, follow-ups) stays on this test's queues.
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_QUEUE_PREFIX": queue_prefix(queue),
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
        }
        database_url = database_url_for_subprocess()
        if database_url:
            env["DATABASE_URL"] = database_url
        log = log_path.open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "remag",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--queues",
                ",".join(serve or queues_of_test(queue)),
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
                f"--hostname={queue}-{len(processes)}@%h",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append((process, log_path))
        return queue

    start.processes = processes  # type: ignore[attr-defined]
    yield start

    for process, log_path in processes:
        stop_process(process, timeout=15)
        sys.stdout.write(
            f"\n--- {log_path.name} ---\n{log_path.read_text(errors='replace')[-4000:]}"
        )


def stop_process(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM a child process (if still running), SIGKILL it after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(predicate: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


# ------------------------------------------------------------------ a real WSGI server


@pytest.fixture
def wsgi_server(settings: Any) -> Iterator[str]:
    """The Django application behind the standard library's WSGI server, threaded, on a
    free loopback port; yields its base URL. wsgiref is strict where gunicorn is lenient
    (it refuses a header value that is not exactly ``str``), so a response it serves is
    valid for every server. Its threads use their own database connections: tests need
    ``django_db(transaction=True)`` for it to see their rows."""
    from socketserver import ThreadingMixIn
    from threading import Thread
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the parent's name)
            pass

    application = get_wsgi_application()

    class Closing:
        """The response, whose ``close()`` (called by the server when the response is
        sent) also hands the thread's database connection back (to the pool, or
        closed): each request runs in a thread of its own that then ends."""

        def __init__(self, response: Any) -> None:
            self.response = response

        def __iter__(self) -> Any:
            return iter(self.response)

        def close(self) -> None:
            try:
                self.response.close()
            finally:
                connections.close_all()

    def app(environ: dict[str, Any], start_response: Any) -> Closing:
        return Closing(application(environ, start_response))

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = False  # plain HTTP on loopback, whatever DEBUG says
    server = make_server("127.0.0.1", 0, app, server_class=Server, handler_class=QuietHandler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def gunicorn_listening_at(log: Path, process: subprocess.Popen[bytes]) -> str:
    """The base URL gunicorn logged it listens at. Bound to port 0, it takes a free port
    itself: a port probed free and closed before it starts could be taken meanwhile, by a
    server of the suite's other process (pytest-xdist) among others."""
    import re

    def listening() -> str | None:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
        found = re.search(r"Listening at: (http://[0-9.]+:[0-9]+)", log.read_text(errors="replace"))
        return found.group(1) if found else None

    return str(wait_for(listening, timeout=60, interval=0.1))


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[str]:
    """remag served by gunicorn with its production configuration (one sync worker) on a
    free loopback port, on this run's test database; yields its base URL. For behaviour
    that is gunicorn's (how a connection ends), where ``wsgi_server`` differs. Tests need
    ``django_db(transaction=True)`` for it to see their rows."""
    import urllib.request

    database_url = database_url_for_subprocess()
    if database_url is None:
        service_unavailable("gunicorn_server runs on PostgreSQL")
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "test-only-" + "g" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "DATABASE_POOL_MAX_SIZE": "1",
        "GUNICORN_BIND": "127.0.0.1:0",  # the port is read back from its log
        "WEB_CONCURRENCY": "1",
    }
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(  # noqa: S603 (this environment's gunicorn)
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:remag.gunicorn_conf",
            "remag.wsgi",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )

    def up(base: str) -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    try:
        base = gunicorn_listening_at(log, process)
        wait_for(lambda: up(base), timeout=60, interval=0.2)
        yield base
    finally:
        stop_process(process, timeout=30)


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    """For a test that migrates the database back (to check a data migration on crafted
    rows): migrates it forward to the latest state afterwards, for the tests that follow."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
