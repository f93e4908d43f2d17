"""Retention: beat deletes old events and drops the files of long-finished imports."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from remag.webhooks import events, services
from remag.webhooks.models import Delivery, Event, EventAudience
from suppliers import imports
from suppliers.models import ImportJob
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

SAMPLE = (Path(__file__).resolve().parents[2] / "docs" / "samples" / "suppliers.csv").read_bytes()


def test_events_older_than_the_retention_go_with_their_deliveries(settings: Any) -> None:
    settings.REMAG_WEBHOOK_ALLOW_HTTP = True
    organization = OrganizationFactory(kind="portal")
    services.endpoint_create(
        organization=organization, url="http://127.0.0.1:9/hook", event_types=["supplier.created"]
    )
    old = events.emit("supplier.created", {}, audience=[organization.id])
    new = events.emit("supplier.created", {}, audience=[organization.id])
    long_ago = timezone.now() - timedelta(days=91)
    Event.objects.filter(id=old.id).update(occurred_at=long_ago)

    assert services.events_purge(older_than=timedelta(days=90)) == 1

    assert list(Event.objects.values_list("id", flat=True)) == [new.id]
    assert Delivery.objects.filter(event=old).count() == 0
    assert Delivery.objects.filter(event=new).count() == 1
    assert not EventAudience.objects.filter(event_id=old.id).exists()
    assert services.events_purge(older_than=timedelta(days=90)) == 0


def test_finished_imports_lose_their_file_after_the_retention() -> None:
    portal = OrganizationFactory(kind="portal")

    def job(status: str, finished_days_ago: int | None) -> ImportJob:
        made = imports.import_job_create(
            owner=portal, created_by=None, content=SAMPLE, filename="s.csv", file_format="csv"
        )
        finished = timezone.now() - timedelta(days=finished_days_ago) if finished_days_ago else None
        ImportJob.objects.filter(id=made.id).update(
            status=status, finished_at=finished, created_count=3
        )
        return made

    old_done = job("succeeded", 31)
    old_failed = job("failed", 40)
    recent = job("succeeded", 2)
    stuck = job("running", None)

    assert imports.import_files_purge(older_than=timedelta(days=30)) == 2

    def content(j: ImportJob) -> bytes:
        return bytes(ImportJob.objects.get(id=j.id).content)

    assert content(old_done) == b""
    assert content(old_failed) == b""
    assert content(recent) == SAMPLE
    assert content(stuck) == SAMPLE
    assert ImportJob.objects.get(id=old_done.id).created_count == 3  # the counts stay
    assert imports.import_files_purge(older_than=timedelta(days=30)) == 0


def test_beat_runs_the_purges() -> None:
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "remag.api.tasks.idempotency_keys_purge",
        "webhooks.events_purge",
        "suppliers.import_files_purge",
    } <= tasks
