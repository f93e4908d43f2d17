"""The permission matrix of matching: every endpoint x every role (tests/matrix.py)."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from matching.models import Match, MatchRun, ProcurementRequest
from tests.conftest import shared_copy, shared_rows
from tests.matching.conftest import (
    World,
    build_world,
    client_for,
    post_request_as,
    publish,
    request_body,
)
from tests.matrix import Endpoint, assert_covers, call, matrix_cases

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "buyer", "other_buyer", "matched_sme", "other_sme", "operator")


def owner_only(ok: int, *, others: int = 403) -> dict[str, int]:
    """Only the request's owner and operators; everyone else signed in gets ``others``."""
    return {
        "anonymous": 401,
        "buyer": ok,
        "other_buyer": others,
        "matched_sme": others,
        "other_sme": others,
        "operator": ok,
    }


def match_parties(buyer: int, sme: int, operator: int) -> dict[str, int]:
    """A match: the buyer, the matched SME and operators see it; others get a 404."""
    return {
        "anonymous": 401,
        "buyer": buyer,
        "other_buyer": 404,
        "matched_sme": sme,
        "other_sme": 404,
        "operator": operator,
    }


SIGNED_IN = dict.fromkeys(ROLES, 200) | {"anonymous": 401}
SUPPLIER_PRIVATE = {
    "anonymous": 401,
    "buyer": 403,
    "other_buyer": 403,
    "matched_sme": 200,
    "other_sme": 403,
    "operator": 200,
}

ENDPOINTS = {
    "request-list": Endpoint("GET", "/api/v1/requests/", SIGNED_IN),
    "request-create": Endpoint(
        "POST",
        "/api/v1/requests/",
        # Operators belong to no manufacturer: they must name the owner (a 400).
        {
            "anonymous": 401,
            "buyer": 201,
            "other_buyer": 201,
            "matched_sme": 403,
            "other_sme": 403,
            "operator": 400,
        },
        body=request_body(),
    ),
    "request-retrieve": Endpoint("GET", "/api/v1/requests/{id}/", SIGNED_IN),
    "request-update": Endpoint(
        "PUT", "/api/v1/requests/{id}/", owner_only(200), body=request_body(title="Replaced")
    ),
    "request-partial-update": Endpoint(
        "PATCH", "/api/v1/requests/{id}/", owner_only(200), body={"title": "Changed"}
    ),
    # A draft: invisible to everyone but its owner and operators.
    "request-publish": Endpoint(
        "POST", "/api/v1/requests/{id}/publish/", owner_only(200, others=404), {"id": "draft"}
    ),
    "request-close": Endpoint("POST", "/api/v1/requests/{id}/close/", owner_only(200)),
    "request-cancel": Endpoint("POST", "/api/v1/requests/{id}/cancel/", owner_only(200)),
    "request-runs": Endpoint("GET", "/api/v1/requests/{id}/match-runs/", owner_only(200)),
    "request-run-create": Endpoint("POST", "/api/v1/requests/{id}/match-runs/", owner_only(202)),
    "request-matches": Endpoint("GET", "/api/v1/requests/{id}/matches/", owner_only(200)),
    "run-retrieve": Endpoint(
        "GET", "/api/v1/match-runs/{id}/", owner_only(200, others=404), {"id": "run"}
    ),
    "match-retrieve": Endpoint(
        "GET", "/api/v1/matches/{id}/", match_parties(200, 200, 200), {"id": "match"}
    ),
    "match-transitions": Endpoint(
        "GET", "/api/v1/matches/{id}/transitions/", match_parties(200, 200, 200), {"id": "match"}
    ),
    # Shortlisting is the buyer's move; operators see but do not decide.
    "match-transition": Endpoint(
        "POST",
        "/api/v1/matches/{id}/transitions/",
        match_parties(201, 403, 403),
        {"id": "match"},
        body={"status": "shortlisted"},
    ),
    # The match is only proposed: the buyer may record outcomes, but not of this one.
    "match-outcome": Endpoint(
        "POST",
        "/api/v1/matches/{id}/outcome/",
        match_parties(409, 403, 403),
        {"id": "match"},
        body={"outcome": "good"},
    ),
    "supplier-opportunities": Endpoint(
        "GET", "/api/v1/suppliers/{id}/opportunities/", SUPPLIER_PRIVATE, {"id": "supplier"}
    ),
    "supplier-gaps": Endpoint(
        "GET", "/api/v1/suppliers/{id}/gaps/", SUPPLIER_PRIVATE, {"id": "supplier"}
    ),
}


def test_the_matrix_covers_every_matching_endpoint() -> None:
    assert_covers(
        ENDPOINTS,
        "/api/v1/requests/",
        "/api/v1/match-runs/",
        "/api/v1/matches/",
        "/api/v1/suppliers/{id}/opportunities/",
        "/api/v1/suppliers/{id}/gaps/",
    )


def clients(world: World) -> dict[str, APIClient]:
    return {
        "anonymous": APIClient(),
        "buyer": client_for(world.buyer),
        "other_buyer": client_for(world.other_buyer),
        "matched_sme": client_for(world.sme_users["full"]),
        "other_sme": client_for(world.sme_users["wrong_cap"]),  # matches nothing
        "operator": client_for(world.operator),
    }


@dataclass
class Stage:
    world: World
    context: dict[str, Any]


@pytest.fixture(scope="module")
def shared_stage(django_db_setup: None, django_db_blocker: Any) -> Iterator[Stage]:
    """The world, a published request (run) and a draft: built once for the module
    (tests/conftest.py's shared_rows); each case runs in its own savepoint."""
    with shared_rows(django_db_blocker):
        with django_db_blocker.unblock():
            world = build_world()
            request_id = publish(world)
            match = Match.objects.get(request_id=request_id, supplier=world.suppliers["full"])
            context = {
                "id": request_id,
                "draft": post_request_as(world.buyer)["id"],
                "run": MatchRun.objects.filter(request_id=request_id).latest("created_at").id,
                "match": match.id,
                "supplier": world.suppliers["full"].id,
            }
        yield Stage(world=world, context=context)


@pytest.fixture
def stage(request: pytest.FixtureRequest, shared_stage: Stage) -> Stage:
    return shared_copy(request, shared_stage)


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(stage: Stage, name: str, role: str, status: int) -> None:
    request_id = stage.context["id"]
    match = Match.objects.get(id=stage.context["match"])
    before = (match.status, ProcurementRequest.objects.get(id=request_id).status)

    call(clients(stage.world)[role], ENDPOINTS[name], stage.context, status)

    if status >= 400:  # a refusal changes nothing
        match.refresh_from_db()
        assert (match.status, ProcurementRequest.objects.get(id=request_id).status) == before
