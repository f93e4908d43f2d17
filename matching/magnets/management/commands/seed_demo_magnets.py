from typing import Any

from django.core.management.base import BaseCommand

from matching.magnets.demo import demo_magnets_ensure


class Command(BaseCommand):
    help = (
        "Demo data for the magnet market: the demo manufacturer's magnet offers and demo "
        "downstream SMEs' requirements, matched (after `seed_demo --with-accounts`). "
        "Does nothing twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        offers, requirements = demo_magnets_ensure()
        self.stdout.write(f"{offers} demo magnet offers, {requirements} demo requirements")
