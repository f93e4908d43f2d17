"""Match runs: load candidates, score them, write the results. Every function here is safe
to call twice.

A run is a job (:mod:`remag.jobs`): the API writes a ``queued`` row and the task is sent
after commit. The task takes the run (``job_start``), loads and scores outside any
transaction, then writes matches, near misses and ``succeeded`` in one transaction
holding the request's row lock, so two runs of one request never interleave their writes
and a duplicate delivery finds the run finished and writes nothing. Errors, retries,
lost messages and dead workers are the job machine's business.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from queue import Queue
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from matching import candidates, scoring
from matching.choices import MatchStatus, RequestStatus, RunStatus
from matching.models import Match, MatchRun, NearMiss, ProcurementRequest
from remag import jobs
from remag.errors import Conflict
from remag.gc_tuning import gc_paused
from remag.webhooks import events

logger = logging.getLogger(__name__)

RUNNABLE = (RequestStatus.DRAFT, RequestStatus.OPEN)
WRITE_BATCH = 2000
STALE_BATCH = 500  # ids per statement (SQLite limits a statement's parameters)


def _run_finished(run: MatchRun) -> None:
    events.run_event(run, run.request.owner_id)


MATCH_RUN_JOB = jobs.JobKind(
    name="match run",
    model=MatchRun,
    task_name="matching.match_run_execute",
    queued_timeout=lambda: timedelta(seconds=settings.REMAG_MATCH_RUN_QUEUED_TIMEOUT_SECONDS),
    lease=lambda: timedelta(seconds=settings.REMAG_MATCH_RUN_LEASE_SECONDS),
    on_finished=_run_finished,
)


def match_run_create(
    *, request: ProcurementRequest, trigger: str, triggered_by: object = None
) -> tuple[MatchRun, bool]:
    """Queue a run of ``request``; returns ``(run, created)``. A run still queued for the
    request is reused rather than queueing another (a burst of clicks makes one run)."""
    if request.status not in RUNNABLE:
        raise Conflict(
            f"The request is {request.status}; only draft and open requests are matched.",
            code="request_not_runnable",
        )
    with transaction.atomic():
        ProcurementRequest.objects.select_for_update().filter(id=request.id).first()
        waiting = MatchRun.objects.filter(request=request, status=RunStatus.QUEUED).first()
        if waiting is not None:
            return waiting, False
        run = MatchRun.objects.create(
            request=request,
            trigger=trigger,
            triggered_by=triggered_by,
            algorithm_version=scoring.ALGORITHM_VERSION,
            enqueued_at=timezone.now(),
        )
        jobs.job_send(MATCH_RUN_JOB, run.id)
    return run, True


def match_run_execute(*, run_id: object, holder: str = "") -> MatchRun | None:
    """Run (or finish) a match run. Returns the run as it stands afterwards (None if it
    does not exist)."""
    run = jobs.job_start(
        MATCH_RUN_JOB,
        job_id=run_id,
        holder=holder,
        progress=5,
        algorithm_version=scoring.ALGORITHM_VERSION,
    )
    if run is None:
        return MatchRun.objects.filter(id=run_id).first()

    with gc_paused():
        return _execute(run)


def _execute(run: MatchRun) -> MatchRun:
    request = ProcurementRequest.objects.prefetch_related(*candidates.REQUEST_RELATIONS).get(
        id=run.request_id
    )
    started = time.perf_counter()
    loaded = candidates.load(request, run_date=timezone.localdate())
    loaded_at = time.perf_counter()
    result = scoring.score(loaded.criteria, loaded.batch)
    scored_at = time.perf_counter()
    jobs.job_heartbeat(MATCH_RUN_JOB, run, progress=50, candidate_count=result.candidate_count)

    with transaction.atomic():
        ProcurementRequest.objects.select_for_update().get(id=request.id)
        run = MatchRun.objects.select_for_update().get(id=run.id)
        if run.status != RunStatus.RUNNING:
            return run  # a duplicate delivery finished it meanwhile
        write_results(request=request, loaded=loaded, result=result, run=run)
        finished = time.perf_counter()
        jobs.job_succeed(
            MATCH_RUN_JOB,
            run,
            progress=100,
            candidate_count=result.candidate_count,
            matched_count=result.matched_count,
            near_miss_count=len(result.near_misses),
            load_seconds=round(loaded_at - started, 4),
            score_seconds=round(scored_at - loaded_at, 4),
            write_seconds=round(finished - scored_at, 4),
        )
    logger.info(
        "match run %s: %d candidates, %d matches in %.2fs",
        run.id,
        result.candidate_count,
        result.matched_count,
        finished - started,
    )
    return run


def match_runs_sweep(
    *, queued_after: timedelta | None = None, lease: timedelta | None = None
) -> list[str]:
    """Resend runs whose message was lost or whose worker died (see ``jobs_sweep``)."""
    return jobs.jobs_sweep(MATCH_RUN_JOB, queued_after=queued_after, lease=lease)


# ------------------------------------------------------------------ writing results


def write_results(
    *,
    request: ProcurementRequest,
    loaded: candidates.Loaded,
    result: scoring.ScoringResult,
    run: MatchRun | None,
    scope: Collection[str] | None = None,
    method: str | None = None,
) -> None:
    """Upsert the matches of ``result`` and replace the near misses. ``scope`` None means
    the result covers the whole request; otherwise only those suppliers were scored.
    Call inside a transaction holding the request's row lock.

    Matches no longer in the result are deleted while still ``proposed`` and otherwise
    kept with ``qualifies`` false. Every match stores the digest of what it was computed
    from (:func:`matching.scoring.row_digests`); a match whose digest did not change is
    neither explained nor written again, so a rerun costs what changed.

    On PostgreSQL a whole-request write goes through ``COPY`` (``method="copy"``): a
    request's first run copies its matches straight into the table, a rerun stages the
    changed ones in a temporary table and upserts them. Elsewhere, and for one supplier,
    through the ORM (``method="orm"``). Both leave the same rows. Explanations are built
    and streamed in chunks of ``EXPLAIN_CHUNK``, so a run's memory does not grow with the
    JSON of all its matches at once.
    """
    now = timezone.now()
    digests = scoring.row_digests(loaded.criteria, loaded.batch).tolist()
    missed = [
        (miss.supplier_id, miss.constraint[:80], miss.reason[:300]) for miss in result.near_misses
    ]
    if method is None:
        method = "copy" if connection.vendor == "postgresql" and scope is None else "orm"
    if method == "copy":
        _write_copy(request, run, result, digests, missed, now)
    else:
        _write_orm(request, run, result, digests, missed, now, scope)


EXPLAIN_CHUNK = 5000
# A first run's COPY is fed this many explained matches at a time, through a writer
# thread (psycopg's QueuedLibpqWriter): PostgreSQL stores one slice while Python explains
# the next, rather than each waiting for the other.
COPY_CHUNK = 1000
# At most this many pieces (psycopg sends a slice in pieces of up to 128 KiB) wait for
# the writer thread: 4 MiB. psycopg's own bound is 1,024 (128 MiB) and a worker's budget
# is 250 MiB; when PostgreSQL falls behind, Python waits instead.
COPY_QUEUE = 32
BACKSLASH = "\\"


class _CopyWriter(QueuedLibpqWriter):
    """psycopg's queued COPY writer with a shorter queue (``COPY_QUEUE``)."""

    def __init__(self, cursor: Any) -> None:
        super().__init__(cursor)
        self._queue: Queue[Any] = Queue(maxsize=COPY_QUEUE)


