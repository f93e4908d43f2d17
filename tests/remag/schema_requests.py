"""What the schema-driven tests (test_api_fuzz.py, test_api_conformance.py) share: the
API's schema, read from the application through WSGI, and how each request is sent."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Requests go through the real WSGI application, which closes database connections
    when a request ends; the test's transaction lives on that connection. Django's own
    test client disconnects the same handlers."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def without_generated_credentials(case: Any) -> None:
    """Schemathesis fills the schema's security schemes with made-up values (an
    `X-API-Key`, a session cookie); each role sends its own credentials instead."""
    for name in ("X-API-Key", "Authorization", "Cookie"):
        if case.headers and name in case.headers:
            del case.headers[name]
    case.cookies = {}
