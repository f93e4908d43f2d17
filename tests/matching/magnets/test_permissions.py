"""The permission matrix of the magnet market: every endpoint x every role."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from matching.magnets.models import MagnetMatch, MagnetOffer, MagnetPool, MagnetRequirement
from tests.conftest import shared_copy, shared_rows
from tests.factories import MembershipFactory, OrganizationFactory
from tests.matching.magnets.conftest import (
    Market,
    build_market,
    client_for,
    make_offer,
    make_requirement,
    offer_body,
    requirement_body,
)
from tests.matrix import Endpoint, assert_covers, call, matrix_cases

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "buyer", "other_buyer", "maker", "other_maker", "operator", "portal")
SIGNED_IN = dict.fromkeys(ROLES, 200) | {"anonymous": 401}


def roles(**statuses: int) -> dict[str, int]:
    """``default`` for every signed-in role not named; anonymous 401."""
    default = statuses.pop("default")
    return dict.fromkeys(ROLES, default) | {"anonymous": 401} | statuses


MAKERS = roles(default=403, maker=200, other_maker=200, operator=200)
# The buyer's requirement: its members and operators; nobody else sees it (404).
BUYER = roles(default=404, buyer=200, operator=200)
# The maker's published offer: everyone sees it, only its maker and operators act.
OFFER_OWNER = roles(default=403, maker=200, operator=200)
# A match: its two parties and operators see it.
PARTIES = roles(default=404, buyer=200, maker=200, operator=200)

R = {"id": "requirement"}
O = {"id": "offer"}  # noqa: E741 (a path value, like R)
ENDPOINTS = {
    "demand": Endpoint("GET", "/api/v1/magnets/demand/", MAKERS),
    "leads": Endpoint("GET", "/api/v1/magnets/leads/", MAKERS),
    "match": Endpoint("GET", "/api/v1/magnets/matches/{id}/", PARTIES, {"id": "match"}),
    # The match is proposed: no outcome yet (409 for the buyer); the maker's is not this.
    "match-outcome": Endpoint(
        "POST",
        "/api/v1/magnets/matches/{id}/outcome/",
        roles(default=404, buyer=409, maker=403, operator=403),
        {"id": "match"},
        body={"outcome": "good"},
    ),
    "match-transition": Endpoint(
        "POST",
        "/api/v1/magnets/matches/{id}/transitions/",
        roles(default=404, buyer=201, maker=403, operator=403),
        {"id": "match"},
        body={"status": "interested"},
    ),
    "offer-list": Endpoint("GET", "/api/v1/magnets/offers/", SIGNED_IN),
    # Operators act for no manufacturer of their own: they must name one (400).
    "offer-create": Endpoint(
        "POST",
        "/api/v1/magnets/offers/",
        roles(default=403, maker=201, other_maker=201, operator=400),
        body=offer_body(),
    ),
    "offer-retrieve": Endpoint("GET", "/api/v1/magnets/offers/{id}/", SIGNED_IN, O),
    "offer-update": Endpoint(
        "PUT", "/api/v1/magnets/offers/{id}/", OFFER_OWNER, O, body=offer_body(title="Arcs")
    ),
    "offer-partial-update": Endpoint(
        "PATCH", "/api/v1/magnets/offers/{id}/", OFFER_OWNER, O, body={"lead_time_days": 30}
    ),
    "offer-leads": Endpoint("GET", "/api/v1/magnets/offers/{id}/leads/", OFFER_OWNER, O),
    "offer-near-misses": Endpoint(
        "GET", "/api/v1/magnets/offers/{id}/near-misses/", OFFER_OWNER, O
    ),
    # Already published.
    "offer-publish": Endpoint(
        "POST",
        "/api/v1/magnets/offers/{id}/publish/",
        roles(default=403, maker=409, operator=409),
        O,
    ),
    "offer-runs": Endpoint("GET", "/api/v1/magnets/offers/{id}/runs/", OFFER_OWNER, O),
    "offer-run-create": Endpoint(
        "POST",
        "/api/v1/magnets/offers/{id}/runs/",
        roles(default=403, maker=202, operator=202),
        O,
    ),
    "offer-withdraw": Endpoint("POST", "/api/v1/magnets/offers/{id}/withdraw/", OFFER_OWNER, O),
    "pool-list": Endpoint("GET", "/api/v1/magnets/pools/", SIGNED_IN),
    # The buyer has a requirement in the pool; the other buyer and the portal do not.
    "pool-retrieve": Endpoint(
        "GET",
        "/api/v1/magnets/pools/{id}/",
        roles(default=200, other_buyer=404, portal=404),
        {"id": "pool"},
    ),
    # Only a maker answers, with an offer of its own (the other maker's is not: 400).
    "pool-answer": Endpoint(
        "POST",
        "/api/v1/magnets/pools/{id}/answer/",
        roles(default=403, maker=200, other_maker=400, operator=400),
        {"id": "pool"},
        body={"offer": "placeholder"},
    ),
    "requirement-list": Endpoint("GET", "/api/v1/magnets/requirements/", SIGNED_IN),
    "requirement-create": Endpoint(
        "POST",
        "/api/v1/magnets/requirements/",
        roles(default=201, operator=400, portal=403),
        body=requirement_body(),
    ),
    "requirement-retrieve": Endpoint("GET", "/api/v1/magnets/requirements/{id}/", BUYER, R),
    "requirement-update": Endpoint(
        "PUT", "/api/v1/magnets/requirements/{id}/", BUYER, R, body=requirement_body(title="x")
    ),
    "requirement-partial-update": Endpoint(
        "PATCH", "/api/v1/magnets/requirements/{id}/", BUYER, R, body={"duration_months": 6}
    ),
    "requirement-cancel": Endpoint("POST", "/api/v1/magnets/requirements/{id}/cancel/", BUYER, R),
    "requirement-close": Endpoint("POST", "/api/v1/magnets/requirements/{id}/close/", BUYER, R),
    "requirement-matches": Endpoint("GET", "/api/v1/magnets/requirements/{id}/matches/", BUYER, R),
    "requirement-near-misses": Endpoint(
        "GET", "/api/v1/magnets/requirements/{id}/near-misses/", BUYER, R
    ),
    # Already open.
    "requirement-open": Endpoint(
        "POST",
        "/api/v1/magnets/requirements/{id}/open/",
        roles(default=404, buyer=409, operator=409),
        R,
    ),
    "requirement-runs": Endpoint("GET", "/api/v1/magnets/requirements/{id}/runs/", BUYER, R),
    "requirement-run-create": Endpoint(
        "POST",
        "/api/v1/magnets/requirements/{id}/runs/",
        roles(default=404, buyer=202, operator=202),
        R,
    ),
    "run": Endpoint("GET", "/api/v1/magnets/runs/{id}/", BUYER, {"id": "run"}),
}


def test_the_matrix_covers_every_magnet_endpoint() -> None:
    assert_covers(ENDPOINTS, "/api/v1/magnets/")


def clients(market: Market, portal_user: Any) -> dict[str, APIClient]:
    return {
        "anonymous": APIClient(),
        "buyer": client_for(market.buyer),
        "other_buyer": client_for(market.other_buyer),
        "maker": client_for(market.maker),
        "other_maker": client_for(market.other_maker),
        "operator": client_for(market.operator),
        "portal": client_for(portal_user),
    }


SMALL = {"quantity_per_month": "60", "pool_opt_in": True, "budget_inr_per_kg": None}


def stage_of(name: str) -> str:
    """What a case needs besides the market and the maker's published offer: a buyer's
    requirement and its match, or a pool."""
    if name.startswith("pool-"):
        return "pool"
    if "{id}" in ENDPOINTS[name].path and not name.startswith("offer"):
        return "requirement"
    return "offer"


@dataclass
class Stage:
    market: Market
    portal_user: Any
    context: dict[str, Any]


@pytest.fixture(scope="module")
def shared_stage(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Stage]:
    """The market and what the cases of one kind (``stage_of``) need: built once per kind
    (tests/conftest.py's shared_rows); each case runs in its own savepoint."""
    with shared_rows(django_db_blocker):
        with django_db_blocker.unblock():
            stage = build_stage(request.param)
        yield stage


def build_stage(kind: str) -> Stage:
    market = build_market()
    offer = make_offer(market.maker_org)
    context: dict[str, Any] = {"offer": offer.id}
    if kind == "requirement":
        requirement = make_requirement(market.buyer_org)
        match = MagnetMatch.objects.get(requirement=requirement)
        context |= {"requirement": requirement.id, "match": match.id, "run": match.run_id}
    if kind == "pool":
        # Two small buyers' requirements, below the offer's minimum order: a pool.
        make_requirement(market.buyer_org, title="Small arcs", **SMALL)
        make_requirement(OrganizationFactory(kind="sme"), title="Small arcs too", **SMALL)
        context["pool"] = MagnetPool.objects.get().id
    portal_user = MembershipFactory(organization=market.portal_org).user
    return Stage(market=market, portal_user=portal_user, context=context)


@pytest.fixture
def stage(request: pytest.FixtureRequest, shared_stage: Stage) -> Stage:
    return shared_copy(request, shared_stage)


@pytest.mark.parametrize(
    ("shared_stage", "name", "role", "status"),
    [
        pytest.param(stage_of(case.values[0]), *case.values, id=case.id)
        for case in matrix_cases(ENDPOINTS, ROLES)
    ],
    indirect=["shared_stage"],
)
def test_permission_matrix(stage: Stage, name: str, role: str, status: int) -> None:
    endpoint = ENDPOINTS[name]
    if name == "pool-answer":
        body = {"offer": str(stage.context["offer"])}
        endpoint = Endpoint(**{**endpoint.__dict__, "body": body})
    before = (MagnetOffer.objects.count(), MagnetRequirement.objects.count())

    call(clients(stage.market, stage.portal_user)[role], endpoint, stage.context, status)

    if status >= 400:
        assert (MagnetOffer.objects.count(), MagnetRequirement.objects.count()) == before
