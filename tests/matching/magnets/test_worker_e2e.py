"""The magnet market on PostgreSQL and Redis with a real Celery worker: a maker publishes
an offer (the worker scores its leads), a downstream SME opens a requirement (the worker
ranks the offers), the SME reads ranked, explained offers and says interested, and the
maker reads its lead with the buyer's name."""

from typing import Any

import pytest

from matching.magnets.models import MagnetRun
from tests.conftest import wait_for
from tests.matching.magnets.conftest import Market, client_for, offer_body, requirement_body

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def wait_for_run(location: str) -> MagnetRun:
    run_id = location.rstrip("/").rsplit("/", 1)[1]
    run = wait_for(
        lambda: MagnetRun.objects.filter(id=run_id, status__in=("succeeded", "failed")).first()
    )
    assert run.status == "succeeded", run.error
    return run


def test_a_requirement_is_matched_by_the_worker(
    postgres: None, celery_worker_process: Any, market: Market
) -> None:
    celery_worker_process()
    maker, buyer = client_for(market.maker), client_for(market.buyer)
    offer = maker.post("/api/v1/magnets/offers/", offer_body(), format="json").json()
    published = maker.post(f"{offer['url']}publish/")
    assert published.status_code == 200
    offer_run = wait_for_run(published["Location"])
    assert offer_run.direction == "offer"

    requirement = buyer.post(
        "/api/v1/magnets/requirements/",
        requirement_body(),
        format="json",
        HTTP_IDEMPOTENCY_KEY="e2e-1",
    ).json()
    opened = buyer.post(f"{requirement['url']}open/")
    run = wait_for_run(opened["Location"])
    assert (run.direction, run.candidate_count, run.matched_count) == ("requirement", 1, 1)
    assert buyer.get(f"/api/v1/magnets/runs/{run.id}/").json()["status"] == "succeeded"

    (match,) = buyer.get(requirement["matches_url"]).json()["results"]
    assert match["offer"]["maker"]["name"] == "Kaveri"
    assert match["score"] > 50
    assert round(sum(100 * f["contribution"] for f in match["factors"])) == round(
        100 * match["score"]
    )
    assert any(r.startswith("plant about") for r in match["reasons"])

    (lead,) = maker.get(offer["leads_url"]).json()["results"]
    assert lead["buyer"] is None
    moved = buyer.post(f"{match['url']}transitions/", {"status": "interested"}, format="json")
    assert moved.status_code == 201
    (lead,) = maker.get(offer["leads_url"]).json()["results"]
    assert lead["buyer"]["name"] == "Rotor Works"

    # A new offer from the other maker: the worker's offer run adds it to the ranking.
    second = (
        client_for(market.other_maker)
        .post("/api/v1/magnets/offers/", offer_body(lead_time_days=120), format="json")
        .json()
    )
    wait_for_run(client_for(market.other_maker).post(f"{second['url']}publish/")["Location"])
    ranked = buyer.get(requirement["matches_url"]).json()["results"]
    assert [m["offer"]["id"] for m in ranked] == [offer["id"], second["id"]]
