"""What an SME may read of its own match: what the buyer published, never the buyer's
private criteria (delivery point and radius, weights, policy preferences)."""

from typing import Any
from uuid import UUID

import pytest

from matching import runs
from matching.models import Match
from matching.scoring import PRIVATE_FACTORS, reason_is_private
from remag.webhooks.models import Event
from suppliers.models import Supplier
from tests.matching.conftest import CHENNAI, client_for

pytestmark = pytest.mark.django_db

PRIVATE_WORDS = ("km away", "policy preference", "distance scored", "km limit")


def assert_supplier_view(factors: list[dict[str, Any]], reasons: list[str]) -> None:
    assert factors, "the supplier still sees the factors it can act on"
    assert {f["name"] for f in factors}.isdisjoint(PRIVATE_FACTORS)
    assert all(f["weight"] is None and f["contribution"] is None for f in factors)
    assert reasons, "the supplier still reads the reasons it can act on"
    for reason in reasons:
        assert not any(word in reason for word in PRIVATE_WORDS), reason


@pytest.fixture
def private_request(world: Any, published: Any) -> str:
    return published(
        prefer_micro_small=True,
        max_distance_km=1500,
        weights={"distance": 3, "policy": 2, "capability_coverage": 1},
    )


def test_the_buyer_sees_the_whole_explanation(world: Any, private_request: str) -> None:
    response = client_for(world.buyer).get(f"/api/v1/requests/{private_request}/matches/")
    full = next(m for m in response.json()["results"] if m["supplier"]["legal_name"][:4] == "Full")
    assert {f["name"] for f in full["factors"]} >= PRIVATE_FACTORS
    assert all(f["weight"] is not None for f in full["factors"])
    assert any("km away" in r for r in full["reasons"])
    assert "micro or small enterprise (policy preference)" in full["reasons"]


def test_the_sme_reads_its_opportunity_without_private_criteria(
    world: Any, private_request: str
) -> None:
    supplier = world.suppliers["full"]
    client = client_for(world.sme_users["full"])
    response = client.get(f"/api/v1/suppliers/{supplier.id}/opportunities/")
    assert response.status_code == 200
    (opportunity,) = [
        o for o in response.json()["results"] if o["request"]["id"] == private_request
    ]
    assert_supplier_view(opportunity["factors"], opportunity["reasons"])
    assert "delivery_latitude" not in opportunity["request"]
    assert "weights" not in opportunity["request"]

    match = client.get(f"/api/v1/matches/{opportunity['match']}/").json()
    assert_supplier_view(match["factors"], match["reasons"])
    assert match["score"] == opportunity["score"]


def test_every_private_reason_the_scorer_writes_is_recognised(
    world: Any, private_request: str
) -> None:
    stored = [r for m in Match.objects.filter(request_id=private_request) for r in m.reasons]
    private = [r for r in stored if reason_is_private(r)]
    assert any("km away" in r for r in private)
    assert any("policy preference" in r for r in private)
    assert any("distance scored neutrally" in r for r in private)  # Half: no coordinates
    public = [r for r in stored if not reason_is_private(r)]
    assert all(not any(word in r for word in PRIVATE_WORDS) for r in public)


# ------------------------------------------------------------------ the public score
# The whole score moves with the private factors: a supplier moving its own plant and
# watching its score could find the buyer's delivery point. What it reads is the public
# score (matching.scoring.public_weights), which nothing private moves.


def _opportunity_scores(world: Any, key: str = "full") -> dict[str, float]:
    supplier = world.suppliers[key]
    response = client_for(world.sme_users[key]).get(
        f"/api/v1/suppliers/{supplier.id}/opportunities/"
    )
    assert response.status_code == 200
    return {o["request"]["id"]: o["score"] for o in response.json()["results"]}


def test_moving_its_plant_moves_the_buyers_score_not_the_one_the_supplier_reads(
    world: Any, private_request: str
) -> None:
    supplier = world.suppliers["full"]
    match = Match.objects.get(request_id=private_request, supplier=supplier)
    before = _opportunity_scores(world)[private_request]
    assert before == match.public_score
    assert match.score != match.public_score

    for latitude, longitude in ((19.9, 73.8), (16.7, 74.2), (21.1, 79.1)):
        Supplier.objects.filter(id=supplier.id).update(latitude=latitude, longitude=longitude)
        runs.supplier_opportunities_refresh(supplier_id=supplier.id)
        moved = Match.objects.get(id=match.id)
        assert moved.score < match.score  # farther from Pune: the buyer's ranking moved
        assert _opportunity_scores(world)[private_request] == before
        detail = client_for(world.sme_users["full"]).get(f"/api/v1/matches/{match.id}/").json()
        assert detail["score"] == before
        buyer_view = client_for(world.buyer).get(f"/api/v1/matches/{match.id}/").json()
        assert buyer_view["score"] == moved.score


def test_the_buyers_weights_and_delivery_point_do_not_reach_the_supplier(
    world: Any, published: Any
) -> None:
    plain = published()
    weighted = published(
        weights={"distance": 9, "policy": 5, "lead_time": 0},
        prefer_micro_small=True,
        delivery_latitude=CHENNAI[0],
        delivery_longitude=CHENNAI[1],
    )
    scores = _opportunity_scores(world)
    assert scores[plain] == scores[weighted]
    whole = {m.request_id: m.score for m in Match.objects.filter(supplier=world.suppliers["full"])}
    assert whole[UUID(plain)] != whole[UUID(weighted)]


def test_opportunities_rank_and_filter_by_the_score_the_supplier_reads(
    world: Any, published: Any
) -> None:
    # Near the buyer with a heavy distance weight, but more than the supplier can make:
    # first by the buyer's score, second by what the supplier reads.
    near = published(quantity="5000", weights={"distance": 20})
    # Far from the buyer, within the supplier's capacity.
    far = published(
        quantity="500",
        weights={"distance": 20},
        delivery_latitude=CHENNAI[0],
        delivery_longitude=CHENNAI[1],
    )
    supplier = world.suppliers["full"]
    whole = {str(m.request_id): m for m in Match.objects.filter(supplier=supplier)}
    assert whole[near].score > whole[far].score
    assert whole[near].public_score < whole[far].public_score

    url = f"/api/v1/suppliers/{supplier.id}/opportunities/"
    client = client_for(world.sme_users["full"])
    listed = client.get(url).json()["results"]
    assert [o["request"]["id"] for o in listed] == [far, near]
    assert [o["score"] for o in listed] == [whole[far].public_score, whole[near].public_score]
    # One per page: the cursor follows the same order.
    first = client.get(url, {"page_size": 1}).json()
    second = client.get(first["next"]).json()
    assert [o["request"]["id"] for o in first["results"] + second["results"]] == [far, near]

    # min_score filters by the same score: the near request's whole score is above it,
    # its public score below.
    threshold = whole[far].public_score
    assert whole[near].score >= threshold
    kept = client.get(url, {"min_score": threshold}).json()["results"]
    assert [o["request"]["id"] for o in kept] == [far]


def test_match_events_carry_the_score_the_supplier_reads(world: Any, private_request: str) -> None:
    match = Match.objects.get(request_id=private_request, supplier=world.suppliers["full"])
    response = client_for(world.buyer).post(
        f"/api/v1/matches/{match.id}/transitions/", {"status": "invited"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["score"] == match.score  # the buyer's own view
    event = Event.objects.get(type="match.invited")
    assert event.payload["match"]["score"] == match.public_score
    assert match.public_score != match.score
