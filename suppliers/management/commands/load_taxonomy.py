from typing import Any

from django.core.management.base import BaseCommand

from suppliers.taxonomy import TAXONOMY_FILE, taxonomy_load


class Command(BaseCommand):
    help = "Load the shipped value-chain taxonomy; idempotent, keeps operators' edits."

    def handle(self, *args: Any, **options: Any) -> None:
        report = taxonomy_load()
        self.stdout.write(
            f"taxonomy from {TAXONOMY_FILE.name}: {len(report.created)} created, "
            f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, "
            f"{len(report.kept_operator_edits)} kept as edited by operators, "
            f"{len(report.retired)} retired"
        )
        for label in report.kept_operator_edits:
            self.stdout.write(f"  kept operator edit: {label}")
