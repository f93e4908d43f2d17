"""The permission matrix of the stats endpoints (tests/matrix.py): coverage is public;
unmet demand, policy shares and the funnel are for operators and manufacturers (whose
figures are their own requests', tests/stats/test_aggregates.py); SMEs and portals get
403, anonymous callers 401."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_with
from tests.factories import APIKeyFactory, MembershipFactory, OrganizationFactory
from tests.matrix import Endpoint, assert_covers, call, matrix_cases

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "buyer", "buyer_key", "sme", "portal_key", "operator")

PUBLIC = dict.fromkeys(ROLES, 200)
DEMAND = {
    "anonymous": 401,
    "buyer": 200,
    "buyer_key": 200,
    "sme": 403,
    "portal_key": 403,
    "operator": 200,
}

ENDPOINTS = {
    "coverage": Endpoint("GET", "/api/v1/stats/coverage/", PUBLIC),
    "coverage-gaps": Endpoint(
        "GET", "/api/v1/stats/coverage/gaps/?latitude=18.5&longitude=73.8", PUBLIC
    ),
    "unmet-demand": Endpoint("GET", "/api/v1/stats/unmet-demand/", DEMAND),
    "policy-shares": Endpoint("GET", "/api/v1/stats/policy-shares/", DEMAND),
    "funnel": Endpoint("GET", "/api/v1/stats/funnel/", DEMAND),
}


def test_the_matrix_covers_every_stats_endpoint() -> None:
    table = {
        name: Endpoint(e.method, e.path.split("?")[0], e.expected) for name, e in ENDPOINTS.items()
    }
    assert_covers(table, "/api/v1/stats/")


def clients() -> dict[str, APIClient]:
    def person(kind: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(
            MembershipFactory(organization=OrganizationFactory(kind=kind)).user
        )
        return client

    def key(kind: str) -> APIClient:
        raw = APIKeyFactory(organization=OrganizationFactory(kind=kind), scopes=["read"]).raw_key
        return client_with(f"Api-Key {raw}")

    return {
        "anonymous": APIClient(),
        "buyer": person("manufacturer"),
        "buyer_key": key("manufacturer"),
        "sme": person("sme"),
        "portal_key": key("portal"),
        "operator": person("operator"),
    }


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(settings: Any, name: str, role: str, status: int) -> None:
    settings.STATS_REFRESH_ON_READ = True
    call(clients()[role], ENDPOINTS[name], {}, status)
