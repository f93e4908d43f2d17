"""The migration that gave stored matches their public score (matching 0010; magnets
0003 in tests/matching/magnets/test_public_score_migration.py): each row gets the score
its supplier reads from its own stored factors, as the run that wrote it would have
computed it, and a row in no known shape gets 0 rather than an error. Its digest is
cleared, so the next run writes it again from its request."""

import importlib
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from matching import runs
from matching.models import Match, MatchRun
from tests.matching.conftest import World, client_for, post_request_as

MATCHING_BEFORE = [("matching", "0009_match_run_no_index")]
MAGNETS_BEFORE = [("magnets", "0002_pool_required_certifications")]

# The stored factors of the nine-factor versions, in order: capability coverage, capacity,
# lead time, distance (private), track record, preferred certifications, text relevance,
# policy (private), grade compatibility ([value, weight, contribution]).
NINE = [
    [0.5, 0.25, 12.5],
    [1.0, 0.15, 15.0],
    [0.2, 0.15, 3.0],
    [0.1, 0.2, 2.0],
    [0.5, 0.1, 5.0],
    [1.0, 0.0, 0.0],  # preferred certifications: weighted 0, but the request asks
    [0.5, 0.1, 5.0],
    [1.0, 0.05, 5.0],
    [0.5, 0.0, 0.0],  # grade compatibility: weighted 0, so not asked
]
# The published request (request_body) has a quantity, a needed-by date and a preferred
# certification it does not require: capability coverage, capacity, lead time, track
# record, preferred certifications and text relevance count, with their default weights
# 0.20, 0.12, 0.12, 0.08, 0.08, 0.08.
# 100 × (0.20×0.5 + 0.12×1.0 + 0.12×0.2 + 0.08×0.5 + 0.08×1.0 + 0.08×0.5) / 0.68
NINE_PUBLIC = 59.41
# Every weight stored as 0 (a buyer weighting some factors heavily rounds the others to
# 0): coverage and track record count all the same, and what the request asks.
# 100 × (0.20×0.75 + 0.12×1.0 + 0.12×1.0 + 0.08×0.5 + 0.08×1.0) / 0.60
ZEROS = [[0.75, 0.0, 0.0], *[[1.0, 0.0, 0.0]] * 3, [0.5, 0.0, 0.0], *[[1.0, 0.0, 0.0]] * 4]
CRAFTED = {
    "nine": (NINE, NINE_PUBLIC, {}),
    "eight": (NINE[:8], NINE_PUBLIC, {}),
    "every weight 0": (ZEROS, 85.0, {}),
    # No quantity, no preferred certification: capacity and preferred certifications do
    # not count. 100 × (0.20×0.5 + 0.12×0.2 + 0.08×0.5 + 0.08×0.5) / 0.48
    "asking less": (
        NINE,
        42.5,
        {"quantity": None, "quantity_unit": "", "preferred_certifications": []},
    ),  # fmt: skip
    "a string for a value": ([["x", 0.2, 0.0], *NINE[1:]], 0.0, {}),
    "a factor not a list": ([0.5, *NINE[1:]], 0.0, {}),
    "too few factors": (NINE[:3], 0.0, {}),
    "not a list": ({"a": 1}, 0.0, {}),
}
# JSON numbers beyond a float's range, written as text (Python cannot write them).
OVERFLOW = (
    "[[1e400, 0.2, 0.0], [1.0, 0.15, 15.0], [0.2, 0.15, 3.0], [0.1, 0.2, 2.0], "
    "[0.5, 0.1, 5.0], [1.0, 0.0, 0.0], [0.5, 0.1, 5.0], [1.0, 0.05, 5.0], [0.5, 0.0, 0.0]]"
)


def publish(world: World, **overrides: Any) -> str:
    """A published request of the world's buyer, matched (its run executed here when no
    worker took it: without Redis, tasks run as the transaction commits)."""
    created = post_request_as(world.buyer, **overrides)
    response = client_for(world.buyer).post(f"/api/v1/requests/{created['id']}/publish/")
    assert response.status_code == 200, response.json()
    for run in MatchRun.objects.filter(request_id=created["id"], status="queued"):
        runs.match_run_execute(run_id=run.id)
    assert Match.objects.filter(request_id=created["id"]).exists()
    return created["id"]


def _migrate(targets: list[tuple[str, str]]) -> None:
    MigrationExecutor(connection).migrate(targets)


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_stored_matches_get_the_public_score_their_run_would_have_written(
    world: World, back_to_latest: None
) -> None:
    request_id = publish(world, prefer_micro_small=True)
    written = {m.id: m.public_score for m in Match.objects.filter(request_id=request_id)}
    assert len(written) >= 2
    crafted = {}
    template = Match.objects.filter(request_id=request_id).first()
    assert template is not None
    for label, (factors, expected, overrides) in CRAFTED.items():
        other = publish(world, title=f"Crafted {label}", **overrides)
        match = Match.objects.filter(request_id=other).first()
        assert match is not None
        Match.objects.filter(id=match.id).update(factors=factors, public_score=99)
        crafted[match.id] = (label, expected)
    other = publish(world, title="Crafted overflow")
    match = Match.objects.filter(request_id=other).first()
    assert match is not None
    cast = "::json" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE matching_match SET factors = %s{cast} WHERE id = %s",  # noqa: S608
            [OVERFLOW, match.id.hex if connection.vendor == "sqlite" else match.id],
        )
    crafted[match.id] = ("overflow", 0.0)

    _migrate(MATCHING_BEFORE)
    _migrate(_latest())

    after = {m.id: m for m in Match.objects.all()}
    for match_id, public in written.items():
        assert after[match_id].public_score == pytest.approx(public, abs=0.011)
    for match_id, (label, expected) in crafted.items():
        assert after[match_id].public_score == pytest.approx(expected, abs=1e-9), label
    assert all(match.digest is None for match in after.values())
    # A match the release before wrote (public score 0, the column's default) is written
    # again by the next run, whatever its digest.
    for _ in range(2):  # the first writes every digest again, the second none
        rerun = MatchRun.objects.create(request_id=request_id, trigger="operator")
        runs.match_run_execute(run_id=rerun.id)
    stale = next(iter(written))
    assert Match.objects.get(id=stale).digest is not None
    Match.objects.filter(id=stale).update(public_score=0)
    rerun = MatchRun.objects.create(request_id=request_id, trigger="operator")
    runs.match_run_execute(run_id=rerun.id)
    assert Match.objects.get(id=stale).public_score == written[stale]


def test_the_rules_agree_with_the_scorers_defaults() -> None:
    """The weights the migrations froze are the scorers' defaults, in stored order."""
    from matching import scoring
    from matching.magnets import scoring as magnet_scoring

    matching_migration: Any = importlib.import_module("matching.migrations.0010_match_public_score")
    magnets_migration: Any = importlib.import_module(
        "matching.magnets.migrations.0003_magnet_match_public_score"
    )
    for module, scorer in ((matching_migration, scoring), (magnets_migration, magnet_scoring)):
        assert [w for w, _ in module.WEIGHTS] == pytest.approx(
            scorer.DEFAULT_WEIGHTS.as_array().tolist()
        )
        assert [not public for _, public in module.WEIGHTS] == [
            name in scorer.PRIVATE_FACTORS for name in scorer.FACTORS
        ]
