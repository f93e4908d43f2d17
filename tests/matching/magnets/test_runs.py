"""What a magnet run writes: only the matches and near misses that changed, and the same
rows a run from nothing would leave."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from matching.magnets import runs, services
from matching.magnets.api.serializers import MagnetOfferSerializer, MagnetRequirementSerializer
from matching.magnets.models import (
    MagnetMatch,
    MagnetNearMiss,
    MagnetOffer,
    MagnetRequirement,
    MagnetRun,
)
from tests.matching.magnets.conftest import (
    Market,
    make_offer,
    make_requirement,
    offer_body,
    requirement_body,
    run_queued,
)

TOO_BIG = {"outer_radius_mm": 52, "inner_radius_mm": 47, "angle_deg": 30, "length_mm": 40}


def _matches(offer: MagnetOffer) -> dict[str, tuple[Any, ...]]:
    return {
        str(m.requirement_id): (
            m.id,
            m.run_id,
            m.updated_at,
            m.score,
            m.public_score,
            m.factors,
            m.reasons,
            m.qualifies,
        )  # fmt: skip
        for m in MagnetMatch.objects.filter(offer=offer)
    }


def _misses(offer: MagnetOffer) -> dict[str, tuple[Any, ...]]:
    return {
        str(m.requirement_id): (m.id, m.constraint, m.reason)
        for m in MagnetNearMiss.objects.filter(offer=offer)
    }


def _rerun(offer: MagnetOffer) -> Any:
    run, _ = runs.magnet_run_create(offer=MagnetOffer.objects.get(id=offer.id), trigger="manual")
    (done,) = run_queued()
    assert done.id == run.id
    return done


@pytest.fixture
def leads(market: Market) -> tuple[MagnetOffer, list[Any]]:
    """A published offer, two requirements it matches and one it misses by its size."""
    offer = make_offer(market.maker_org, shapes=[
        {"shape": "arc", "min_mm": 2, "max_mm": 50, "tolerance_mm": 0.05}])  # fmt: skip
    requirements = [
        make_requirement(market.buyer_org, quantity_per_month="400"),
        make_requirement(market.buyer_org, quantity_per_month="900"),
        make_requirement(market.buyer_org, dimensions=TOO_BIG),
    ]
    return offer, requirements


def test_a_rerun_with_nothing_changed_writes_nothing(leads: tuple[MagnetOffer, list[Any]]) -> None:
    offer, requirements = leads
    matches, misses = _matches(offer), _misses(offer)
    assert set(matches) == {str(r.id) for r in requirements[:2]}
    assert set(misses) == {str(requirements[2].id)}

    _rerun(offer)

    assert _matches(offer) == matches  # same rows: ids, runs and update times included
    assert _misses(offer) == misses


def test_a_match_stored_without_a_digest_is_written_again_once(
    leads: tuple[MagnetOffer, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written before digests were stored (or whose digest is unknown) are written
    again by their next run, with the same values and a digest; the run after leaves
    them. A run on another day writes every pair again (its day is in the digest)."""
    offer, (first, second, _) = leads
    MagnetMatch.objects.filter(offer=offer, requirement=first).update(digest=None)
    before = _matches(offer)
    assert MagnetMatch.objects.filter(offer=offer, digest__isnull=False).count() == 1

    run = _rerun(offer)
    after = _matches(offer)
    assert after[str(first.id)][1] == run.id
    assert after[str(first.id)][3:] == before[str(first.id)][3:]  # the same values
    assert after[str(second.id)] == before[str(second.id)]  # untouched
    assert not MagnetMatch.objects.filter(offer=offer, digest__isnull=True).exists()
    _rerun(offer)
    assert _matches(offer) == after

    tomorrow = runs.timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr(runs.timezone, "localdate", lambda: tomorrow)
    run = _rerun(offer)
    assert {row[1] for row in _matches(offer).values()} == {run.id}


