from typing import Any

from django.core.management.base import BaseCommand, CommandError

from remag.accounts.models import User
from remag.accounts.services import user_token_create


class Command(BaseCommand):
    help = "Create a personal token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['username']!r}.")
        _, raw = user_token_create(user=user, name=options["name"][:50])
        self.stdout.write(raw)
