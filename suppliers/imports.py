"""Bulk onboarding: CSV or JSON-lines files of suppliers, validated row by row and
upserted by Udyam number. The column list is in docs/importing.md.

The upload is checked at once (size, encoding, emptiness, required columns) and refused
with a clear problem document, creating nothing. Rows are then validated by the same
serializer as the API and written by the same services, in chunks; each chunk's writes,
row errors, counts and checkpoint (``rows_processed``) commit together, so a job that
is run again (a lost message, a dead worker) resumes where it stopped and counts
nothing twice.
"""

import contextlib
import csv
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from remag import jobs
from remag.accounts.caller import Caller
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization, User
from remag.errors import InvalidInput, TooLarge
from remag.fielderrors import field_path, flatten_errors
from remag.jsonlimits import JSONTooDeep, loads_limited
from remag.storable import find_unstorable, printable
from remag.webhooks import events
from suppliers import services
from suppliers.access import supplier_can_change
from suppliers.choices import ImportFormat
from suppliers.exceptions import SupplierAlreadyRegistered
from suppliers.models import (
    CAPABILITY_FIELDS,
    CERTIFICATE_FIELDS,
    PLANT_FIELDS,
    PROFILE_FIELDS,
    ImportJob,
    ImportRowError,
    Supplier,
)
from suppliers.validators import normalise_udyam

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("udyam_number", "legal_name", "enterprise_size", "state", "pin_code")
OPTIONAL_COLUMNS = (
    *(name for name in PROFILE_FIELDS if name not in REQUIRED_COLUMNS),
    "capabilities",
    "certificates",
    "gstins",
    "plants",
)
CAPABILITY_PARTS = (
    "capability",
    "capacity_per_month",
    "capacity_unit",
    "lead_time_days",
    "minimum_order",
    "grades",
)
CERTIFICATE_PARTS = (
    "certification",
    "certificate_number",
    "valid_from",
    "valid_until",
    "issuing_body",
    "scope",
)
GSTIN_PARTS = ("gstin", "label")
PLANT_PARTS = (
    "name",
    "city",
    "district",
    "state",
    "pin_code",
    "latitude",
    "longitude",
    "capabilities",
    "address_line",
)
_LIST_PARTS = ("grades", "capabilities", "scope")  # parts that are themselves comma-separated lists
CHUNK_ROWS = 200
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"", "0", "false", "no", "n", "f"}
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(InvalidInput):
    """The file as a whole is unusable; nothing was created."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class Row:
    number: int  # 1-based, the header not counted
    data: dict[str, Any] | None
    raw: dict[str, str]
    error: str | None = None


# ------------------------------------------------------------------ checking the file


def detect_format(filename: str, declared: str | None) -> str:
    if declared:
        if declared not in ImportFormat.values:
            raise InvalidInput("Use csv or jsonl.", field="format")
        return declared
    lowered = filename.lower()
    if lowered.endswith(".csv"):
        return ImportFormat.CSV
    if lowered.endswith((".jsonl", ".ndjson")):
        return ImportFormat.JSONL
    raise InvalidInput(
        "Cannot tell the format from the file name; say csv or jsonl.", field="format"
    )


def decode(content: bytes) -> str:
    if not content.strip():
        raise ImportFileError("The file is empty.")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 (invalid byte at position {exc.start}); "
            "save it as UTF-8 (in Excel: 'CSV UTF-8')."
        ) from exc


def check_file(*, content: bytes, file_format: str) -> int:
    """Refuse an unusable file before any job exists; returns the number of data rows."""
    limit = settings.REMAG_IMPORT_MAX_BYTES
    if len(content) > limit:
        raise TooLarge(
            f"The file is {len(content)} bytes; imports accept at most {limit}.",
            max_bytes=limit,
        )
    text = decode(content)
    if file_format == ImportFormat.CSV:
        reader = csv.reader(io.StringIO(text))
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise ImportFileError("The file has no header row.")
            columns = {h.strip().lower() for h in header}
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise ImportFileError(f"Missing required column(s): {', '.join(missing)}.")
            rows = sum(1 for record in reader if any(cell.strip() for cell in record))
        except csv.Error as exc:
            # The csv module's own limits (a cell over csv.field_size_limit(), 131,072
            # characters) end the whole file: say where.
            raise ImportFileError(
                f"Line {reader.line_num} of the file cannot be read as CSV ({exc}); "
                f"a cell may hold at most {csv.field_size_limit():,} characters."
            ) from exc
    else:
        rows = sum(1 for line in text.splitlines() if line.strip())
    if rows == 0:
        raise ImportFileError("The file has a header but no rows.")
    return rows


# ------------------------------------------------------------------ reading rows


def _split_items(cell: str, parts: tuple[str, ...]) -> list[dict[str, Any]]:
    items = []
    for chunk in cell.split(";"):
        if not chunk.strip():
            continue
        values = [v.strip() for v in chunk.split("|")]
        item: dict[str, Any] = {}
        for name, value in zip(parts, values, strict=False):
            if value == "":
                continue
            item[name] = (
                [g.strip() for g in value.split(",") if g.strip()] if name in _LIST_PARTS else value
            )
        items.append(item)
    return items


def _boolean(value: str) -> bool | str:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return value  # left for the serializer to refuse, naming the field


def _csv_row(record: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        value = (record.get(column) or "").strip()
        if column in ("women_owned", "sc_st_owned"):
            data[column] = _boolean(value)
        elif column == "capabilities":
            data[column] = _split_items(value, CAPABILITY_PARTS)
        elif column == "certificates":
            data[column] = _split_items(value, CERTIFICATE_PARTS)
        elif column == "gstins":
            # Empty: the row's `gstin` alone says the primary GSTIN (others stay).
            if value:
                data[column] = _split_items(value, GSTIN_PARTS)
        elif column == "plants":
            # A column left out keeps the stored plants; an empty cell means none.
            if column in record:
                data[column] = _split_items(value, PLANT_PARTS)
        elif value == "" and column in (
            "gstin",
            "classification_year",
            "investment_inr",
            "turnover_inr",
            "year_established",
            "employees",
            "latitude",
            "longitude",
        ):
            data[column] = None
        else:
            data[column] = value
    return data


def read_rows(*, content: bytes, file_format: str) -> Iterator[Row]:
    text = decode(content)
    if file_format == ImportFormat.CSV:
        reader = csv.DictReader(io.StringIO(text))
        reader.fieldnames = [(h or "").strip().lower() for h in reader.fieldnames or []]
        number = 0
        for record in reader:
            raw = {k: v for k, v in record.items() if isinstance(k, str) and isinstance(v, str)}
            if not any((v or "").strip() for v in raw.values()):
                continue
            number += 1
            if None in record:
                yield Row(number, None, raw, "The row has more cells than the header.")
                continue
            yield Row(number, _csv_row(raw), raw)
        return
    number = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        number += 1
        try:
            value = loads_limited(line)
        except JSONTooDeep as exc:
            yield Row(number, None, {"line": line[:500]}, f"{exc}")
            continue
        except json.JSONDecodeError as exc:
            yield Row(number, None, {"line": line[:500]}, f"Not valid JSON: {exc.msg}.")
            continue
        if not isinstance(value, dict):
            yield Row(number, None, {"line": line[:500]}, "Each line must be a JSON object.")
            continue
        yield Row(
            number,
            value,
            {k: json.dumps(v) if not isinstance(v, str) else v for k, v in value.items()},
        )


# ------------------------------------------------------------------ writing rows


def _stored_gstins(supplier: Supplier) -> tuple[tuple[str, str], ...]:
    rows = tuple((row.gstin, row.label) for row in supplier.gstins.order_by("position"))
    return rows or (((supplier.gstin, ""),) if supplier.gstin else ())


def _stored_plants(supplier: Supplier) -> tuple[tuple[Any, ...], ...]:
    return tuple(
        sorted(
            (
                *(_norm(getattr(plant, name)) for name in PLANT_FIELDS),
                tuple(sorted(c.code for c in plant.capabilities.all())),
            )
            for plant in supplier.plants.prefetch_related("capabilities")
        )
    )


def _snapshot_instance(supplier: Supplier) -> tuple[Any, ...]:
    profile = tuple(_norm(getattr(supplier, name)) for name in PROFILE_FIELDS)
    capabilities = sorted(
        (item.capability.code, *(_norm(getattr(item, n)) for n in CAPABILITY_FIELDS))
        for item in supplier.capabilities.select_related("capability")
    )
    certificates = sorted(
        (
            item.certification.code,
            *(_norm(getattr(item, n)) for n in CERTIFICATE_FIELDS),
            tuple(sorted(c.code for c in item.scope.all())),
        )
        for item in supplier.certificates.select_related("certification").prefetch_related("scope")
    )
    return (
        profile,
        tuple(map(tuple, capabilities)),
        tuple(map(tuple, certificates)),
        _stored_gstins(supplier),
        _stored_plants(supplier),
    )


def _snapshot_validated(validated: dict[str, Any], current: Supplier) -> tuple[Any, ...]:
    defaults = {"capacity_unit": "", "grades": [], "materials": [], "description": ""}
    profile = tuple(_norm(validated.get(name, getattr(current, name))) for name in PROFILE_FIELDS)
    capabilities = sorted(
        (
            item["capability"].code,
            *(_norm(item.get(n, defaults.get(n))) for n in CAPABILITY_FIELDS),
        )
        for item in validated.get("capabilities", [])
    )
    certificates = sorted(
        (
            item["certification"].code,
            *(_norm(item.get(n, "" if n == "issuing_body" else None)) for n in CERTIFICATE_FIELDS),
            tuple(sorted(c.code for c in item.get("scope", ()))),
        )
        for item in validated.get("certificates", [])
    )
    gstins = (
        tuple((item["gstin"], item.get("label", "")) for item in validated["gstins"])
        if "gstins" in validated
        else _stored_gstins(current)
    )
    plants = (
        tuple(
            sorted(
                (
                    *(
                        _norm(item.get(name, "" if name not in _COORDINATES else None))
                        for name in PLANT_FIELDS
                    ),
                    tuple(sorted(c.code for c in item.get("capabilities", ()))),
                )
                for item in validated["plants"]
            )
        )
        if "plants" in validated
        else _stored_plants(current)
    )
    return (
        profile,
        tuple(map(tuple, capabilities)),
        tuple(map(tuple, certificates)),
        gstins,
        plants,
    )


_COORDINATES = ("latitude", "longitude")


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return tuple(value)
    if value is None:
        return ""
    return value


def caller_for_organization(organization: Organization) -> Caller:
    return Caller(
        is_authenticated=True,
        user_id=None,
        api_key_id=None,
        organization_ids=frozenset({organization.id}),
        admin_organization_ids=frozenset(),
        organization_kinds=frozenset({organization.kind}),
        is_operator=organization.kind == OrganizationKind.OPERATOR,
    )


def import_row(*, job_owner: Organization, row: Row) -> tuple[str, list[dict[str, Any]]]:
    """Validate and upsert one row; returns (outcome, errors). Outcome is created,
    updated, unchanged or failed. Runs inside the caller's transaction."""
    from suppliers.inputs import NESTED_FIELDS
    from suppliers.inputs import SupplierInputSerializer as SupplierSerializer

    if row.data is None:
        return "failed", [{"field": "", "message": row.error or "Unreadable row."}]
    unstorable = find_unstorable(row.data)
    if unstorable is not None:
        path, message = unstorable
        return "failed", [{"field": field_path(path) or "", "message": message}]
    if "gstin" in row.data and not row.data["gstin"] and not row.data.get("gstins"):
        # A row without a GSTIN has none: every GSTIN goes (the API's null `gstin` would
        # drop the primary only, and a re-import would then drop the next, and the next).
        row.data["gstins"] = []
    udyam = str(row.data.get("udyam_number") or "").strip().upper().replace(" ", "")
    # "UDYAM-KA-..." finds the profile stored as KR; a malformed number is left for the
    # serializer to refuse, naming the field.
    with contextlib.suppress(DjangoValidationError):
        udyam = normalise_udyam(udyam)
    existing = (
        Supplier.objects.filter(udyam_number=udyam).select_for_update().first() if udyam else None
    )
    serializer = SupplierSerializer(instance=existing, data=row.data)
    if not serializer.is_valid():
        return "failed", [
            {"field": e["field"] or "", "message": e["message"]}
            for e in flatten_errors(serializer.errors)
        ]
    validated = dict(serializer.validated_data)
    validated.pop("owner_id", None)
    data = services.SupplierInput(
        profile={k: v for k, v in validated.items() if k not in NESTED_FIELDS},
        capabilities=validated.get("capabilities", []),
        certificates=validated.get("certificates", []),
        gstins=validated.get("gstins"),
        plants=validated.get("plants"),
    )
    try:
        with transaction.atomic():
            if existing is None:
                owner = services.owner_for_onboarding(legal_name=validated["legal_name"])
                services.supplier_register(owner=owner, onboarded_by=job_owner, data=data)
                return "created", []
            if not supplier_can_change(
                caller=caller_for_organization(job_owner), supplier=existing
            ):
                return "failed", [
                    {
                        "field": "udyam_number",
                        "message": "Registered to a supplier this organisation may not change.",
                    }
                ]
            if _snapshot_instance(existing) == _snapshot_validated(validated, existing):
                return "unchanged", []
            services.supplier_update(supplier=existing, data=data)
            return "updated", []
    except SupplierAlreadyRegistered as exc:
        return "failed", [{"field": exc.extra["field"], "message": str(exc.detail)}]


