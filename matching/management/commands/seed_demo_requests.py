from typing import Any

from django.core.management.base import BaseCommand

from matching.demo import demo_requests_ensure


class Command(BaseCommand):
    help = (
        "Demo data for matching: the demo buyer's published requests and a verified "
        "supplier for the demo SME (after `seed_demo --with-accounts`). Does nothing twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = demo_requests_ensure()
        self.stdout.write(f"{created} demo requests published")
