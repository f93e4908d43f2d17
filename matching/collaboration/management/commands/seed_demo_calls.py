from typing import Any

from django.core.management.base import BaseCommand

from matching.collaboration.demo import demo_calls_ensure


class Command(BaseCommand):
    help = (
        "Demo data for collaboration: the demo manufacturer's open (and matched) call for "
        "collaboration (after `seed_demo --with-accounts`). Does nothing twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = demo_calls_ensure()
        self.stdout.write(f"{created} demo call(s) for collaboration opened")
