"""A request's matches are listed from plain column values (``MatchViewSet`` builds
them without ``MatchSerializer``); each must read exactly as its detail, which the
serializer writes, for every caller who may list them: the buyer and operators. Contact
details once shared, outcomes, statuses changed and matches of an older algorithm
version (named by its own factors) included."""

from typing import Any

import pytest
from django.utils import timezone

from matching.models import Match
from matching.scoring import FACTORS_BEFORE_GRADES
from tests.matching.conftest import World, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["buyer", "operator"])
def test_every_listed_match_reads_as_its_detail(world: World, published: Any, who: str) -> None:
    request_id = published()
    matches = list(Match.objects.filter(request_id=request_id).order_by("-score"))
    assert len(matches) >= 2
    first, second = matches[0], matches[1]
    now = timezone.now()
    Match.objects.filter(id=first.id).update(
        status="awarded", status_changed_at=now, contact_shared_at=now, outcome="good", score=100.0
    )
    old_factors = [[0.5, 0.125, 6.25] for _ in FACTORS_BEFORE_GRADES]
    Match.objects.filter(id=second.id).update(
        algorithm_version="remag-2026.11.1", factors=old_factors
    )
    client = client_for(getattr(world, who))

    listed = client.get(f"/api/v1/requests/{request_id}/matches/", {"page_size": 50})

    assert listed.status_code == 200
    items = listed.json()["results"]
    assert len(items) == len(matches)
    for item in items:
        detail = client.get(f"/api/v1/matches/{item['id']}/").json()
        assert item == detail
        assert list(item) == list(detail)
    shown = {item["id"]: item for item in items}
    assert shown[str(first.id)]["supplier"]["contact"] is not None
    assert shown[str(first.id)]["outcome"] == "good"
    assert isinstance(shown[str(first.id)]["score"], float)  # 100.0, as the detail writes it
    assert [f["name"] for f in shown[str(second.id)]["factors"]] == list(FACTORS_BEFORE_GRADES)


def test_pages_of_matches_follow_the_cursor(world: World, published: Any) -> None:
    request_id = published()
    client = client_for(world.buyer)
    seen: list[str] = []
    url: str | None = f"/api/v1/requests/{request_id}/matches/?page_size=1"
    while url:
        page = client.get(url).json()
        seen += [item["id"] for item in page["results"]]
        url = page["next"]

    expected = Match.objects.filter(request_id=request_id).order_by("-score", "supplier_id")
    assert seen == [str(m.id) for m in expected]
