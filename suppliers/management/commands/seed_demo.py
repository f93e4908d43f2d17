import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from suppliers.demo import seed_demo
from suppliers.models import Supplier


class Command(BaseCommand):
    help = "Generate plausible demo SMEs over Indian industrial clusters (deterministic per seed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--suppliers", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when suppliers already exist"
        )
        parser.add_argument(
            "--with-accounts",
            action="store_true",
            help="also create demo organisations and users (demo-sme, demo-buyer, "
            "demo-portal, demo-operator) for trying the API; never on a real deployment",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["with_accounts"]:
            from remag.accounts.demo import demo_accounts_ensure

            users = demo_accounts_ensure()
            self.stdout.write(
                f"demo users (tokens only: make token TOKEN_USER=...): {', '.join(users)}"
            )
        if options["if_empty"] and Supplier.objects.exists():
            self.stdout.write("suppliers already present; demo data not loaded")
            return
        total = options["suppliers"]
        started = time.perf_counter()

        def progress(done: int) -> None:
            sys.stderr.write(f"\r{done}/{total} suppliers")
            sys.stderr.flush()

        try:
            created = seed_demo(suppliers=total, seed=options["seed"], progress=progress)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        sys.stderr.write("\n")
        elapsed = time.perf_counter() - started
        self.stdout.write(f"created {created} demo suppliers in {elapsed:.1f} s")