def test_a_kept_match_that_qualifies_again_is_written_again_whatever_its_digest(
    leads: tuple[MagnetOffer, list[Any]],
) -> None:
    """A match the parties acted on is kept with ``qualifies`` false when its pair stops
    qualifying; when the pair qualifies again with the very inputs it had (the same
    digest), the run still writes it: the stored row says it does not qualify."""
    offer, (first, _, _) = leads
    stored = MagnetMatch.objects.get(offer=offer, requirement=first)
    MagnetMatch.objects.filter(id=stored.id).update(qualifies=False, status="interested")

    run = _rerun(offer)

    again = MagnetMatch.objects.get(id=stored.id)
    assert (again.qualifies, again.status, again.run_id) == (True, "interested", run.id)
    assert again.digest == stored.digest


def test_a_rerun_rewrites_what_changed_and_leaves_what_a_run_from_nothing_would(
    leads: tuple[MagnetOffer, list[Any]],
) -> None:
    offer, (steady, moved, missed) = leads
    before_matches, before_misses = _matches(offer), _misses(offer)
    # Changed underneath, saved (derived fields and all) without their own runs: one
    # match's quantity, one near miss's size (another reason), and a match that now misses
    # by its grade.
    third = make_requirement(moved.owner)
    for requirement, change in (
        (moved, {"quantity_per_month": Decimal("4000")}),
        (missed, {"dimensions": {**TOO_BIG, "outer_radius_mm": 60, "inner_radius_mm": 55}}),
        (third, {"grade": "n48uh"}),
    ):
        requirement.refresh_from_db()
        for name, value in change.items():
            setattr(requirement, name, value)
        services._derive(requirement)
        requirement.save()
    assert str(third.id) in _matches(offer)

    run = _rerun(offer)

    matches, misses = _matches(offer), _misses(offer)
    assert matches[str(steady.id)] == before_matches[str(steady.id)]
    assert matches[str(moved.id)][0] == before_matches[str(moved.id)][0]  # the same row
    assert matches[str(moved.id)][1] == run.id
    assert matches[str(moved.id)][3] != before_matches[str(moved.id)][3]
    assert str(third.id) not in matches  # proposed, so gone
    assert misses[str(missed.id)][2] != before_misses[str(missed.id)][2]
    assert "60" in misses[str(missed.id)][2]
    assert misses[str(third.id)][1] == "grade"

    # A run from nothing leaves the same scores, explanations and near misses.
    MagnetMatch.objects.filter(offer=offer).delete()
    MagnetNearMiss.objects.filter(offer=offer).delete()
    _rerun(offer)

    def content(rows: dict[str, tuple[Any, ...]], start: int) -> dict[str, tuple[Any, ...]]:
        return {key: row[start:] for key, row in rows.items()}

    assert content(_matches(offer), 3) == content(matches, 3)
    assert content(_misses(offer), 1) == content(misses, 1)


def test_a_requirement_rerun_writes_only_what_changed(market: Market) -> None:
    """The other direction: a requirement's run against the offers."""
    kept = make_offer(market.maker_org)
    changed = make_offer(market.other_maker_org)
    requirement = make_requirement(market.buyer_org)
    before = {
        str(m.offer_id): (m.id, m.run_id, m.updated_at, m.score)
        for m in MagnetMatch.objects.filter(requirement=requirement)
    }
    assert set(before) == {str(kept.id), str(changed.id)}
    MagnetOffer.objects.filter(id=changed.id).update(lead_time_days=120)

    run, _ = runs.magnet_run_create(requirement=requirement, trigger="manual")
    run_queued()

    after = {
        str(m.offer_id): (m.id, m.run_id, m.updated_at, m.score)
        for m in MagnetMatch.objects.filter(requirement=requirement)
    }
    assert after[str(kept.id)] == before[str(kept.id)]
    assert after[str(changed.id)][:2] == (before[str(changed.id)][0], run.id)
    assert after[str(changed.id)][3] != before[str(changed.id)][3]


