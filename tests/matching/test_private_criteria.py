"""What an SME may read of its own match: what the buyer published, never the buyer's
private criteria (delivery point and radius, weights, policy preferences)."""

from typing import Any

import pytest

from matching.models import Match
from matching.scoring import PRIVATE_FACTORS, reason_is_private
from tests.matching.conftest import client_for

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
