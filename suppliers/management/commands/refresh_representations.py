from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suppliers.representations import representations_sweep


class Command(BaseCommand):
    help = (
        "Store every missing or stale supplier list representation now (the worker's "
        "beat does it within a minute; run this after a bulk load or an upgrade)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=3600.0, help="Stop after this long.")

    def handle(self, *args: Any, **options: Any) -> None:
        stored = representations_sweep(seconds=options["seconds"], batch=2000)
        self.stdout.write(f"{stored} supplier representations stored")
