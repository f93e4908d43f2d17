"""Magnet match runs: a requirement against the published offers, or an offer against the
open requirements (its leads). A run is a job (:mod:`remag.jobs`) like a procurement match
run: the row is written before the message, the worker loads and scores outside any
transaction, then writes matches, near misses and ``succeeded`` in one transaction
holding the subject's row lock. Running it twice changes nothing.

Keeping both sides fresh (docs/magnets.md, "Re-running"): opening or changing an open
requirement queues its run; publishing or changing a published offer queues the offer's
run, which rescores every open requirement of its material against it. Withdrawing or
expiring an offer removes its proposed matches at once (no run). So every pair is scored
by the later of the two sides' changes.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import date, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from matching.magnets import candidates, scoring
from matching.magnets.choices import (
    MatchStatus,
    OfferStatus,
    RequirementStatus,
    RunDirection,
    RunStatus,
)
from matching.magnets.models import (
    MagnetMatch,
    MagnetNearMiss,
    MagnetOffer,
    MagnetRequirement,
    MagnetRun,
)
from remag import jobs
from remag.db import bulk_copy
from remag.errors import Conflict
from remag.webhooks import events

logger = logging.getLogger(__name__)
WRITE_BATCH = 2000
STALE_BATCH = 500


def _run_finished(run: MagnetRun) -> None:
    events.magnet_run_event(run, run.owner_id)


MAGNET_RUN_JOB = jobs.JobKind(
    name="magnet run",
    model=MagnetRun,
    task_name="magnets.magnet_run_execute",
    queued_timeout=lambda: timedelta(seconds=settings.REMAG_MATCH_RUN_QUEUED_TIMEOUT_SECONDS),
    lease=lambda: timedelta(seconds=settings.REMAG_MATCH_RUN_LEASE_SECONDS),
    on_finished=_run_finished,
    select_related=("requirement", "offer"),
)


def magnet_run_create(
    *,
    requirement: MagnetRequirement | None = None,
    offer: MagnetOffer | None = None,
    trigger: str,
    triggered_by: object = None,
) -> tuple[MagnetRun, bool]:
    """Queue a run of a requirement (open or draft) or of an offer (published); a run still
    queued for the same subject is reused. Returns ``(run, created)``."""
    if requirement is not None:
        if requirement.status not in (RequirementStatus.DRAFT, RequirementStatus.OPEN):
            raise Conflict(
                f"The requirement is {requirement.status}; only draft and open ones are matched.",
                code="requirement_not_runnable",
            )
        subject = {"direction": RunDirection.REQUIREMENT, "requirement": requirement}
        model, subject_id = MagnetRequirement, requirement.id
    else:
        assert offer is not None  # noqa: S101 (a programming error, not input)
        if offer.status != OfferStatus.PUBLISHED:
            raise Conflict(
                f"The offer is {offer.status}; only published offers have leads.",
                code="offer_not_runnable",
            )
        subject = {"direction": RunDirection.OFFER, "offer": offer}
        model, subject_id = MagnetOffer, offer.id
    with transaction.atomic():
        model.objects.select_for_update().filter(id=subject_id).first()
        waiting = MagnetRun.objects.filter(status=RunStatus.QUEUED, **subject).first()
        if waiting is not None:
            return waiting, False
        run = MagnetRun.objects.create(
            trigger=trigger,
            triggered_by=triggered_by,
            algorithm_version=scoring.ALGORITHM_VERSION,
            enqueued_at=timezone.now(),
            **subject,
        )
        jobs.job_send(MAGNET_RUN_JOB, run.id)
    return run, True


def load_for_requirement(
    requirement: MagnetRequirement, *, day: date
) -> tuple[scoring.PairBatch, int]:
    offers = candidates.offer_rows(
        candidates.published_offers(
            material=requirement.material, day=day, buyer_id=requirement.owner_id
        ),
        day=day,
    )
    rows = candidates.requirement_rows(MagnetRequirement.objects.filter(id=requirement.id))
    return candidates.pair(rows, offers), len(offers)


def load_for_offer(offer: MagnetOffer) -> tuple[scoring.PairBatch, int]:
    rows = candidates.requirement_rows(
        candidates.open_requirements(material=offer.material, maker_id=offer.owner_id)
    )
    offer_row = candidates.offer_rows(MagnetOffer.objects.filter(id=offer.id))
    return candidates.pair(rows, offer_row), len(rows)


def magnet_run_execute(*, run_id: object, holder: str = "") -> MagnetRun | None:
    """Run (or finish) a magnet run; returns it as it stands afterwards."""
    run = jobs.job_start(
        MAGNET_RUN_JOB, job_id=run_id, holder=holder, algorithm_version=scoring.ALGORITHM_VERSION
    )
    if run is None:
        return MagnetRun.objects.filter(id=run_id).first()
    day = timezone.localdate()
    by_requirement = run.direction == RunDirection.REQUIREMENT
    started = time.perf_counter()
    if by_requirement:
        subject_model, subject_id = MagnetRequirement, run.requirement_id
        batch, count = load_for_requirement(run.requirement, day=day)
    else:
        subject_model, subject_id = MagnetOffer, run.offer_id
        batch, count = load_for_offer(run.offer)
    loaded_at = time.perf_counter()
    result = scoring.score(
        batch, run_date=day, rank_by="offer" if by_requirement else "requirement"
    )
    scored_at = time.perf_counter()
    jobs.job_heartbeat(MAGNET_RUN_JOB, run, candidate_count=count)

    with transaction.atomic():
        subject = subject_model.objects.select_for_update().get(id=subject_id)
        run = MagnetRun.objects.select_for_update().get(id=run.id)
        if run.status != RunStatus.RUNNING:
            return run
        still_matchable = (
            subject.status in (RequirementStatus.DRAFT, RequirementStatus.OPEN)
            if by_requirement
            else subject.status == OfferStatus.PUBLISHED
        )
        if still_matchable:
            write_results(result=result, run=run, requirement=subject if by_requirement else None,
                          offer=None if by_requirement else subject)  # fmt: skip
        finished = time.perf_counter()
        jobs.job_succeed(
            MAGNET_RUN_JOB,
            run,
            candidate_count=count,
            matched_count=result.matched_count if still_matchable else 0,
            near_miss_count=int((result.violations == 1).sum()) if still_matchable else 0,
            load_seconds=round(loaded_at - started, 4),
            score_seconds=round(scored_at - loaded_at, 4),
            write_seconds=round(finished - scored_at, 4),
        )
    # Pools rest on the near misses just written: formed once they are committed, in a
    # transaction of their own (pools_form serialises itself).
    from matching.magnets.pools import pools_form

    pools_form(material=subject.material)
    logger.info(
        "magnet run %s (%s): %d candidates, %d matches in %.2fs",
        run.id,
        run.direction,
        count,
        result.matched_count,
        finished - started,
    )
    return run


def magnet_runs_sweep() -> list[str]:
    """Expire ended offers, then resend runs whose message was lost or worker died."""
    offers_expire()
    return jobs.jobs_sweep(MAGNET_RUN_JOB)


# ------------------------------------------------------------------ writing


def write_results(
    *,
    result: scoring.ScoringResult,
    run: MagnetRun | None,
    requirement: MagnetRequirement | None = None,
    offer: MagnetOffer | None = None,
) -> None:
    """Upsert the qualifying pairs of one subject's result and replace its near misses.
    Pairs that stop qualifying lose their match while ``proposed``; a match the parties
    acted on is kept with ``qualifies`` false. Call holding the subject's row lock."""
    now = timezone.now()
    b = result.batch
    if requirement is not None:
        scope = {"requirement": requirement}
        other, key_of = "offer_id", b.offer_ids
    else:
        scope = {"offer": offer}
        other, key_of = "requirement_id", b.requirement_ids
    order = result.order.tolist()
    public = np.round(result.public_scores[result.order], 2).tolist()
    rows = []
    for (i, score, values, weights, contributions, reasons), public_score in zip(
        result.explain_rows(result.order), public, strict=True
    ):
        rows.append(
            MagnetMatch(
                id=uuid.uuid4(),
                requirement_id=b.requirement_ids[i],
                offer_id=b.offer_ids[i],
                run=run,
                score=score,
                public_score=public_score,
                factors=[list(t) for t in zip(values, weights, contributions, strict=True)],
                reasons=list(reasons),
                qualifies=True,
                algorithm_version=result.algorithm_version,
                scored_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    MagnetMatch.objects.bulk_create(
        rows,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["requirement", "offer"],
        update_fields=[
            "run",
            "score",
            "public_score",
            "factors",
            "reasons",
            "qualifies",
            "algorithm_version",
            "scored_at",
            "updated_at",
        ],
    )
    matched = {key_of[i] for i in order}
    existing = [
        str(value) for value in MagnetMatch.objects.filter(**scope).values_list(other, flat=True)
    ]
    stale = [value for value in existing if value not in matched]
    for start in range(0, len(stale), STALE_BATCH):
        chunk = MagnetMatch.objects.filter(
            **scope, **{f"{other}__in": stale[start : start + STALE_BATCH]}
        )
        chunk.filter(status=MatchStatus.PROPOSED).delete()
        chunk.exclude(qualifies=False).update(qualifies=False, updated_at=now)
    MagnetNearMiss.objects.filter(**scope).delete()
    bulk_copy(
        MagnetNearMiss,
        [
            MagnetNearMiss(
                requirement_id=miss.requirement_id,
                offer_id=miss.offer_id,
                constraint=miss.constraint[:80],
                reason=miss.reason[:300],
            )
            for miss in result.near_misses()
        ],
        batch_size=WRITE_BATCH,
    )


def offer_matches_retire(*, offer: MagnetOffer, ended: str) -> None:
    """An offer left the market (``ended``: ``withdrawn`` or ``expired``): its proposed
    matches and near misses go; matches the parties acted on stay, no longer qualifying,
    and each interested or accepted one tells its buyer and maker
    (``magnet_match.offer_ended``)."""
    from remag.webhooks.choices import EventType

    now = timezone.now()
    MagnetMatch.objects.filter(offer=offer, status=MatchStatus.PROPOSED).delete()
    MagnetMatch.objects.filter(offer=offer, qualifies=True).update(qualifies=False, updated_at=now)
    MagnetNearMiss.objects.filter(offer=offer).delete()
    live = (
        MagnetMatch.objects.filter(
            offer=offer, status__in=(MatchStatus.INTERESTED, MatchStatus.ACCEPTED)
        )
        .select_related("requirement", "offer")
        .order_by("id")
    )
    for match in live:
        events.magnet_match_event(EventType.MAGNET_MATCH_OFFER_ENDED, match, offer_status=ended)


def offers_expire(*, day: date | None = None) -> list[str]:
    """Published offers whose validity ended before ``day`` become ``expired``."""
    from remag.webhooks.choices import EventType

    day = day or timezone.localdate()
    expired = []
    with transaction.atomic():
        for offer in MagnetOffer.objects.select_for_update(skip_locked=True).filter(
            status=OfferStatus.PUBLISHED, valid_until__lt=day
        ):
            offer.status = OfferStatus.EXPIRED
            offer.save(update_fields=["status", "updated_at"])
            offer_matches_retire(offer=offer, ended=OfferStatus.EXPIRED)
            events.magnet_offer_event(EventType.MAGNET_OFFER_EXPIRED, offer)
            expired.append(str(offer.id))
    return expired


__all__ = [
    "MAGNET_RUN_JOB",
    "magnet_run_create",
    "magnet_run_execute",
    "magnet_runs_sweep",
    "offer_matches_retire",
    "offers_expire",
    "write_results",
]