def _import_row_isolated(*, job_owner: Organization, row: Row) -> tuple[str, list[dict[str, Any]]]:
    """``import_row`` in a savepoint: whatever one row does wrong fails that row only.
    Transient database errors are the job's (it is retried from its checkpoint)."""
    try:
        with transaction.atomic():
            return import_row(job_owner=job_owner, row=row)
    except jobs.TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        logger.exception("import row %s could not be stored", row.number)
        return "failed", [
            {"field": "", "message": f"The row could not be stored ({type(exc).__name__})."}
        ]


# ------------------------------------------------------------------ the job


def _import_finished(job: ImportJob) -> None:
    events.import_event(job)


IMPORT_JOB = jobs.JobKind(
    name="import",
    model=ImportJob,
    task_name="suppliers.import_job_execute",
    queued_timeout=lambda: timedelta(seconds=settings.REMAG_IMPORT_JOB_QUEUED_TIMEOUT_SECONDS),
    lease=lambda: timedelta(seconds=settings.REMAG_IMPORT_JOB_LEASE_SECONDS),
    on_finished=_import_finished,
)


def import_job_create(
    *,
    owner: Organization,
    created_by: User | None,
    content: bytes,
    filename: str,
    file_format: str,
) -> ImportJob:
    rows = check_file(content=content, file_format=file_format)
    job = ImportJob.objects.create(
        owner=owner,
        created_by=created_by,
        content=content,
        filename=filename[:255],
        file_format=file_format,
        size_bytes=len(content),
        rows_total=rows,
        enqueued_at=timezone.now(),
    )
    jobs.job_send(IMPORT_JOB, job.id)
    return job


