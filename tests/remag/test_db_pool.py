"""A threaded server keeps at most the pool's size of PostgreSQL connections open.

``make run`` serves with Django's development server: one thread per client connection,
kept while the client keeps the connection alive. With persistent database connections
(``CONN_MAX_AGE``) each such thread held a PostgreSQL connection of its own as long as
its client stayed: one process held 74 of PostgreSQL's 100. Every PostgreSQL connection
now comes from a small pool and goes back to it when the request ends.
"""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True)]


def backends() -> int:
    """PostgreSQL connections to this test database (all from this process)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.fixture
def development_server(settings: Any) -> Iterator[str]:
    """Django's own threaded development server (what ``runserver`` runs), in-process."""
    from django.core.servers.basehttp import (
        ThreadedWSGIServer,
        WSGIRequestHandler,
        get_internal_wsgi_application,
    )

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = False
    settings.REMAG_THROTTLE_RATES = dict.fromkeys(settings.REMAG_THROTTLE_RATES, "100000/minute")
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(get_internal_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pool_settings_for_postgresql(postgres: None) -> None:
    database = django_settings.DATABASES["default"]
    pool = database["OPTIONS"]["pool"]
    assert database["CONN_MAX_AGE"] == 0  # Django's pool requires it
    assert 1 <= pool["min_size"] <= pool["max_size"] <= 4
    assert pool["timeout"] > 0


def test_many_keep_alive_clients_stay_within_the_pool(
    postgres: None, development_server: str
) -> None:
    """Each keep-alive client holds a server thread; with persistent connections each such
    thread held a PostgreSQL connection too, for as long as the client stayed."""
    clients = 12
    limit = django_settings.DATABASES["default"]["OPTIONS"].get("pool", {}).get("max_size", 4)
    host, port = development_server.removeprefix("http://").split(":")
    served, release = threading.Barrier(clients + 1, timeout=60), threading.Event()

    def client(_: int) -> list[int]:
        http = HTTPConnection(host, int(port), timeout=30)
        try:
            statuses = []
            for _ in range(3):
                http.request("GET", "/api/v1/suppliers/?q=magnet")
                response = http.getresponse()
                response.read()
                statuses.append(response.status)
            served.wait()  # every client connected and served; none has hung up
            release.wait(60)
            return statuses
        finally:
            http.close()

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, n) for n in range(clients)]
        served.wait()
        open_backends = backends()
        release.set()
        statuses = [status for future in futures for status in future.result()]

    assert statuses == [200] * clients * 3
    assert open_backends <= limit, f"{open_backends} PostgreSQL connections, pool of {limit}"
