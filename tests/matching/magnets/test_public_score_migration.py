"""The migration that gave stored magnet matches their public score (magnets 0003): each
row gets the score its maker reads, from its own stored factors, as the run that wrote it
would have computed it; a row in no known shape gets 0 rather than an error."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from matching.magnets.models import MagnetMatch
from tests.matching.magnets.conftest import Market, make_offer, make_requirement

MAGNETS_BEFORE = [("magnets", "0002_pool_required_certifications")]


def _migrate(targets: list[tuple[str, str]]) -> None:
    MigrationExecutor(connection).migrate(targets)


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_stored_magnet_matches_get_the_score_the_maker_reads(
    market: Market, back_to_latest: None
) -> None:
    make_offer(market.maker_org)
    make_offer(market.other_maker_org, lead_time_days=90, price_min_inr_per_kg="3200")
    make_requirement(market.buyer_org)
    make_requirement(market.buyer_org, budget_inr_per_kg=None, delivery_latitude=None,
                     delivery_longitude=None)  # fmt: skip
    written = {m.id: m.public_score for m in MagnetMatch.objects.all()}
    assert len(written) >= 3
    odd = MagnetMatch.objects.exclude(id__in=list(written)[:1]).first()
    assert odd is not None
    MagnetMatch.objects.filter(id=odd.id).update(factors=[[True, 1, 1]] * 6)

    _migrate(MAGNETS_BEFORE)
    _migrate(_latest())

    after = {m.id: m.public_score for m in MagnetMatch.objects.all()}
    assert after.pop(odd.id) == 0.0
    for match_id, public in after.items():
        assert public == pytest.approx(written[match_id], abs=0.011)