@pytest.mark.django_db(transaction=True)
def test_a_run_waits_for_the_other_directions_write_of_their_shared_pair(
    postgres: None, market: Market
) -> None:
    """An offer's run scored the pair while the requirement asked for 4,000 kg; the buyer
    went back to 400 and the requirement's run scored that, equal to what is stored. The
    offer's run writes first and has not committed: the requirement's run must wait for
    it and then write its own, fresher score, not find the pair "unchanged" in what was
    committed before and leave the offer's stale score to land after it."""
    import threading

    from django.db import connections, transaction
    from django.utils import timezone

    from matching.magnets import scoring

    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org, quantity_per_month="400")
    fresh = MagnetMatch.objects.get(offer=offer, requirement=requirement).score

    def asking(quantity: str) -> None:
        requirement.refresh_from_db()
        requirement.quantity_per_month = Decimal(quantity)
        services._derive(requirement)
        requirement.save()

    day = timezone.localdate()
    asking("4000")
    batch, *_ = runs.load_for_offer(MagnetOffer.objects.get(id=offer.id))
    by_offer = scoring.score(batch, run_date=day, rank_by="requirement")
    asking("400")
    batch, *_ = runs.load_for_requirement(MagnetRequirement.objects.get(id=requirement.id), day=day)
    by_requirement = scoring.score(batch, run_date=day, rank_by="offer")
    assert round(float(by_offer.scores[by_offer.order[0]]), 2) != fresh

    holding, release, finished = threading.Event(), threading.Event(), threading.Event()

    def offer_side() -> None:
        try:
            with transaction.atomic():
                subject = MagnetOffer.objects.select_for_update(no_key=True).get(id=offer.id)
                runs.write_results(result=by_offer, run=None, offer=subject)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    def requirement_side() -> None:
        try:
            with transaction.atomic():
                subject = MagnetRequirement.objects.select_for_update(no_key=True).get(
                    id=requirement.id
                )
                runs.write_results(result=by_requirement, run=None, requirement=subject)
            finished.set()
        finally:
            connections.close_all()

    first = threading.Thread(target=offer_side)
    first.start()
    assert holding.wait(30)
    second = threading.Thread(target=requirement_side)
    second.start()
    waited = not finished.wait(1.0)  # still waiting while the offer's run holds the pair
    release.set()
    first.join(30)
    second.join(30)

    assert waited
    assert finished.is_set()
    assert MagnetMatch.objects.get(offer=offer, requirement=requirement).score == fresh


def test_an_offer_saved_while_its_run_loads_is_scored_as_saved(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The maker changes its offer after the offer's run has read it (the change queues
    another run, which may finish first): the run reads again under the offer's lock,
    rather than write its pairs from the offer as it was."""
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org)
    before = MagnetMatch.objects.get(offer=offer, requirement=requirement).score
    load = runs.load_for_offer
    calls = []

    def load_then_change(subject: MagnetOffer) -> Any:
        loaded = load(subject)
        if not calls:  # the maker saves its change just after the run's read
            changed = MagnetOffer.objects.get(id=offer.id)
            changed.lead_time_days = 120
            changed.save()
        calls.append(subject.id)
        return loaded

    monkeypatch.setattr(runs, "load_for_offer", load_then_change)
    _rerun(offer)
    written = MagnetMatch.objects.get(offer=offer, requirement=requirement).score
    monkeypatch.undo()
    MagnetMatch.objects.filter(offer=offer).delete()
    _rerun(offer)  # from nothing, with the offer as saved

    assert written == MagnetMatch.objects.get(offer=offer, requirement=requirement).score
    assert written != before
    assert len(calls) == 2  # read again under the lock


def test_a_run_whose_subject_did_not_change_reads_once(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer = make_offer(market.maker_org)
    make_requirement(market.buyer_org)
    load = runs.load_for_offer
    calls = []

    def counted(subject: MagnetOffer) -> Any:
        calls.append(subject.id)
        return load(subject)

    monkeypatch.setattr(runs, "load_for_offer", counted)
    _rerun(offer)
    assert len(calls) == 1


def test_an_offer_withdrawn_while_a_requirement_run_loads_gets_no_match_back(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The withdrawal removes the offer's proposed matches; a requirement's run that read
    the offer as published before must not write its match back."""
    kept = make_offer(market.maker_org)
    withdrawn = make_offer(market.other_maker_org)
    requirement = make_requirement(market.buyer_org)
    assert MagnetMatch.objects.filter(requirement=requirement).count() == 2
    load = runs.load_for_requirement

    def load_then_withdraw(subject: Any, *, day: Any) -> Any:
        loaded = load(subject, day=day)
        services.offer_withdraw(offer=MagnetOffer.objects.get(id=withdrawn.id))
        return loaded

    monkeypatch.setattr(runs, "load_for_requirement", load_then_withdraw)
    run, _ = runs.magnet_run_create(
        requirement=MagnetRequirement.objects.get(id=requirement.id), trigger="manual"
    )
    (done,) = run_queued()
    assert (done.id, done.matched_count, done.near_miss_count) == (run.id, 1, 0)

    assert set(
        MagnetMatch.objects.filter(requirement=requirement).values_list("offer_id", flat=True)
    ) == {kept.id}
    assert not MagnetNearMiss.objects.filter(offer_id=withdrawn.id).exists()


