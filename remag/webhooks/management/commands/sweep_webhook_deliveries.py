from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from remag.webhooks.services import deliveries_sweep


class Command(BaseCommand):
    help = (
        "Send webhook deliveries that are due and that no worker holds (their message was "
        "lost, or their worker died). Celery beat does it every minute; this is for "
        "operators, e.g. after flushing or replacing Redis."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace",
            type=int,
            default=settings.REMAG_WEBHOOK_SWEEP_GRACE_SECONDS,
            help="Only deliveries due for at least this many seconds (default %(default)s).",
        )

    def handle(self, *args: Any, grace: int, **options: Any) -> None:
        resent = deliveries_sweep(grace=timedelta(seconds=grace))
        self.stdout.write(self.style.SUCCESS(f"{len(resent)} delivery(ies) sent"))