def import_job_execute(
    *,
    job_id: object,
    holder: str = "",
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Process a job from its checkpoint to the end. Safe to call again at any time."""
    job = jobs.job_start(IMPORT_JOB, job_id=job_id, holder=holder)
    if job is None:
        return ImportJob.objects.get(id=job_id)

    content = bytes(job.content)
    rows = list(read_rows(content=content, file_format=job.file_format))
    owner = job.owner
    position = job.rows_processed
    while position < len(rows):
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(id=job_id)
            if job.is_finished:
                return job
            if job.rows_processed != position:
                # Another run moved on meanwhile; continue from where it got to.
                position = job.rows_processed
                continue
            counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
            errors: list[ImportRowError] = []
            for row in rows[position : position + CHUNK_ROWS]:
                outcome, row_errors = _import_row_isolated(job_owner=owner, row=row)
                counts[outcome] += 1
                for error in row_errors:
                    field = error["field"]
                    top = field.split("[")[0].split(".")[0]
                    errors.append(
                        ImportRowError(
                            job=job,
                            row_number=row.number,
                            field=printable(field)[:100],
                            message=printable(error["message"]),
                            value=printable(str(row.raw.get(top, "")))[:1000],
                        )
                    )
            ImportRowError.objects.bulk_create(errors)
            position += min(CHUNK_ROWS, len(rows) - position)
            job.rows_processed = position
            job.created_count += counts["created"]
            job.updated_count += counts["updated"]
            job.unchanged_count += counts["unchanged"]
            job.failed_count += counts["failed"]
            job.heartbeat_at = timezone.now()
            job.save()
        if progress:
            progress(job)

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(id=job_id)
        if job.is_finished:
            return job  # another run finished it
        jobs.job_succeed(IMPORT_JOB, job, rows_total=len(rows))
    return job


def import_jobs_sweep(
    *, queued_after: timedelta | None = None, lease: timedelta | None = None
) -> list[str]:
    """Resend jobs whose message was lost or whose worker died (see ``jobs_sweep``)."""
    return jobs.jobs_sweep(IMPORT_JOB, queued_after=queued_after, lease=lease)


def import_files_purge(*, older_than: timedelta) -> int:
    """Drop the uploaded file of imports that finished more than ``older_than`` ago (the
    bulk of an import row; its counts and row errors stay). Returns the number of jobs."""
    cutoff = timezone.now() - older_than
    return (
        ImportJob.objects.filter(
            status__in=(ImportJob.SUCCEEDED, ImportJob.FAILED), finished_at__lt=cutoff
        )
        .exclude(content=b"")
        .update(content=b"", updated_at=timezone.now())
    )


def csv_safe(value: str) -> str:
    """Escape a cell so a spreadsheet shows it as text instead of evaluating it."""
    if value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value