def _queued_run_of(**subject: Any) -> Any:
    from matching.magnets.models import MagnetRun

    return MagnetRun.objects.get(status="queued", **subject)


def _fresh_score(offer: MagnetOffer, requirement: MagnetRequirement) -> float:
    """The pair's score from both sides as they are now (a run from nothing)."""
    MagnetMatch.objects.filter(offer=offer).delete()
    _rerun(offer)
    return MagnetMatch.objects.get(offer=offer, requirement=requirement).score


def test_an_offer_run_leaves_a_requirement_changed_since_its_load_to_that_requirements_run(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The buyer changes its requirement after the offer's run read it, and the
    requirement's own run writes the pair first: the offer's run must not overwrite that
    fresher row with a score from the requirement as it was."""
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org, quantity_per_month="400")
    load = runs.load_for_offer

    def load_then_change(subject: MagnetOffer) -> Any:
        loaded = load(subject)
        services.requirement_update(
            requirement=MagnetRequirement.objects.get(id=requirement.id),
            data={"quantity_per_month": Decimal("1800")},
            by=None,
        )
        runs.magnet_run_execute(run_id=_queued_run_of(requirement=requirement).id)
        return loaded

    monkeypatch.setattr(runs, "load_for_offer", load_then_change)
    done = _rerun(offer)
    written = MagnetMatch.objects.get(offer=offer, requirement=requirement)
    monkeypatch.undo()

    assert done.matched_count == 0  # its one pair was the requirement run's to write
    assert written.run.direction == "requirement"
    assert written.score == _fresh_score(offer, requirement)


def test_a_requirement_run_leaves_an_offer_changed_since_its_load_to_that_offers_run(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org)
    load = runs.load_for_requirement

    def load_then_change(subject: Any, *, day: Any) -> Any:
        loaded = load(subject, day=day)
        services.offer_update(
            offer=MagnetOffer.objects.get(id=offer.id), data={"lead_time_days": 80}, by=None
        )
        runs.magnet_run_execute(run_id=_queued_run_of(offer=offer).id)
        return loaded

    monkeypatch.setattr(runs, "load_for_requirement", load_then_change)
    run, _ = runs.magnet_run_create(
        requirement=MagnetRequirement.objects.get(id=requirement.id), trigger="manual"
    )
    (done,) = run_queued()
    written = MagnetMatch.objects.get(offer=offer, requirement=requirement)
    monkeypatch.undo()

    assert done.id == run.id
    assert written.run.direction == "offer"
    assert written.score == _fresh_score(offer, requirement)


def test_a_requirement_closed_while_an_offer_run_loads_gets_no_new_lead(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    requirement = make_requirement(market.buyer_org)
    body = MagnetOfferSerializer(data=offer_body())
    assert body.is_valid(), body.errors
    offer = services.offer_create(owner=market.maker_org, created_by=None, data=body.validated_data)
    load = runs.load_for_offer

    def load_then_close(subject: MagnetOffer) -> Any:
        loaded = load(subject)
        services.requirement_close(requirement=MagnetRequirement.objects.get(id=requirement.id))
        return loaded

    monkeypatch.setattr(runs, "load_for_offer", load_then_close)
    services.offer_publish(offer=offer, by=None)
    (done,) = run_queued()

    assert done.matched_count == 0
    assert not MagnetMatch.objects.filter(offer=offer).exists()


def test_a_requirement_opened_while_an_offer_run_loads_keeps_the_match_its_run_wrote(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A requirement opened after the offer's run read the open ones: its own run pairs
    it with the offer; the offer's run, which never read it, must not remove that match
    as one that stopped qualifying."""
    offer = make_offer(market.maker_org)
    first = make_requirement(market.buyer_org)
    body = MagnetRequirementSerializer(data=requirement_body(quantity_per_month="700"))
    assert body.is_valid(), body.errors
    late = services.requirement_create(
        owner=market.buyer_org, created_by=None, data=body.validated_data
    )
    load = runs.load_for_offer

    def load_then_open(subject: MagnetOffer) -> Any:
        loaded = load(subject)
        _, run = services.requirement_open(
            requirement=MagnetRequirement.objects.get(id=late.id), by=None
        )
        runs.magnet_run_execute(run_id=run.id)
        return loaded

    monkeypatch.setattr(runs, "load_for_offer", load_then_open)
    done = _rerun(offer)

    assert done.matched_count == 1
    assert set(
        MagnetMatch.objects.filter(offer=offer).values_list("requirement_id", flat=True)
    ) == {
        first.id,
        late.id,
    }


def test_a_requirement_changed_from_a_near_miss_to_a_match_during_an_offer_run_keeps_one_row(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The requirement's own run turns the pair's near miss into a match; the offer's
    run, which read the requirement too big, must neither write the near miss back nor
    remove the match."""
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org, dimensions=TOO_BIG)
    assert MagnetNearMiss.objects.filter(offer=offer, requirement=requirement).exists()
    load = runs.load_for_offer

    def load_then_fit(subject: MagnetOffer) -> Any:
        loaded = load(subject)
        services.requirement_update(
            requirement=MagnetRequirement.objects.get(id=requirement.id),
            data={"dimensions": requirement_body()["dimensions"]},
            by=None,
        )
        runs.magnet_run_execute(run_id=_queued_run_of(requirement=requirement).id)
        return loaded

    monkeypatch.setattr(runs, "load_for_offer", load_then_fit)
    _rerun(offer)

    assert MagnetMatch.objects.filter(offer=offer, requirement=requirement).exists()
    assert not MagnetNearMiss.objects.filter(offer=offer, requirement=requirement).exists()


def test_an_offer_run_keeps_a_draft_requirements_preview_match(market: Market) -> None:
    """A draft requirement's run previews its matches; an offer's run (which pairs only
    open requirements) leaves them, as it leaves those of closed ones."""
    offer = make_offer(market.maker_org)
    body = MagnetRequirementSerializer(data=requirement_body())
    assert body.is_valid(), body.errors
    draft = services.requirement_create(
        owner=market.buyer_org, created_by=None, data=body.validated_data
    )
    runs.magnet_run_create(requirement=draft, trigger="manual")
    run_queued()
    assert MagnetMatch.objects.filter(offer=offer, requirement=draft).exists()

    _rerun(offer)

    assert MagnetMatch.objects.filter(offer=offer, requirement=draft).exists()


def test_a_run_queued_again_after_a_failure_is_not_reused_for_a_new_change(
    market: Market,
) -> None:
    """It may have read the subject before the change, and a later run that succeeded
    meanwhile would make it write nothing: a change queues a run of its own."""
    offer = make_offer(market.maker_org)
    failed, _ = runs.magnet_run_create(offer=MagnetOffer.objects.get(id=offer.id), trigger="manual")
    MagnetRun.objects.filter(id=failed.id).update(attempts=1, failures=1)  # back in the queue

    again, created = runs.magnet_run_create(
        offer=MagnetOffer.objects.get(id=offer.id), trigger="update"
    )
    assert created
    assert again.id != failed.id
    fresh, reused = runs.magnet_run_create(
        offer=MagnetOffer.objects.get(id=offer.id), trigger="update"
    )
    assert (fresh.id, reused) == (again.id, False)  # a run that never started is reused
