"""The demo magnet market (`make run`): every body passes the API, and seeding shows
ranked offers, a near miss and a pool."""

from typing import Any

import pytest
from django.core.management import call_command

from matching.magnets import demo
from matching.magnets.models import MagnetMatch, MagnetNearMiss, MagnetPool, MagnetRequirement
from remag.accounts.demo import demo_accounts_ensure
from suppliers.taxonomy import taxonomy_load
from tests.matching.magnets.conftest import Market, client_for, run_queued

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("spec", [s for _, s in demo.DEMO_OFFERS], ids=lambda s: s["title"])
def test_each_demo_offer_passes_the_api(market: Market, spec: dict[str, Any]) -> None:
    response = client_for(market.maker).post(
        "/api/v1/magnets/offers/", demo.offer_body(spec), format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("spec", [s for _, s in demo.DEMO_REQUIREMENTS], ids=lambda s: s["title"])
def test_each_demo_requirement_passes_the_api(market: Market, spec: dict[str, Any]) -> None:
    response = client_for(market.buyer).post(
        "/api/v1/magnets/requirements/", demo.requirement_body(spec), format="json"
    )
    assert response.status_code == 201, response.json()


def test_seeding_shows_ranked_offers_a_near_miss_and_a_pool() -> None:
    taxonomy_load()
    demo_accounts_ensure()
    call_command("seed_demo_magnets")
    run_queued()  # a worker's job (eager without a broker)
    rotor = MagnetRequirement.objects.get(title="Rotor arcs for a 60 kW traction motor")
    assert MagnetMatch.objects.filter(requirement=rotor).count() == 1
    servo = MagnetRequirement.objects.get(title__startswith="Blocks for servo motors")
    assert MagnetMatch.objects.filter(requirement=servo).count() == 1
    uh = MagnetRequirement.objects.get(title__startswith="High-temperature arcs")
    (miss,) = MagnetNearMiss.objects.filter(requirement=uh)
    assert miss.reason == "offers arcs only up to 60 mm (needs 64 mm)"
    pool = MagnetPool.objects.get()
    assert pool.members.count() == 2
    call_command("seed_demo_magnets")  # nothing twice
    assert MagnetRequirement.objects.count() == len(demo.DEMO_REQUIREMENTS)
