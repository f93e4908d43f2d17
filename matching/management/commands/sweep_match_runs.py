from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from matching.runs import match_runs_sweep


class Command(BaseCommand):
    help = (
        "Resend match runs the broker lost (queued too long) or whose worker died (running "
        "with a stale heartbeat). Celery beat does the same every minute; this is for "
        "operators, e.g. after flushing or replacing Redis."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queued-after",
            type=int,
            default=settings.REMAG_MATCH_RUN_QUEUED_TIMEOUT_SECONDS,
            help="Seconds a run may stay queued before it is resent (default %(default)s).",
        )
        parser.add_argument(
            "--lease",
            type=int,
            default=settings.REMAG_MATCH_RUN_LEASE_SECONDS,
            help="Seconds without a heartbeat before a running run is resent "
            "(default %(default)s).",
        )

    def handle(self, *args: Any, queued_after: int, lease: int, **options: Any) -> None:
        resent = match_runs_sweep(
            queued_after=timedelta(seconds=queued_after), lease=timedelta(seconds=lease)
        )
        for run_id in resent:
            self.stdout.write(f"resent {run_id}")
        self.stdout.write(self.style.SUCCESS(f"{len(resent)} match run(s) resent"))
