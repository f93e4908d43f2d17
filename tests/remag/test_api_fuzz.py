"""Hostile input, generated from the OpenAPI schema (schemathesis): whatever a caller
sends to any operation of the API (deletes aside), the answer is never a server error,
and every error is a problem document. FUZZ_EXAMPLES sets the examples per operation
(15); HYPOTHESIS_PROFILE=explore draws new ones instead of the fixed set."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.factories import MembershipFactory, OrganizationFactory, UserTokenFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

FUZZED = schema.include(path_regex=r"^/api/v1/").exclude(method=["DELETE"])


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


@pytest.fixture
def token(db: None, settings: Any, keep_test_connection: None) -> str:
    from suppliers.taxonomy import taxonomy_load

    taxonomy_load()
    settings.REMAG_THROTTLE_RATES = dict.fromkeys(settings.REMAG_THROTTLE_RATES, "100000/minute")
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = []
    user = MembershipFactory(organization=OrganizationFactory(kind="manufacturer")).user
    MembershipFactory(user=user, organization=OrganizationFactory(kind="operator"))
    return UserTokenFactory(user=user).raw_key


@FUZZED.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_makes_a_server_error(case: Any, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.as_curl_command(), response.text[:1000])
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), (
            case.as_curl_command(),
            response.status_code,
            content_type,
        )