def _explained(
    result: scoring.ScoringResult, indices: list[int], digests: list[int]
) -> Iterator[tuple[str, float, float, str, str, int]]:
    """``(supplier_id, score, public score, factors JSON, reasons JSON, digest)`` of the
    candidates at ``indices``, explained ``EXPLAIN_CHUNK`` at a time."""
    for chunk in _explained_chunks(result, indices, digests):
        yield from chunk


def _explained_chunks(
    result: scoring.ScoringResult,
    indices: list[int],
    digests: list[int],
    size: int = EXPLAIN_CHUNK,
) -> Iterator[list[tuple[str, float, float, str, str, int]]]:
    ids = result.batch.supplier_ids
    # The factors' JSON ([[value, weight, contribution], ...] in FACTORS order) is formatted
    # from a template: the weights are the same for every row of a run, and Python's float
    # repr is valid JSON for finite numbers. The reasons' JSON arrays come from scoring,
    # encoded a column of reasons at a time (as json.dumps would write them).
    weights = result.rounded_weights()
    count = len(scoring.FACTORS)
    parts = [f"[{{{j}!r}}, {weights[j]!r}, {{{j + count}!r}}]" for j in range(count)]
    template = ("[" + ", ".join(parts) + "]").format
    for start in range(0, len(indices), size):
        chunk = np.asarray(indices[start : start + size], dtype=np.intp)
        public = np.round(result.public_scores[chunk], 2).tolist()
        yield [
            (
                ids[index],
                score,
                public_score,
                template(*values, *contributions),
                reasons,
                digests[index],
            )
            for (index, score, values, contributions, reasons), public_score in zip(
                result.explain_rows_json(chunk), public, strict=True
            )
        ]


