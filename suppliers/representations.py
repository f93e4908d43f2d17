"""Stored list representations: each supplier's ``SupplierSerializer`` output, kept as
JSON text so that a registry list page is a plain read (``SupplierViewSet`` joins the
page's texts; ``selectors.supplier_list_stored``).

A cache, correct by construction:

- **Invalidation is PostgreSQL's.** Every write to a supplier or its nested rows
  (capabilities, certificates and their scopes, GSTINs, plants and their capabilities),
  and every change of a capability's or certification's shown fields, bumps the
  supplier's ``gen`` and clears its texts, by statement-level triggers (migration
  ``suppliers.0016``): the admin, imports, ``COPY`` and raw SQL included.
- **A refresh never stores a stale text.** It builds the texts from one snapshot and
  writes them only where ``gen`` is still the one it read (``ON CONFLICT ... WHERE``
  sees the newest committed row, waiting for a writer holding it).
- **Days and deployments.** A text holds from ``as_of`` until ``fresh_until`` (the
  first day a certificate's ``is_valid`` or the ``classification_stale`` flag turns),
  and only for the ``version`` of the SQL that built it.
- **Reads fall back.** A supplier whose text is missing, cleared, expired or of another
  version is built live by ``selectors.supplier_list_json``: only slower.

Refreshes run on commit of every registry service's change (``supplier_changed``), and
every minute over whatever is stale (the ``supplier-representations-sweep`` beat, which
covers writes made outside the services and the day turning). PostgreSQL only: on
SQLite the list is always built by the serializer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from suppliers import selectors

logger = logging.getLogger(__name__)

LOCK_NOT_AVAILABLE = "55P03"
BATCH = 500
# A refresh waits at most this long for a row lock, then gives the batch up to the next
# sweep: a write never waits long on a refresh, and never loses a deadlock to one.
LOCK_TIMEOUT_MS = 200
_SWEEP_LOCK = "remag.suppliers.representations_sweep"


def _enabled() -> bool:
    return connection.vendor == "postgresql"


def representations_refresh(supplier_ids: Sequence[Any], *, today: date | None = None) -> int:
    """Build and store the representations of ``supplier_ids`` (unknown ids are
    ignored); the number stored. A text is written only if no write touched the
    supplier since this statement's snapshot."""
    if not _enabled() or not supplier_ids:
        return 0
    today = today or timezone.localdate()
    params = {
        **selectors.stored_representation_params(today),
        "ids": [str(sid) for sid in supplier_ids],
        "version": selectors.representation_version(),
        "today": today,
    }
    public = selectors.stored_representation_sql(public=True)
    private = selectors.stored_representation_sql(public=False)
    sql = f"""
        INSERT INTO suppliers_supplierrepresentation AS r
            (supplier_id, gen, version, public, private, as_of, fresh_until, refreshed_at)
        SELECT S.id, coalesce(o.gen, 0), %(version)s, {public}, {private}, %(today)s,
               {selectors.fresh_until_sql()}, now()
        FROM suppliers_supplier S
        LEFT JOIN suppliers_supplierrepresentation o ON o.supplier_id = S.id
        WHERE S.id = ANY(%(ids)s::uuid[])
        ORDER BY S.id
        ON CONFLICT (supplier_id) DO UPDATE SET
            version = EXCLUDED.version, public = EXCLUDED.public, private = EXCLUDED.private,
            as_of = EXCLUDED.as_of, fresh_until = EXCLUDED.fresh_until,
            refreshed_at = EXCLUDED.refreshed_at
        WHERE r.gen = EXCLUDED.gen
    """  # noqa: S608 (our own SQL; every value a parameter)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_MS)}ms'")
            # Rows a writer holds are left out (the writer clears them anyway); the
            # others are locked in id order before anything waits.
            cursor.execute(
                "SELECT supplier_id FROM suppliers_supplierrepresentation"
                " WHERE supplier_id = ANY(%s::uuid[])",
                [params["ids"]],
            )
            existing = {str(row[0]) for row in cursor.fetchall()}
            cursor.execute(
                "SELECT supplier_id FROM suppliers_supplierrepresentation"
                " WHERE supplier_id = ANY(%s::uuid[]) ORDER BY supplier_id"
                " FOR UPDATE SKIP LOCKED",
                [params["ids"]],
            )
            held = existing - {str(row[0]) for row in cursor.fetchall()}
            params["ids"] = [sid for sid in params["ids"] if sid not in held]
            cursor.execute(sql, params)
            return cursor.rowcount
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        logger.info("representations refresh gave way to a write: %s", exc)
        return 0


def representations_stale(*, limit: int, today: date | None = None) -> list[Any]:
    """Up to ``limit`` suppliers whose representation is missing, cleared, of another
    version or not valid ``today``."""
    if not _enabled():
        return []
    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.id FROM suppliers_supplier s
            LEFT JOIN suppliers_supplierrepresentation r ON r.supplier_id = s.id
            WHERE r.supplier_id IS NULL OR r.public IS NULL OR r.version <> %s
               OR r.as_of > %s OR r.fresh_until <= %s
            LIMIT %s
            """,
            [selectors.representation_version(), today, today, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def representations_sweep(*, seconds: float = 40.0, batch: int = BATCH) -> int:
    """Refresh stale representations, ``batch`` at a time (a transaction each), for up
    to about ``seconds``, and delete those of suppliers deleted meanwhile; the number
    stored. One sweep at a time (a PostgreSQL advisory lock): a sweep that finds
    another running does nothing. Rows a concurrent write holds or keeps clearing are
    left for the next sweep."""
    if not _enabled():
        return 0
    # A session lock, as the sweep spans many transactions. Should the task be interrupted
    # between taking it and the ``try`` below, the worker closes the connection, and the
    # lock with it (remag.celery._hand_back_connections).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_SWEEP_LOCK])
        if not cursor.fetchone()[0]:
            return 0
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM suppliers_supplierrepresentation r WHERE NOT EXISTS"
                " (SELECT 1 FROM suppliers_supplier s WHERE s.id = r.supplier_id)"
            )
        stored = 0
        deadline = time.monotonic() + seconds
        seen: set[Any] = set()
        while time.monotonic() < deadline:
            ids = [sid for sid in representations_stale(limit=batch) if sid not in seen]
            if not ids:
                break
            seen.update(ids)
            stored += representations_refresh(ids)
        return stored
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_SWEEP_LOCK])
