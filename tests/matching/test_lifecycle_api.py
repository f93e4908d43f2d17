"""Matches through the API: ranked lists, the lifecycle with its parties, contact reveal,
opportunities and gaps for SMEs, and the permission matrix."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from matching.models import Match, MatchTransition, ProcurementRequest
from suppliers.models import Certification
from tests.factories import OrganizationFactory, SupplierCapabilityFactory, SupplierFactory
from tests.matching.conftest import add_certificate, client_for

pytestmark = pytest.mark.django_db


def match_of(request_id: str, supplier: Any) -> Match:
    return Match.objects.get(request_id=request_id, supplier=supplier)


def move(user: Any, match: Match, status: str) -> Any:
    return client_for(user).post(
        f"/api/v1/matches/{match.id}/transitions/", {"status": status}, format="json"
    )


def test_matches_are_ranked_and_explained(world: Any, published: Any) -> None:
    request_id = published()
    response = client_for(world.buyer).get(f"/api/v1/requests/{request_id}/matches/")
    assert response.status_code == 200
    results = response.json()["results"]
    scores = [m["score"] for m in results]
    assert scores == sorted(scores, reverse=True)
    assert len(results) == 3
    top = results[0]
    assert top["supplier"]["legal_name"].startswith("Full")
    assert {f["name"] for f in top["factors"]} >= {"capability_coverage", "distance"}
    assert abs(sum(f["contribution"] for f in top["factors"]) - top["score"]) < 0.05
    assert top["reasons"]
    assert top["supplier"]["contact"] is None


def test_match_filters(world: Any, published: Any) -> None:
    request_id = published()
    client = client_for(world.buyer)
    url = f"/api/v1/requests/{request_id}/matches/"
    scores = sorted(m["score"] for m in client.get(url).json()["results"])
    response = client.get(f"{url}?min_score={scores[1]}")
    assert [m["score"] for m in response.json()["results"]] == sorted(scores[1:], reverse=True)
    move(world.buyer, match_of(request_id, world.suppliers["far"]), "shortlisted")
    shortlisted = client.get(f"{url}?status=shortlisted").json()["results"]
    assert [m["supplier"]["legal_name"][:3] for m in shortlisted] == ["Far"]
    assert client.get(f"{url}?min_score=lots").status_code == 400
    assert client.get(f"{url}?status=married").status_code == 400
    refused = client.get(f"{url}?qualifies=maybe")
    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["qualifies"]
    assert len(client.get(f"{url}?qualifies=true").json()["results"]) == len(scores)
    assert client.get(f"{url}?qualifies=false").json()["results"] == []


def test_match_list_query_count_does_not_grow(world: Any, published: Any) -> None:
    request_id = published()
    client = client_for(world.buyer)
    url = f"/api/v1/requests/{request_id}/matches/"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    owner = OrganizationFactory(kind="sme")
    for _ in range(12):
        supplier = SupplierFactory(owner=owner)
        SupplierCapabilityFactory(supplier=supplier)
        add_certificate(supplier)
    published_again = ProcurementRequest.objects.get(id=request_id)
    from matching import runs

    run, _ = runs.match_run_create(request=published_again, trigger="manual")
    runs.match_run_execute(run_id=run.id)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.json()["results"]) == 15
    assert len(many) == len(few)


def test_the_full_lifecycle_with_contact_reveal(world: Any, published: Any) -> None:
    request_id = published()
    full = match_of(request_id, world.suppliers["full"])
    sme = world.sme_users["full"]
    assert move(world.buyer, full, "shortlisted").status_code == 201
    assert move(world.buyer, full, "invited").status_code == 201
    # The buyer still does not see the contact; the SME sees its own.
    buyer_view = client_for(world.buyer).get(f"/api/v1/matches/{full.id}/").json()
    assert buyer_view["supplier"]["contact"] is None
    sme_view = client_for(sme).get(f"/api/v1/matches/{full.id}/").json()
    assert sme_view["supplier"]["contact"]["email"] == world.suppliers["full"].contact_email
    response = move(sme, full, "interested")
    assert response.status_code == 201
    assert response.json()["contact_shared_at"]
    buyer_view = client_for(world.buyer).get(f"/api/v1/matches/{full.id}/").json()
    assert buyer_view["supplier"]["contact"] is not None
    assert move(world.buyer, full, "awarded").status_code == 201
    assert ProcurementRequest.objects.get(id=request_id).status == "awarded"

    history = client_for(world.buyer).get(f"/api/v1/matches/{full.id}/transitions/").json()
    steps = [(t["from_status"], t["to_status"], t["party"]) for t in history["results"]]
    assert steps == [
        ("proposed", "shortlisted", "buyer"),
        ("shortlisted", "invited", "buyer"),
        ("invited", "interested", "supplier"),
        ("interested", "awarded", "buyer"),
    ]
    assert history["results"][2]["by_user"] == str(sme.id)
    assert history["results"][0]["by_organization"] == str(world.buyer_org.id)

    response = client_for(world.buyer).post(
        f"/api/v1/matches/{full.id}/outcome/", {"outcome": "good"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "good"


@pytest.mark.parametrize(
    ("path", "actor", "final", "code"),
    [
        ([], "buyer", "interested", 409),  # only after an invitation, and not the buyer's
        ([], "buyer", "awarded", 409),  # no award without an interested answer
        (["buyer:invited"], "buyer", "interested", 403),  # the SME's answer
        (["buyer:invited"], "sme", "interested", 201),
        (["buyer:invited"], "sme", "declined", 201),
        ([], "sme", "shortlisted", 403),  # the buyer's decision
        (["buyer:invited", "sme:declined"], "buyer", "awarded", 409),
        (["buyer:invited", "sme:declined"], "sme", "interested", 409),
        (["buyer:not_selected"], "buyer", "shortlisted", 409),
        ([], "other_sme", "shortlisted", 404),  # not visible at all
        ([], "other_buyer", "shortlisted", 404),
        ([], "operator", "shortlisted", 403),  # operators see but do not decide
        ([], "buyer", "proposed", 400),
    ],
)
def test_transition_matrix(
    world: Any, published: Any, path: list[str], actor: str, final: str, code: int
) -> None:
    request_id = published()
    full = match_of(request_id, world.suppliers["full"])
    users = {
        "buyer": world.buyer,
        "sme": world.sme_users["full"],
        "other_sme": world.sme_users["half"],
        "other_buyer": world.other_buyer,
        "operator": world.operator,
    }
    for step in path:
        who, status = step.split(":")
        assert move(users[who], full, status).status_code == 201
    before = Match.objects.get(id=full.id).status
    response = move(users[actor], full, final)
    assert response.status_code == code, response.json()
    if code != 201:
        assert response["Content-Type"].startswith("application/problem+json")
        assert Match.objects.get(id=full.id).status == before
    if code == 409:
        assert response.json()["current_status"] == before


def test_no_transition_after_cancel(world: Any, published: Any) -> None:
    request_id = published()
    full = match_of(request_id, world.suppliers["full"])
    assert client_for(world.buyer).post(f"/api/v1/requests/{request_id}/cancel/").status_code == 200
    response = move(world.buyer, full, "shortlisted")
    assert response.status_code == 409
    assert response.json()["code"] == "request_cancelled"
    assert not MatchTransition.objects.exists()


def test_outcome_only_for_awarded_and_only_by_the_buyer(world: Any, published: Any) -> None:
    request_id = published()
    full = match_of(request_id, world.suppliers["full"])
    url = f"/api/v1/matches/{full.id}/outcome/"
    assert client_for(world.buyer).post(url, {"outcome": "good"}, format="json").status_code == 409
    sme = client_for(world.sme_users["full"])
    assert sme.post(url, {"outcome": "good"}, format="json").status_code == 403
    response = client_for(world.buyer).post(url, {"outcome": "superb"}, format="json")
    assert response.status_code == 400


# ------------------------------------------------------------------ the SME's side


def test_opportunities_show_the_published_request_only(world: Any, published: Any) -> None:
    request_id = published(weights={"distance": 0.5}, prefer_micro_small=True)
    supplier = world.suppliers["full"]
    url = f"/api/v1/suppliers/{supplier.id}/opportunities/"
    response = client_for(world.sme_users["full"]).get(url)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["request"]["id"] for r in results] == [request_id]
    opportunity = results[0]
    # The public score: the buyer's weights and private factors (here a heavy distance
    # weight and a policy preference) do not reach the supplier through it.
    match = match_of(request_id, supplier)
    assert opportunity["score"] == match.public_score
    assert match.public_score != match.score
    assert opportunity["reasons"]
    for private in ("weights", "delivery_latitude", "delivery_pin_code", "prefer_micro_small"):
        assert private not in opportunity["request"]
    # Closed requests are no longer opportunities.
    client_for(world.buyer).post(f"/api/v1/requests/{request_id}/close/")
    assert client_for(world.sme_users["full"]).get(url).json()["results"] == []


def test_opportunities_best_first(world: Any, published: Any) -> None:
    first = published(title="Close by")
    second = published(title="Only milling", required_capabilities=["jet-milling"])
    url = f"/api/v1/suppliers/{world.suppliers['half'].id}/opportunities/"
    results = client_for(world.sme_users["half"]).get(url).json()["results"]
    assert [r["request"]["id"] for r in results] == [second, first]
    assert results[0]["score"] >= results[1]["score"]


def test_gaps_group_near_misses(world: Any, published: Any) -> None:
    for n in range(3):
        published(title=f"Request {n}")
    published(title="Needs IATF", required_certifications=["iso-9001", "iatf-16949"],
              preferred_certifications=[])  # fmt: skip
    supplier = world.suppliers["expired"]
    response = client_for(world.sme_users["expired"]).get(f"/api/v1/suppliers/{supplier.id}/gaps/")
    assert response.status_code == 200
    # The shape of every list (issue 11): one page, no next.
    assert response.json()["next"] is None
    assert response.json()["previous"] is None
    gaps = response.json()["results"]
    assert gaps[0]["constraint"] == "certification:iso-9001"
    assert gaps[0]["request_count"] == 3
    name = Certification.objects.get(code="iso-9001").name
    assert gaps[0]["summary"] == (
        f"a certificate of {name} valid through the needed-by date would qualify you for "
        "3 open requests"
    )
    # The fourth request needs IATF as well: two constraints missed, not a near miss.
    assert [g["constraint"] for g in gaps] == ["certification:iso-9001"]
    assert len(gaps[0]["requests"]) == 3


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("own_sme", 200),
        ("other_sme", 403),
        ("buyer", 403),
        ("operator", 200),
        ("onboarding_portal", 200),
        ("anonymous", 401),
    ],
)
def test_opportunity_and_gap_permissions(
    world: Any, published: Any, who: str, expected: int
) -> None:
    published()
    supplier = world.suppliers["full"]
    supplier.onboarded_by = world.portal_org
    supplier.claimed_at = None
    supplier.save()
    from tests.factories import MembershipFactory

    portal_user = MembershipFactory(organization=world.portal_org).user
    clients = {
        "own_sme": client_for(world.sme_users["full"]),
        "other_sme": client_for(world.sme_users["half"]),
        "buyer": client_for(world.buyer),
        "operator": client_for(world.operator),
        "onboarding_portal": client_for(portal_user),
        "anonymous": APIClient(),
    }
    for tail in ("opportunities", "gaps"):
        response = clients[who].get(f"/api/v1/suppliers/{supplier.id}/{tail}/")
        assert response.status_code == expected, (tail, response.json())


def test_opportunities_of_an_unknown_supplier_are_404(world: Any) -> None:
    import uuid

    client = client_for(world.operator)
    assert client.get(f"/api/v1/suppliers/{uuid.uuid4()}/opportunities/").status_code == 404
    assert client.get("/api/v1/suppliers/not-a-uuid/gaps/").status_code == 404


def test_old_matches_keep_their_own_factor_names_under_a_new_algorithm(
    world: Any, published: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A future version that reorders (and adds) factors must not relabel stored matches:
    each match is read with the factor list of the version that scored it."""
    from matching import scoring

    request_id = published()
    match = Match.objects.filter(request_id=request_id).order_by("-score").first()
    old_version = match.algorithm_version
    old_names = scoring.FACTORS_BY_VERSION[old_version]
    stored = dict(zip(old_names, match.factors, strict=True))
    new_factors = ("price", *reversed(old_names))
    monkeypatch.setattr(scoring, "ALGORITHM_VERSION", "remag-2099.1.1")
    monkeypatch.setattr(scoring, "FACTORS", new_factors)
    monkeypatch.setitem(scoring.FACTORS_BY_VERSION, "remag-2099.1.1", new_factors)

    response = client_for(world.buyer).get(f"/api/v1/matches/{match.id}/")

    assert response.status_code == 200
    factors = response.json()["factors"]
    assert [f["name"] for f in factors] == list(old_names)
    for factor in factors:
        assert [factor["value"], factor["weight"], factor["contribution"]] == stored[factor["name"]]