def _write_orm(
    request: ProcurementRequest,
    run: MatchRun | None,
    result: scoring.ScoringResult,
    digests: list[int],
    missed: list[tuple[str, str, str]],
    now: datetime,
    scope: Collection[str] | None,
) -> None:
    version = result.algorithm_version
    ids = result.batch.supplier_ids
    order = result.order.tolist()
    rows = Match.objects.filter(request=request)
    if scope is not None:
        rows = rows.filter(supplier_id__in=list(scope))
    existing = {
        candidates._id_text(supplier_id): digest if qualifies and public > 0 else None
        for supplier_id, digest, qualifies, public in rows.values_list(
            "supplier_id", "digest", "qualifies", "public_score"
        )
    }
    changed = [i for i in order if existing.get(ids[i]) != digests[i]]
    Match.objects.bulk_create(
        (
            Match(
                id=uuid.uuid4(),
                request_id=request.id,
                supplier_id=supplier_id,
                run=run,
                score=score,
                public_score=public_score,
                factors=json.loads(factors),
                reasons=json.loads(reasons),
                digest=digest,
                qualifies=True,
                algorithm_version=version,
                scored_at=now,
                created_at=now,
                updated_at=now,
            )
            for supplier_id, score, public_score, factors, reasons, digest in _explained(
                result, changed, digests
            )
        ),
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["request", "supplier"],
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
    matched = {ids[i] for i in order}
    stale = [supplier_id for supplier_id in existing if supplier_id not in matched]
    for start in range(0, len(stale), STALE_BATCH):
        rows = Match.objects.filter(
            request=request, supplier_id__in=stale[start : start + STALE_BATCH]
        )
        rows.filter(status=MatchStatus.PROPOSED).delete()
        rows.exclude(qualifies=False).update(qualifies=False, updated_at=now)

    misses = NearMiss.objects.filter(request=request)
    if scope is not None:
        misses = misses.filter(supplier_id__in=list(scope))
    misses.delete()
    NearMiss.objects.bulk_create(
        [
            NearMiss(request_id=request.id, supplier_id=sid, constraint=constraint, reason=reason)
            for sid, constraint, reason in missed
        ],
        batch_size=WRITE_BATCH,
    )


# A request's first run: its matches go straight into the table (there is nothing to
# update, and the request's row lock keeps any other writer of its matches out).
_COPY_MATCHES = """
COPY matching_match (
    id, supplier_id, score, public_score, factors, reasons, digest,
    created_at, updated_at, request_id, run_id, qualifies, algorithm_version, scored_at, status,
    outcome
) FROM STDIN
"""

# The temporary tables have primary keys and are analysed after the COPY: autovacuum
# never analyses temporary tables, and a request new to the planner's statistics (every
# request of a young deployment) otherwise gets a nested loop over a sequential scan of
# the staged rows for each check, quadratic in the rows. With the key the worst plan
# probes an index; with the statistics the planner picks a hash anti-join.
_COPY_SETUP = """
CREATE TEMP TABLE IF NOT EXISTS remag_scored (
    supplier_id uuid PRIMARY KEY, score float8, public_score float8, factors json,
    reasons json, digest int8
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS remag_missed (
    supplier_id uuid PRIMARY KEY, "constraint" varchar(80), reason varchar(300)
) ON COMMIT DELETE ROWS;
TRUNCATE remag_scored, remag_missed;
"""

_COPY_ANALYZE = "ANALYZE remag_scored; ANALYZE remag_missed;"

_COPY_UPSERT = """
INSERT INTO matching_match AS m (
    id, created_at, updated_at, request_id, supplier_id, run_id, score, public_score,
    factors, reasons, digest, qualifies, algorithm_version, scored_at, status, outcome
)
SELECT gen_random_uuid(), %(now)s, %(now)s, %(request)s, t.supplier_id, %(run)s, t.score,
       t.public_score, t.factors, t.reasons, t.digest, true, %(version)s, %(now)s,
       'proposed', ''
FROM remag_scored t
ON CONFLICT (request_id, supplier_id) DO UPDATE SET
    run_id = EXCLUDED.run_id, score = EXCLUDED.score, public_score = EXCLUDED.public_score,
    factors = EXCLUDED.factors,
    reasons = EXCLUDED.reasons, digest = EXCLUDED.digest, qualifies = true,
    algorithm_version = EXCLUDED.algorithm_version, scored_at = EXCLUDED.scored_at,
    updated_at = EXCLUDED.updated_at
"""

# Matches that no longer qualify, by supplier id (probes of the (request, supplier) key).
_STALE_MATCHES = """
DELETE FROM matching_match m
WHERE m.request_id = %(request)s AND m.status = 'proposed'
  AND m.supplier_id = ANY(%(stale)s::uuid[]);
UPDATE matching_match m SET qualifies = false, updated_at = %(now)s
WHERE m.request_id = %(request)s AND m.qualifies AND m.supplier_id = ANY(%(stale)s::uuid[])
"""

_COPY_STALE = """
DELETE FROM matching_nearmiss n
WHERE n.request_id = %(request)s
  AND NOT EXISTS (SELECT 1 FROM remag_missed t WHERE t.supplier_id = n.supplier_id);
INSERT INTO matching_nearmiss AS n (request_id, supplier_id, "constraint", reason)
SELECT %(request)s, t.supplier_id, t."constraint", t.reason FROM remag_missed t
ON CONFLICT (request_id, supplier_id) DO UPDATE SET
    "constraint" = EXCLUDED."constraint", reason = EXCLUDED.reason
WHERE (n."constraint", n.reason) IS DISTINCT FROM (EXCLUDED."constraint", EXCLUDED.reason);
"""


def _write_copy(
    request: ProcurementRequest,
    run: MatchRun | None,
    result: scoring.ScoringResult,
    digests: list[int],
    missed: list[tuple[str, str, str]],
    now: datetime,
) -> None:
    ids = result.batch.supplier_ids
    order = result.order.tolist()
    params: dict[str, Any] = {
        "now": now,
        "request": request.id,
        "run": run.id if run else None,
        "version": result.algorithm_version,
    }
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY
        # What the request's matches were computed from; a match that no longer
        # qualifies has no digest here, so it is written again if it qualifies anew, and
        # so has one without its public score (written by the release before it).
        raw.execute(
            "SELECT supplier_id::text, CASE WHEN qualifies AND public_score > 0 THEN digest END "
            "FROM matching_match WHERE request_id = %s",
            [request.id],
        )
        existing = dict(raw.fetchall())
        # The near misses as stored: when they are the run's own (a rerun where nothing
        # changed), neither staged nor written again.
        raw.execute(
            'SELECT supplier_id::text, "constraint", reason FROM matching_nearmiss '
            "WHERE request_id = %s",
            [request.id],
        )
        stored_misses = set(raw.fetchall())
        if not stored_misses:
            # None stored (a first run, or none last time): copied straight into the
            # table, like a first run's matches, rather than staged and upserted.
            _copy_new_misses(raw, request.id, missed)
        # Near misses to stage and reconcile with the stored ones.
        misses_replaced = bool(stored_misses) and stored_misses != set(missed)
        if not existing:
            _copy_new_matches(raw, result, order, digests, params)
            if misses_replaced:
                stage_rows(raw, [], missed)
        else:
            changed = [i for i in order if existing.get(ids[i]) != digests[i]]
            if changed or misses_replaced:
                stage_rows(
                    raw, _explained(result, changed, digests), missed if misses_replaced else []
                )
            if changed:
                raw.execute(_COPY_UPSERT, params)
            scored = {ids[i] for i in order}
            stale = [sid for sid in existing if sid not in scored]
            if stale:
                for statement in filter(str.strip, _STALE_MATCHES.split(";")):
                    raw.execute(statement, {**params, "stale": stale})
        if misses_replaced:
            for statement in filter(str.strip, _COPY_STALE.split(";")):
                raw.execute(statement, params)


def _copy_new_misses(raw: Any, request_id: object, missed: list[tuple[str, str, str]]) -> None:
    """COPY a run's near misses into a request that has none stored (its row lock keeps
    any other writer of them out)."""
    if not missed:
        return
    with raw.copy(
        'COPY matching_nearmiss (request_id, supplier_id, "constraint", reason) FROM STDIN'
    ) as copy:
        for supplier_id, constraint, reason in missed:
            copy.write_row((request_id, supplier_id, constraint, reason))


def _copy_new_matches(
    raw: Any,
    result: scoring.ScoringResult,
    order: list[int],
    digests: list[int],
    params: dict[str, Any],
) -> None:
    """COPY the explained matches in text format, ``COPY_CHUNK`` lines at a time, sent by
    a writer thread while the next are explained: the columns the same for every match
    of the run are formatted once, and the JSON is escaped for COPY by doubling its
    backslashes (it holds no tab, newline or carriage return)."""
    run = params["run"]
    now = params["now"].isoformat()
    constant = "\t".join(
        [
            now,
            now,
            str(params["request"]),
            "\\N" if run is None else str(run),
            "t",
            params["version"],
            now,
            MatchStatus.PROPOSED.value,
            "",  # outcome
        ]
    )
    ids = iter(time_ordered_uuids(len(order), at=params["now"]))
    with raw.copy(_COPY_MATCHES, writer=_CopyWriter(raw)) as copy:
        for chunk in _explained_chunks(result, order, digests, COPY_CHUNK):
            copy.write(
                "".join(
                    f"{next(ids)}\t{supplier_id}\t{score!r}\t{public!r}\t{factors}\t"
                    f"{reasons.replace(BACKSLASH, BACKSLASH * 2)}\t{digest}\t{constant}\n"
                    for supplier_id, score, public, factors, reasons, digest in chunk
                )
            )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def time_ordered_uuids(n: int, *, at: datetime | None = None) -> list[str]:
    """``n`` time-ordered (version 7, RFC 9562) UUIDs in text form, ascending: the Unix
    time of ``at`` (now by default) in milliseconds, then 74 random bits from one read of
    the system's random source (``uuid.uuid4()`` per row cost a run of 100,000 matches a
    quarter second). Distinct as random ids are: two of a million share their 74 bits
    with a chance of about 3 in 10^11.

    A first run's matches take these ids in this order, so its rows enter the primary key's
    index at its right-hand end, in a few pages, rather than each at a random page of an
    index of millions (a write 9 to 14% cheaper for 11,667 matches beside a million,
    docs/benchmarks.md). The milliseconds an id shows are the match's ``created_at`` (the
    run passes it as ``at``), which its readers see anyway."""
    octets = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    now = datetime.now(UTC) if at is None else at
    millis = (now - _EPOCH) // timedelta(milliseconds=1)
    octets[:, :6] = np.frombuffer(millis.to_bytes(6, "big"), dtype=np.uint8)
    octets[:, 6] = (octets[:, 6] & 0x0F) | 0x70  # version 7
    octets[:, 8] = (octets[:, 8] & 0x3F) | 0x80  # RFC 9562 variant
    text = octets.tobytes().hex()
    return sorted(
        f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        for h in (text[i : i + 32] for i in range(0, 32 * n, 32))
    )


def stage_rows(
    raw: Any,
    scored: Iterable[tuple[str, float, float, str, str, int]],
    missed: list[tuple[str, str, str]],
) -> None:
    """Load a run's changed matches and its near misses into the temporary tables (keyed
    and analysed) that the set-based statements read. ``raw`` is a psycopg cursor."""
    for statement in filter(str.strip, _COPY_SETUP.split(";")):
        raw.execute(statement)
    with raw.copy(
        "COPY remag_scored (supplier_id, score, public_score, factors, reasons, digest) FROM STDIN"
    ) as copy:
        for row in scored:
            copy.write_row(row)
    with raw.copy('COPY remag_missed (supplier_id, "constraint", reason) FROM STDIN') as copy:
        for row in missed:
            copy.write_row(row)
    for statement in filter(str.strip, _COPY_ANALYZE.split(";")):
        raw.execute(statement)


# ------------------------------------------------------------------ the reverse direction


def supplier_opportunities_refresh(*, supplier_id: object) -> int:
    """Rescore one supplier against every open request it could match (or matched
    before). Returns the number of requests looked at.

    It could match a request only if it offers one of the request's required
    capabilities (else it is no candidate, not even a near miss: ``candidates``), so
    only those requests are rescored, with the ones where it has a match or a near miss
    to update or drop. Rescoring every open request of its layers cost about 30 ms and 19
    queries each (3.8 s a change with 128 open requests)."""
    from suppliers.models import SupplierCapability

    supplier_uuid = candidates._id_text(supplier_id)
    offered = SupplierCapability.objects.filter(supplier_id=supplier_uuid).values("capability_id")
    request_ids = set(
        ProcurementRequest.required_capabilities.through.objects.filter(
            capability_id__in=offered, procurementrequest__status=RequestStatus.OPEN
        ).values_list("procurementrequest_id", flat=True)
    )
    # The open requests it matched or nearly matched, each read by its supplier index. As
    # one OR over both reverse joins, PostgreSQL joined every open request's matches to
    # its near misses before filtering: tens of seconds a supplier at a million matches.
    for table in (Match.objects, NearMiss.objects):
        request_ids.update(
            table.filter(supplier_id=supplier_uuid, request__status=RequestStatus.OPEN)
            .order_by()
            .values_list("request_id", flat=True)
        )
    today = timezone.localdate()
    for request_id in sorted(request_ids):
        with transaction.atomic():
            request = (
                ProcurementRequest.objects.select_for_update()
                .prefetch_related(*candidates.REQUEST_RELATIONS)
                .filter(id=request_id, status=RequestStatus.OPEN)
                .first()
            )
            if request is None:
                continue
            loaded = candidates.load(request, run_date=today, supplier_ids=[supplier_uuid])
            result = scoring.score(loaded.criteria, loaded.batch)
            write_results(
                request=request, loaded=loaded, result=result, run=None, scope={supplier_uuid}
            )
    return len(request_ids)
