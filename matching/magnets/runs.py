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
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast
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
from remag.db import built, bulk_copy
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
    queued for the same subject, and never started, is reused. Returns ``(run, created)``."""
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
        # Only a run that never started is reused: one queued again after a failed
        # attempt may have read the subject before this change, and a later run of the
        # subject that succeeded meanwhile would make it write nothing (superseded).
        waiting = MagnetRun.objects.filter(status=RunStatus.QUEUED, attempts=0, **subject).first()
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


class Loaded(NamedTuple):
    """What a run read: its pairs, how many candidates, and each candidate's
    ``updated_at`` as read (``seen``: what :func:`write_results` checks the candidates
    against when it writes)."""

    batch: scoring.PairBatch
    count: int
    seen: dict[str, str]


def load_for_requirement(requirement: MagnetRequirement, *, day: date) -> Loaded:
    seen: dict[str, str] = {}
    offers = candidates.offer_rows(
        candidates.published_offers(
            material=requirement.material, day=day, buyer_id=requirement.owner_id
        ),
        day=day,
        seen=seen,
    )
    rows = candidates.requirement_rows(MagnetRequirement.objects.filter(id=requirement.id))
    return Loaded(candidates.pair(rows, offers), len(offers), seen)


def load_for_offer(offer: MagnetOffer) -> Loaded:
    seen: dict[str, str] = {}
    rows = candidates.requirement_rows(
        candidates.open_requirements(material=offer.material, maker_id=offer.owner_id), seen=seen
    )
    offer_row = candidates.offer_rows(MagnetOffer.objects.filter(id=offer.id))
    return Loaded(candidates.pair(rows, offer_row), len(rows), seen)


def _load(subject: MagnetRequirement | MagnetOffer, *, day: date) -> Loaded:
    if isinstance(subject, MagnetRequirement):
        return load_for_requirement(subject, day=day)
    return load_for_offer(subject)


def magnet_run_execute(*, run_id: object, holder: str = "") -> MagnetRun | None:
    """Run (or finish) a magnet run; returns it as it stands afterwards."""
    run = jobs.job_start(
        MAGNET_RUN_JOB, job_id=run_id, holder=holder, algorithm_version=scoring.ALGORITHM_VERSION
    )
    if run is None:
        return MagnetRun.objects.filter(id=run_id).first()
    day = timezone.localdate()
    by_requirement = run.direction == RunDirection.REQUIREMENT
    subject_model: type[MagnetRequirement] | type[MagnetOffer]
    if by_requirement:
        subject_model, loaded = MagnetRequirement, run.requirement
    else:
        subject_model, loaded = MagnetOffer, run.offer
    started = time.perf_counter()
    read_at = timezone.now()
    batch, count, seen = _load(loaded, day=day)
    loaded_at = time.perf_counter()
    result = scoring.score(
        batch, run_date=day, rank_by="offer" if by_requirement else "requirement"
    )
    scored_at = time.perf_counter()
    again = 0.0  # seconds spent reading and scoring again under the lock
    jobs.job_heartbeat(MAGNET_RUN_JOB, run, candidate_count=count)

    with transaction.atomic():
        # FOR NO KEY UPDATE: runs of one subject, and its changes (FOR UPDATE), wait for
        # each other; the other direction's runs, whose new pairs' foreign keys take KEY
        # SHARE locks on this subject at commit, do not (no cycle with a requirement run
        # waiting in _published_locked for this offer while holding its requirement).
        subject = subject_model.objects.select_for_update(no_key=True).get(id=loaded.id)
        run = MagnetRun.objects.select_for_update().get(id=run.id)
        if run.status != RunStatus.RUNNING:
            return run
        still_matchable = (
            subject.status in (RequirementStatus.DRAFT, RequirementStatus.OPEN)
            if by_requirement
            else subject.status == OfferStatus.PUBLISHED
        )
        own = {"requirement_id" if by_requirement else "offer_id": subject.id}
        # A later run of the subject has already written (only a never-started queued
        # run is reused, so a later one was queued while this one ran or waited for its
        # retry, by a change this one may not have read: the maker's certificates or
        # track record change no offer): its rows stand, and this run reports what the
        # subject has.
        superseded = (
            still_matchable
            and MagnetRun.objects.filter(
                status=RunStatus.SUCCEEDED, created_at__gt=run.created_at, **own
            ).exists()
        )
        if superseded:
            still_matchable = False
        elif still_matchable and subject.updated_at != loaded.updated_at:
            # The subject itself was saved since the run took it (a change queues another
            # run, which may already have written): read and score again, here, where its
            # lock keeps any further change waiting, rather than write from what it was.
            reloaded = time.perf_counter()
            read_at = timezone.now()
            batch, count, seen = _load(subject, day=day)
            result = scoring.score(
                batch, run_date=day, rank_by="offer" if by_requirement else "requirement"
            )
            again = time.perf_counter() - reloaded
        matched = missed = 0
        if superseded:
            matched = MagnetMatch.objects.filter(**own, qualifies=True).count()
            missed = MagnetNearMiss.objects.filter(**own).count()
        if still_matchable:
            matched, missed = write_results(
                result=result,
                run=run,
                requirement=subject if by_requirement else None,
                offer=None if by_requirement else subject,
                seen=seen,
                read_at=read_at,
            )
        finished = time.perf_counter()
        jobs.job_succeed(
            MAGNET_RUN_JOB,
            run,
            candidate_count=count,
            matched_count=matched,
            near_miss_count=missed,
            load_seconds=round(loaded_at - started + again, 4),
            score_seconds=round(scored_at - loaded_at, 4),
            write_seconds=round(finished - scored_at - again, 4),
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
        matched,
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
    seen: Mapping[str, str] | None = None,
    read_at: datetime | None = None,
) -> tuple[int, int]:
    """Upsert the qualifying pairs of one subject's result and replace its near misses;
    returns how many of each the subject now has. Pairs that stop qualifying lose their
    match while ``proposed``; a match the parties acted on is kept with ``qualifies``
    false. Call holding the subject's row lock.

    Only what changed is written: a qualifying match whose digest
    (:meth:`~matching.magnets.scoring.ScoringResult.digests`: everything its score and
    explanation are computed from, the run's day and the algorithm version included) is
    as stored is neither explained nor written (its ``run`` and ``scored_at`` stay those
    of the run that last changed it, as for procurement matches), and a near miss stored
    with the same constraint and reason stays. An offer rescored against 50,000
    requirements with nothing changed rewrote 13,000 matches and 22,000 near misses
    (bench/bench_magnets.py); comparing explanations as printed JSON still explained
    every match, and half of that rerun's write was that. What is written goes through ``COPY``
    on PostgreSQL (:func:`remag.db.bulk_copy`, an upsert for the matches: the other
    side's run may write the same pair).

    The stored rows are read locked (``FOR NO KEY UPDATE``, near misses ``FOR UPDATE``),
    in the pairs' key order, which the upsert keeps too: a run of the other direction
    writing the one pair both share is waited for and its row compared, as the upsert
    alone would have waited; locks taken in one order leave no cycle between runs.

    ``seen`` is the candidates' ``updated_at`` as the run read them (:class:`Loaded`).
    Once the stored pairs are locked, the run leaves alone every pair whose candidate is
    no longer as it read it (:func:`_moved_since`): saved, opened or published since, or
    gone from the market. Such a change queued a run of its own (or retired the pairs),
    which reads this subject as it is now; a pair written here from the candidate as it
    was would overwrite that run's fresher row if it committed first. Without ``seen``
    every pair of the result is written.

    ``read_at`` is when the run began reading. A requirement's run also leaves alone the
    pairs of offers whose own run was queued or started since, or is still queued
    (:func:`_rescored_since`): what the maker's profile and track record feed an offer's
    score changes no offer, so only that run tells that its maker changed after this run
    read it. A draft requirement's run leaves nothing alone: no offer run writes a
    draft's pairs."""
    now = timezone.now()
    b = result.batch
    subject = requirement or offer
    if requirement is not None:
        scope, own = {"requirement": subject}, "requirement_id"
        other, key_of = "offer_id", b.offer_ids
    else:
        scope, own = {"offer": subject}, "offer_id"
        other, key_of = "requirement_id", b.requirement_ids
    order = result.order.tolist()
    misses = result.near_misses()
    # A requirement's run writes pairs of offers it does not hold: an offer withdrawn or
    # expired since the load (its retirement removed its proposed matches) is left out,
    # and the offers written are locked (shared) first, so one being withdrawn now waits
    # for this write and then removes what it wrote.
    live = None
    if requirement is not None:
        live = _published_locked({key_of[i] for i in order} | {m.offer_id for m in misses})
        order = [i for i in order if key_of[i] in live]
    # What is stored: each pair's digest of what it was computed from, when it still
    # qualifies (a match that stopped qualifying is written again if it qualifies anew).
    # Locked as read, in the order of the pairs' key, as every run locks them: a run of
    # the other direction writing one of these pairs is waited for, and its row compared,
    # rather than left to overwrite this run's fresher score unseen.
    stored = {
        str(key): digest if qualifies else None
        for key, digest, qualifies in MagnetMatch.objects.filter(**scope)
        .select_for_update(no_key=True)
        .order_by(other)
        .values_list(other, "digest", "qualifies")
    }
    # The stored near misses too, locked with the matches before the check below, so
    # that the other direction's run writing either row of a shared pair after the
    # check waits for this one.
    stored_misses = {
        str(key): (constraint, reason)
        for key, constraint, reason in MagnetNearMiss.objects.filter(**scope)
        .select_for_update()
        .order_by(other)
        .values_list(other, "constraint", "reason")
    }
    # A draft requirement is no offer run's candidate: nobody else writes its pairs, so
    # its run writes them all, from what it read (its buyer's preview).
    others_write = requirement is None or requirement.status != RequirementStatus.DRAFT
    moved = (
        _moved_since(
            seen, requirement=requirement, offer=offer, day=date.fromordinal(result.run_ordinal)
        )
        if seen is not None and others_write
        else set()
    )
    if requirement is not None and read_at is not None and others_write:
        moved |= _rescored_since(read_at)
    if moved:
        order = [i for i in order if key_of[i] not in moved]
    # Only the pairs whose digest changed are explained and written: an unchanged one
    # would be written as it is stored.
    digests = result.digests(np.asarray(order, dtype=np.intp))
    changed = [
        (i, digest)
        for i, digest in zip(order, digests, strict=True)
        if stored.get(key_of[i]) != digest
    ]
    indices = np.asarray([i for i, _ in changed], dtype=np.intp)
    public = np.round(result.public_scores[indices], 2).tolist()
    rows = []
    for (i, score, values, weights, contributions, reasons), public_score, (_, digest) in zip(
        result.explain_rows(indices), public, changed, strict=True
    ):
        factors = [list(t) for t in zip(values, weights, contributions, strict=True)]
        rows.append(
            built(
                MagnetMatch,
                id=uuid.uuid4(),
                requirement_id=b.requirement_ids[i],
                offer_id=b.offer_ids[i],
                run_id=run.id if run else None,
                score=score,
                public_score=public_score,
                factors=factors,
                reasons=list(reasons),
                digest=digest,
                qualifies=True,
                algorithm_version=result.algorithm_version,
                scored_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    bulk_copy(
        MagnetMatch,
        rows,
        batch_size=WRITE_BATCH,
        unique_fields=["requirement", "offer"],
        update_fields=[
            "run",
            "score",
            "public_score",
            "factors",
            "reasons",
            "digest",
            "qualifies",
            "algorithm_version",
            "scored_at",
            "updated_at",
        ],
    )
    matched = {key_of[i] for i in order}
    # A stored match stops qualifying only against a candidate this run read: one that
    # was no candidate (a draft, closed or cancelled requirement; a withdrawn or expired
    # offer, whose retirement already removed what it had to) keeps what it has.
    stale = [
        key
        for key in stored
        if key not in matched and key not in moved and (seen is None or key in seen)
    ]
    for start in range(0, len(stale), STALE_BATCH):
        chunk = MagnetMatch.objects.filter(
            **scope, **{f"{other}__in": stale[start : start + STALE_BATCH]}
        )
        chunk.filter(status=MatchStatus.PROPOSED).delete()
        chunk.exclude(qualifies=False).update(qualifies=False, updated_at=now)

    # Near misses: the stored ones that are no longer (or no longer for that reason) go,
    # the new ones are copied in.
    wanted = {
        getattr(miss, other): (miss.constraint[:80], miss.reason[:300])
        for miss in misses
        if (live is None or miss.offer_id in live) and getattr(miss, other) not in moved
    }
    gone = [
        key for key, miss in stored_misses.items() if key not in moved and wanted.get(key) != miss
    ]
    for start in range(0, len(gone), STALE_BATCH):
        MagnetNearMiss.objects.filter(
            **scope, **{f"{other}__in": gone[start : start + STALE_BATCH]}
        ).delete()
    # An upsert: the other direction's run may insert the same new pair meanwhile.
    bulk_copy(
        MagnetNearMiss,
        [
            built(
                MagnetNearMiss,
                **{own: subject.pk, other: key},
                constraint=constraint,
                reason=reason,
            )
            for key, (constraint, reason) in wanted.items()
            if stored_misses.get(key) != (constraint, reason)
        ],
        batch_size=WRITE_BATCH,
        unique_fields=["requirement", "offer"],
        update_fields=["constraint", "reason"],
    )
    return len(order), len(wanted)


def _moved_since(
    seen: Mapping[str, str],
    *,
    requirement: MagnetRequirement | None,
    offer: MagnetOffer | None,
    day: date | None = None,
) -> set[str]:
    """The candidates of the subject that are not as its run read them (``seen``): saved
    since (an update queues their own run, which reads the subject as it is now), opened
    or published since (likewise), or no longer candidates (closed, cancelled, withdrawn
    or expired since: they get no new pair from this run, and what pairs they have are
    theirs to keep or retire). One read of the candidates' ids and stamps, by the same
    query the load used: 50,000 open requirements for an offer's run."""
    if requirement is not None:
        current = candidates.published_offers(
            material=requirement.material,
            day=day or timezone.localdate(),
            buyer_id=requirement.owner_id,
        )
    else:
        assert offer is not None  # noqa: S101 (a programming error, not input)
        current = candidates.open_requirements(material=offer.material, maker_id=offer.owner_id)
    now = {
        candidates.id_text(key): at
        for key, at in current.order_by()
        .annotate(key=Cast("id", CharField()), stamp=candidates.STAMP)
        .values_list("key", "stamp")
    }
    return {key for key in seen.keys() | now.keys() if seen.get(key) != now.get(key)}


def _rescored_since(read_at: datetime) -> set[str]:
    """The offers whose own run reads (or read) them after ``read_at``, when this run
    began reading: runs queued since, runs started since (a queued run reused by a later
    change keeps its ``created_at``) and runs still queued. A change of the maker's record
    (a certificate, a verification, an outcome) changes no offer and queues such a run
    (``services.maker_offers_rescore``), which reads the maker afresh and writes the
    offer's pairs with this requirement itself, whatever this run made of them (a match,
    a near miss, or neither: two violations). A run that started before ``read_at`` is
    not one: it may have read this requirement as it was before this run's own change.
    Three indexed conditions: only the runs of the last moments, whatever the history."""
    runs_since = MagnetRun.objects.filter(direction=RunDirection.OFFER).filter(
        Q(created_at__gt=read_at) | Q(started_at__gt=read_at) | Q(status=RunStatus.QUEUED)
    )
    return {str(offer_id) for offer_id in runs_since.values_list("offer_id", flat=True)}


def _published_locked(offer_ids: set[str]) -> set[str]:
    """Which of ``offer_ids`` are published, those locked ``FOR KEY SHARE`` in key order
    on PostgreSQL (a withdrawal's or an update's ``FOR UPDATE`` waits for this
    transaction; other runs' locks do not)."""
    if not offer_ids:
        return set()
    query = (
        MagnetOffer.objects.filter(id__in=sorted(offer_ids), status=OfferStatus.PUBLISHED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if connection.vendor != "postgresql":
        return {str(offer_id) for offer_id in query}
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)
        return {str(row[0]) for row in cursor.fetchall()}


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