def test_a_match_of_an_unknown_version_is_named_by_position_not_guessed(
    world: Any, published: Any
) -> None:
    request_id = published()
    match = Match.objects.filter(request_id=request_id).first()
    Match.objects.filter(id=match.id).update(algorithm_version="remag-unknown")

    factors = client_for(world.buyer).get(f"/api/v1/matches/{match.id}/").json()["factors"]

    assert [f["name"] for f in factors] == [f"factor_{n}" for n in range(1, len(factors) + 1)]


def test_a_transition_honours_idempotency_key(world: Any, published: Any) -> None:
    match = match_of(published(), world.suppliers["far"])
    client = client_for(world.buyer)
    url = f"/api/v1/matches/{match.id}/transitions/"

    first = client.post(url, {"status": "shortlisted"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post(url, {"status": "shortlisted"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert MatchTransition.objects.filter(match=match).count() == 1
    # Without the key a repeated move is refused by the lifecycle.
    assert client.post(url, {"status": "shortlisted"}, format="json").status_code == 409


def test_a_match_without_an_outcome_sends_null(world: Any, published: Any) -> None:
    match = match_of(published(), world.suppliers["far"])

    body = client_for(world.buyer).get(f"/api/v1/matches/{match.id}/").json()

    assert body["outcome"] is None


def test_match_list_does_not_load_the_request_relations(world: Any, published: Any) -> None:
    """The matches action reads the request only to check access: none of the request's
    capability, certification or grade relations is queried."""
    request_id = published()
    client = client_for(world.buyer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/requests/{request_id}/matches/").status_code == 200
        assert client.get(f"/api/v1/requests/{request_id}/match-runs/").status_code == 200
    touched = " ".join(q["sql"] for q in queries.captured_queries)
    for relation in ("required_capabilities", "required_certifications", "grades"):
        assert f"procurementrequest_{relation}" not in touched, relation
