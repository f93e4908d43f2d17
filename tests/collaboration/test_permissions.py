"""The permission matrix of calls for collaboration: every endpoint x every role."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from rest_framework.test import APIClient

from matching.collaboration import services
from matching.collaboration.models import (
    CallRun,
    CollaborationCall,
    ExpressionOfInterest,
    NdaAcknowledgement,
)
from remag.accounts.caller import _compute as caller_compute
from tests.collaboration.conftest import (
    CollabWorld,
    call_body,
    client_for,
    collab_world,
    run_pending,
)
from tests.conftest import shared_copy, shared_rows
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.matrix import Endpoint, assert_covers, call, matrix_cases

pytestmark = pytest.mark.django_db

# ``unverified``: a member of the matched SME's organisation who has not verified their
# email address: reads what the SME reads, writes nothing (403 before any other rule).
ROLES = (
    "anonymous",
    "poster",
    "institute",
    "matched_sme",
    "unverified",
    "other_sme",
    "portal",
    "operator",
)
SIGNED_IN = dict.fromkeys(ROLES, 200) | {"anonymous": 401}


def poster_only(poster: int, others: int = 403, operator: int | None = None) -> dict[str, int]:
    """The poster's (and operators', unless ``operator`` says otherwise)."""
    return dict.fromkeys(ROLES, others) | {
        "anonymous": 401,
        "poster": poster,
        "operator": poster if operator is None else operator,
    }


def parties(poster: int, sme: int, operator: int, others: int = 404) -> dict[str, int]:
    """Of an expression of interest: the poster, the respondent (matched_sme), operators."""
    return dict.fromkeys(ROLES, others) | {
        "anonymous": 401,
        "poster": poster,
        "matched_sme": sme,
        "operator": operator,
    }


CALLS = "/api/v1/collaboration/calls/"
INTERESTS = "/api/v1/collaboration/interests/"
CALL = {"id": "call"}
INTEREST = {"id": "interest"}
ENDPOINTS = {
    "call-list": Endpoint("GET", CALLS, SIGNED_IN),
    # Manufacturers, R&D institutions and SMEs post; a portal does not; an operator has
    # no posting organisation to act for (a field error on `owner`).
    "call-create": Endpoint(
        "POST",
        CALLS,
        dict.fromkeys(ROLES, 201) | {"anonymous": 401, "portal": 403, "operator": 400},
        body={},
    ),
    "call-retrieve": Endpoint("GET", CALLS + "{id}/", SIGNED_IN, CALL),
    "call-update": Endpoint(
        "PATCH", CALLS + "{id}/", poster_only(200), CALL, body={"topic": "A new topic"}
    ),
    # Already open: even the poster gets a 409.
    "call-open": Endpoint("POST", CALLS + "{id}/open/", poster_only(409), CALL),
    "call-close": Endpoint("POST", CALLS + "{id}/close/", poster_only(200), CALL),
    "call-cancel": Endpoint("POST", CALLS + "{id}/cancel/", poster_only(200), CALL),
    "call-matches": Endpoint("GET", CALLS + "{id}/matches/", poster_only(200), CALL),
    "call-near-misses": Endpoint("GET", CALLS + "{id}/near-misses/", poster_only(200), CALL),
    "call-runs": Endpoint("GET", CALLS + "{id}/runs/", poster_only(200), CALL),
    "call-rerun": Endpoint("POST", CALLS + "{id}/runs/", poster_only(202), CALL),
    # The poster does not acknowledge its own NDA, nor operators; the matched SME already
    # did (200).
    "call-nda": Endpoint(
        "POST",
        CALLS + "{id}/nda/",
        dict.fromkeys(ROLES, 201)
        | {"anonymous": 401, "poster": 400, "operator": 400, "matched_sme": 200},
        CALL,
        body={},
    ),
    "run-retrieve": Endpoint(
        "GET", "/api/v1/collaboration/runs/{id}/", poster_only(200, others=404), {"id": "run"}
    ),
    "interest-list": Endpoint("GET", INTERESTS, SIGNED_IN),
    # Only the supplier's own organisation answers for it (others: a field error); the
    # R&D institution answers for itself, without a supplier profile.
    "interest-create": Endpoint(
        "POST",
        INTERESTS,
        dict.fromkeys(ROLES, 400) | {"anonymous": 401, "matched_sme": 201, "institute": 201},
        body={},
    ),
    "interest-retrieve": Endpoint("GET", INTERESTS + "{id}/", parties(200, 200, 200), INTEREST),
    "interest-shortlist": Endpoint(
        "POST", INTERESTS + "{id}/shortlist/", parties(200, 403, 403), INTEREST, body={}
    ),
    "interest-select": Endpoint(
        "POST", INTERESTS + "{id}/select/", parties(200, 403, 403), INTEREST, body={}
    ),
    "interest-decline": Endpoint(
        "POST", INTERESTS + "{id}/decline/", parties(200, 403, 403), INTEREST, body={}
    ),
    "interest-withdraw": Endpoint(
        "POST", INTERESTS + "{id}/withdraw/", parties(403, 200, 403), INTEREST, body={}
    ),
}


ENDPOINTS = {
    name: replace(
        endpoint,
        expected={
            **endpoint.expected,
            "unverified": endpoint.expected["matched_sme"] if endpoint.method == "GET" else 403,
        },
    )
    for name, endpoint in ENDPOINTS.items()
}


def test_the_matrix_covers_every_collaboration_endpoint() -> None:
    assert_covers(ENDPOINTS, "/api/v1/collaboration/")


def actor(user: Any) -> services.Actor:
    return services.Actor(caller=caller_compute(user), user=user)


@dataclass
class Stage:
    """The matrix's world: a confidential call, opened and matched, whose NDA the matched
    SME acknowledged before expressing interest; a public call to express interest in; a
    user for each role."""

    cworld: CollabWorld
    users: dict[str, Any]
    context: dict[str, str]
    public_call: str


@pytest.fixture(scope="module")
def shared_stage(django_db_setup: None, django_db_blocker: Any) -> Iterator[Stage]:
    """Built once for the module (tests/conftest.py's shared_rows); each case runs in its
    own savepoint, rolled back after it."""
    with shared_rows(django_db_blocker):
        with django_db_blocker.unblock():
            stage = build_stage(collab_world())
        yield stage


@pytest.fixture
def stage(request: pytest.FixtureRequest, shared_stage: Stage) -> Stage:
    return shared_copy(request, shared_stage)


def build_stage(cworld: CollabWorld) -> Stage:
    # The world is built through the services.
    poster = actor(cworld.poster)
    lab = actor(cworld.sme_users["lab"])
    supplier = cworld.suppliers["lab"]
    confidential = open_call(cworld)
    services.nda_acknowledge(call=confidential, organization=supplier.owner, actor=lab)
    interest = services.interest_submit(
        call=confidential,
        respondent=services.Respondent(supplier=supplier),
        message="Hi",
        proposed_approach="",
        actor=lab,
    )
    users = {
        "anonymous": None,
        "poster": cworld.poster,
        "institute": cworld.institute,
        "matched_sme": cworld.sme_users["lab"],
        "unverified": MembershipFactory(
            organization=supplier.owner, user=UserFactory(email_verified_at=None)
        ).user,
        "other_sme": cworld.sme_users["half"],
        "portal": MembershipFactory(organization=OrganizationFactory(kind="portal")).user,
        "operator": cworld.operator,
    }
    context = {
        "call": str(confidential.id),
        "interest": str(interest.id),
        "run": str(CallRun.objects.filter(call=confidential).get().id),
    }
    public = open_call(cworld, requires_nda=False, nda_text="")
    assert poster.user is not None
    return Stage(cworld=cworld, users=users, context=context, public_call=str(public.id))


@pytest.mark.parametrize(("name", "role", "status"), matrix_cases(ENDPOINTS, ROLES))
def test_permission_matrix(stage: Stage, name: str, role: str, status: int) -> None:
    supplier = stage.cworld.suppliers["lab"]
    endpoint = ENDPOINTS[name]
    if name == "call-create":
        endpoint = Endpoint(**{**endpoint.__dict__, "body": call_body()})
    elif name == "interest-create":
        body = {"call": stage.public_call, "supplier": str(supplier.id), "message": "Yes"}
        if role == "institute":
            body = {
                "call": stage.public_call,
                "message": "Yes",
                "contact_email": "lab@iit.example.in",
            }
        endpoint = Endpoint(**{**endpoint.__dict__, "body": body})

    def counts() -> tuple[int, ...]:
        return (
            CollaborationCall.objects.count(),
            ExpressionOfInterest.objects.count(),
            NdaAcknowledgement.objects.count(),
            CallRun.objects.count(),
            ExpressionOfInterest.objects.filter(status="submitted").count(),
            CollaborationCall.objects.filter(status="open").count(),
        )

    before = counts()
    # One API client per case: each new client costs its own middleware start-up.
    user = stage.users[role]
    client = APIClient() if user is None else client_for(user)
    call(client, endpoint, stage.context, status)
    if status >= 400:  # a refusal changes nothing
        assert counts() == before


def open_call(cworld: CollabWorld, **overrides: Any) -> CollaborationCall:
    """A call posted by the world's manufacturer, opened and matched (by the services)."""
    from matching.collaboration.api.serializers import CallSerializer

    poster = actor(cworld.poster)
    body = CallSerializer(data=call_body(**overrides), context={"caller": poster.caller})
    assert body.is_valid(), body.errors
    data = dict(body.validated_data)
    created = services.call_create(owner=cworld.poster_org, created_by=cworld.poster, data=data)
    services.call_open(call=created, by=cworld.poster)
    assert run_pending(str(created.id)).status == "succeeded"
    return created
