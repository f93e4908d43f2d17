import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization
from remag.errors import DomainError
from suppliers import imports
from suppliers.models import ImportJob


class Command(BaseCommand):
    help = (
        "Import suppliers from a CSV or JSON-lines file (docs/importing.md), in this "
        "process, with a progress bar. Upserts by Udyam number: running it twice on the "
        "same file creates nothing new."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=("csv", "jsonl"), help="default: from the name")
        parser.add_argument(
            "--organization",
            help="UUID of the portal or operator organisation importing (default: the "
            "first operator organisation)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        organization = self._organization(options.get("organization"))
        try:
            file_format = imports.detect_format(path.name, options.get("format"))
            content = path.read_bytes()
            rows_total = imports.check_file(content=content, file_format=file_format)
        except DomainError as exc:
            raise CommandError(_message(exc)) from exc
        job = ImportJob.objects.create(
            owner=organization,
            content=content,
            filename=path.name,
            file_format=file_format,
            size_bytes=len(content),
            rows_total=rows_total,
        )
        job = imports.import_job_execute(job_id=job.id, progress=self._progress)
        sys.stderr.write("\n")
        self.stdout.write(
            f"import {job.id}: {job.created_count} created, {job.updated_count} updated, "
            f"{job.unchanged_count} unchanged, {job.failed_count} failed"
        )
        for error in job.row_errors.all()[:50]:
            self.stdout.write(f"  row {error.row_number}: {error.field or '-'}: {error.message}")
        if job.failed_count > 50:
            self.stdout.write(f"  ... and more; see the job {job.id} in the admin or the API")

    def _organization(self, given: str | None) -> Organization:
        kinds = (OrganizationKind.PORTAL, OrganizationKind.OPERATOR)
        queryset = Organization.objects.filter(kind__in=kinds, is_active=True)
        organization = (
            queryset.filter(id=given).first()
            if given
            else queryset.filter(kind=OrganizationKind.OPERATOR).order_by("created_at").first()
        )
        if organization is None:
            raise CommandError(
                "No importing organisation: give --organization (a portal or operator) or "
                "create an operator organisation first."
            )
        return organization

    def _progress(self, job: ImportJob) -> None:
        total = max(job.rows_total, 1)
        done = job.rows_processed
        width = 40
        filled = int(width * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows")
        sys.stderr.flush()


def _message(exc: DomainError) -> str:
    return f"{exc.field}: {exc.detail}" if exc.field else exc.detail
