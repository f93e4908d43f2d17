"""Bulk onboarding: clear refusals of bad files, per-row errors, idempotent re-import,
formula cells kept as text, resumable jobs, and a real worker end to end."""

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from remag import jobs
from remag.accounts.models import Organization
from suppliers import imports
from suppliers.models import ImportJob, Supplier
from tests.conftest import wait_for
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
HEADER = "udyam_number,legal_name,enterprise_size,state,pin_code,contact_phone,capabilities\n"


@pytest.fixture
def portal() -> Organization:
    return OrganizationFactory(kind="portal")


@pytest.fixture
def portal_client(key_client: Any, portal: Organization) -> Any:
    return key_client(portal)


def upload(client: Any, content: bytes, name: str = "suppliers.csv", **extra: Any) -> Any:
    return client.post(
        URL, {"file": SimpleUploadedFile(name, content), **extra}, format="multipart"
    )


def run(response: Any) -> ImportJob:
    """Do what the worker does with the job the upload created."""
    assert response.status_code == 202, response.json()
    return imports.import_job_execute(job_id=response.json()["id"])


def test_sample_csv_imports_and_reimport_creates_nothing(portal_client: Any, portal: Any) -> None:
    content = (SAMPLES / "suppliers.csv").read_bytes()

    first = run(upload(portal_client, content))
    second = run(upload(portal_client, content))

    assert (first.created_count, first.failed_count) == (3, 0)
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 3)
    assert Supplier.objects.count() == 3
    lab = Supplier.objects.get(udyam_number="UDYAM-KR-03-0091212")
    assert lab.onboarded_by == portal
    assert (lab.legal_form, lab.pan) == ("llp", "AAVFP4418Q")
    assert sorted(lab.capabilities.values_list("capability__code", flat=True)) == [
        "gaussmeter-calibration", "hysteresigraph-testing", "salt-spray-testing",
    ]  # fmt: skip
    # One ISO/IEC 17025 accreditation by NABL (no separate NABL certificate), scoped.
    (accreditation,) = lab.certificates.all()
    assert (accreditation.certification.code, accreditation.issuing_body) == (
        "iso-iec-17025",
        "NABL",
    )
    assert sorted(accreditation.scope.values_list("code", flat=True)) == [
        "gaussmeter-calibration", "hysteresigraph-testing", "salt-spray-testing",
    ]  # fmt: skip


def test_sample_jsonl_imports(portal_client: Any) -> None:
    job = run(upload(portal_client, (SAMPLES / "suppliers.jsonl").read_bytes(), "s.jsonl"))

    assert job.created_count == 2
    rotor = Supplier.objects.get(udyam_number="UDYAM-GJ-07-0055120")
    assert rotor.capabilities.get(capability__code="traction-motor-rotors").grades == [
        "n42sh",
        "n45uh",
    ]


def test_changed_row_updates_in_place(portal_client: Any) -> None:
    content = (SAMPLES / "suppliers.csv").read_bytes()
    run(upload(portal_client, content))

    job = run(
        upload(
            portal_client,
            content.replace(b"Hosur Surface Finishers", b"Hosur Surface Finishers Pvt"),
        )
    )

    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 2)
    assert Supplier.objects.filter(legal_name="Hosur Surface Finishers Pvt").exists()


def test_upload_answers_202_with_the_job(portal_client: Any) -> None:
    response = upload(portal_client, (SAMPLES / "suppliers.csv").read_bytes())

    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == body["url"]
    # WSGI servers refuse header values that are str subclasses (DRF's Hyperlink).
    assert type(response.headers["Location"]) is str
    assert body["status"] == "queued"
    assert body["rows_total"] == 3
    assert portal_client.get(body["url"]).json()["id"] == body["id"]


def test_row_errors_name_row_and_field(portal_client: Any) -> None:
    content = (
        HEADER
        + "UDYAM-MH-26-0000001,Good Works,small,MH,411026,,sintering\n"
        + "UDYAM-QQ-26-0000002,Bad State Works,small,MH,411026,,\n"
        + "UDYAM-MH-26-0000003,Bad Pin Works,small,MH,0110,,\n"
        + "UDYAM-MH-26-0000004,Bad Capability Works,small,MH,411026,,sintering; warp-drive\n"
    ).encode()

    job = run(upload(portal_client, content))

    assert (job.created_count, job.failed_count) == (1, 3)
    errors = portal_client.get(f"{URL}{job.id}/errors/").json()["results"]
    assert [(e["row_number"], e["field"]) for e in errors] == [
        (2, "udyam_number"), (3, "pin_code"), (4, "capabilities[1].capability"),
    ]  # fmt: skip
    assert errors[2]["value"] == "sintering; warp-drive"
    assert Supplier.objects.count() == 1


def test_formula_cells_are_stored_as_text_and_escaped_on_export(portal_client: Any) -> None:
    formula = '=HYPERLINK("http://evil.example","click")'
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER.strip().split(","))
    writer.writerow(
        ["UDYAM-MH-26-0000011", formula, "small", "MH", "411026", "+91 20 1234 5678", ""]
    )
    writer.writerow(["UDYAM-MH-26-0000012", "@SUM(A1)", "small", "MH", "0000", "", ""])
    content = buffer.getvalue().encode()

    job = run(upload(portal_client, content))

    assert Supplier.objects.get(udyam_number="UDYAM-MH-26-0000011").legal_name == formula
    assert job.failed_count == 1
    export = portal_client.get(f"{URL}{job.id}/errors/csv/")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == ["row_number", "field", "message", "value"]
    assert rows[1][1] == "pin_code"
    # The pin cell "0000" is not a formula; a formula-like value would be quoted with '.
    assert imports.csv_safe("@SUM(A1)") == "'@SUM(A1)"
    assert imports.csv_safe("-2+3") == "'-2+3"
    assert imports.csv_safe("Pune") == "Pune"


def test_formula_value_in_an_error_is_escaped_in_export(portal_client: Any) -> None:
    content = (HEADER + "UDYAM-MH-26-0000021,Works,small,MH,=1+2,,\n").encode()

    job = run(upload(portal_client, content))
    rows = list(
        csv.reader(io.StringIO(portal_client.get(f"{URL}{job.id}/errors/csv/").content.decode()))
    )

    assert rows[1][1:] == ["pin_code", rows[1][2], "'=1+2"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "s.csv", "empty"),
        (b"   \n\n", "s.csv", "empty"),
        ("udyam_number,legal_name\nUDYAM-MH-26-0000001,Café\n".encode("latin-1"), "s.csv", "UTF-8"),
        (
            b"udyam_number,legal_name\nUDYAM-MH-26-0000001,X\n",
            "s.csv",
            "enterprise_size, state, pin_code",
        ),
        (HEADER.encode(), "s.csv", "no rows"),
    ],
)
def test_bad_files_are_refused_and_change_nothing(
    portal_client: Any, content: bytes, name: str, message: str
) -> None:
    response = upload(portal_client, content, name)

    assert response.status_code == 400
    problem = response.json()
    assert problem["errors"][0]["field"] == "file"
    assert message in problem["errors"][0]["message"]
    assert not ImportJob.objects.exists()


def test_unknown_format_is_refused(portal_client: Any) -> None:
    response = upload(portal_client, b"a,b\n", "suppliers.xlsx")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


def test_file_over_the_limit_is_413(portal_client: Any, settings: Any) -> None:
    settings.REMAG_IMPORT_MAX_BYTES = 100
    content = (SAMPLES / "suppliers.csv").read_bytes()

    response = upload(portal_client, content)

    assert response.status_code == 413
    assert response.json()["max_bytes"] == 100
    assert not ImportJob.objects.exists()


def test_malformed_jsonl_lines_are_row_errors(portal_client: Any) -> None:
    good = (SAMPLES / "suppliers.jsonl").read_text().splitlines()[0]
    content = f"{good}\n{{not json\n[1,2]\n".encode()

    job = run(upload(portal_client, content, "s.jsonl"))

    assert (job.created_count, job.failed_count) == (1, 2)
    messages = list(job.row_errors.values_list("row_number", "message"))
    assert messages[0][0] == 2
    assert "Not valid JSON" in messages[0][1]
    assert messages[1] == (3, "Each line must be a JSON object.")


def test_a_nul_character_in_a_jsonl_row_is_a_row_error(portal_client: Any) -> None:
    import json

    record = json.loads((SAMPLES / "suppliers.jsonl").read_text().splitlines()[0])
    record["capabilities"][0]["grades"] = ["N52\x00"]
    content = (json.dumps(record) + "\n").encode()

    job = run(upload(portal_client, content, "s.jsonl"))

    assert (job.created_count, job.failed_count) == (0, 1)
    error = job.row_errors.get()
    assert error.field == "capabilities[0].grades[0]"
    assert "NUL" in error.message
    assert not Supplier.objects.exists()


def test_portal_cannot_overwrite_a_supplier_it_does_not_manage(portal_client: Any) -> None:
    SupplierFactory(udyam_number="UDYAM-MH-26-0000001", legal_name="Original")
    content = (HEADER + "UDYAM-MH-26-0000001,Hijacked,small,MH,411026,,\n").encode()

    job = run(upload(portal_client, content))

    assert job.failed_count == 1
    assert job.row_errors.get().field == "udyam_number"
    assert Supplier.objects.get().legal_name == "Original"


def test_only_portals_and_operators_import(user_client: Any) -> None:
    sme = MembershipFactory(organization=OrganizationFactory(kind="sme")).user

    response = upload(user_client(sme), (SAMPLES / "suppliers.csv").read_bytes())

    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_jobs_of_other_organisations_are_invisible(portal_client: Any, key_client: Any) -> None:
    response = upload(portal_client, (SAMPLES / "suppliers.csv").read_bytes())
    other = key_client(OrganizationFactory(kind="portal"))

    assert other.get(response.json()["url"]).status_code == 404
    assert other.get(URL).json()["results"] == []


def test_a_rerun_resumes_from_the_checkpoint(portal_client: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    content = HEADER + "".join(
        f"UDYAM-MH-26-{n:07d},Works {n},small,MH,411026,,\n" for n in range(1, 6)
    )
    job_id = upload(portal_client, content.encode()).json()["id"]
    # A first run that died after its first chunk committed:
    ImportJob.objects.filter(id=job_id).update(status="running", rows_processed=2, created_count=2)
    for n in (1, 2):
        SupplierFactory(udyam_number=f"UDYAM-MH-26-{n:07d}")

    job = imports.import_job_execute(job_id=job_id)

    assert (job.rows_processed, job.created_count, job.status) == (5, 5, "succeeded")
    assert Supplier.objects.count() == 5


def test_finished_job_run_again_changes_nothing(portal_client: Any) -> None:
    job = run(upload(portal_client, (SAMPLES / "suppliers.csv").read_bytes()))

    again = imports.import_job_execute(job_id=job.id)

    assert (again.created_count, again.attempts) == (3, 1)
    assert Supplier.objects.count() == 3


def test_job_that_keeps_failing_ends_failed(portal_client: Any, settings: Any) -> None:
    job_id = upload(portal_client, (SAMPLES / "suppliers.csv").read_bytes()).json()["id"]
    ImportJob.objects.filter(id=job_id).update(failures=settings.REMAG_JOB_MAX_ATTEMPTS - 1)

    assert jobs.job_fail(imports.IMPORT_JOB, job_id=job_id, error="ValueError: bad") is None

    job = imports.import_job_execute(job_id=job_id)
    assert job.status == "failed"
    assert job.error == "ValueError: bad"
    assert not Supplier.objects.exists()


def test_job_whose_worker_keeps_dying_ends_failed_after_its_budget(
    portal_client: Any, settings: Any
) -> None:
    job_id = upload(portal_client, (SAMPLES / "suppliers.csv").read_bytes()).json()["id"]
    long_ago = timezone.now() - timedelta(seconds=settings.REMAG_JOB_TIME_BUDGET_SECONDS + 1)
    ImportJob.objects.filter(id=job_id).update(
        status="running", attempts=4, started_at=long_ago, heartbeat_at=long_ago
    )

    job = imports.import_job_execute(job_id=job_id)

    assert job.status == "failed"
    assert "Gave up" in job.error
    assert not Supplier.objects.exists()


def test_sweep_resends_lost_and_stale_jobs_only(
    portal_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ids = [
        upload(portal_client, (SAMPLES / "suppliers.csv").read_bytes()).json()["id"]
        for _ in range(4)
    ]
    old = timezone.now() - timedelta(hours=1)
    ImportJob.objects.filter(id=ids[0]).update(enqueued_at=old)  # message lost
    ImportJob.objects.filter(id=ids[1]).update(
        status="running", enqueued_at=old, heartbeat_at=old
    )  # worker died
    # Created long ago but sent again just now (a backlog): not resent again.
    ImportJob.objects.filter(id=ids[2]).update(created_at=old)

    with django_capture_on_commit_callbacks() as callbacks:
        resent = imports.import_jobs_sweep(
            queued_after=timedelta(minutes=5), lease=timedelta(minutes=10)
        )

    assert sorted(resent) == sorted(ids[:2])
    assert len(callbacks) == 2
    # The sweep moved them forward: the next sweep leaves them to their new message.
    with django_capture_on_commit_callbacks() as callbacks:
        again = imports.import_jobs_sweep(
            queued_after=timedelta(minutes=5), lease=timedelta(minutes=10)
        )
    assert again == []
    assert callbacks == []


def test_command_imports_with_progress(capsys: Any) -> None:
    OrganizationFactory(kind="operator")

    call_command("import_suppliers", str(SAMPLES / "suppliers.csv"))
    call_command("import_suppliers", str(SAMPLES / "suppliers.csv"))

    out, err = capsys.readouterr()
    assert "3 created" in out
    assert "0 created, 0 updated, 3 unchanged, 0 failed" in out
    assert "3/3 rows" in err


def test_command_refuses_a_bad_file(tmp_path: Path) -> None:
    from django.core.management import CommandError

    OrganizationFactory(kind="operator")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"legal_name\nX\n")

    with pytest.raises(CommandError, match="Missing required column"):
        call_command("import_suppliers", str(bad))
    assert not ImportJob.objects.exists()


def test_upload_is_idempotent(portal_client: Any) -> None:
    content = (SAMPLES / "suppliers.csv").read_bytes()

    first = portal_client.post(
        URL,
        {"file": SimpleUploadedFile("s.csv", content)},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="imp-1",
    )
    second = portal_client.post(
        URL,
        {"file": SimpleUploadedFile("s.csv", content)},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="imp-1",
    )

    assert first.json()["id"] == second.json()["id"]
    assert ImportJob.objects.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_processes_an_upload(
    postgres: None, celery_worker_process: Any, key_client: Any
) -> None:
    from suppliers.taxonomy import taxonomy_load

    taxonomy_load()
    client = key_client(OrganizationFactory(kind="portal"))
    celery_worker_process()

    response = upload(client, (SAMPLES / "suppliers.csv").read_bytes())
    job_url = response.json()["url"]

    done = wait_for(
        lambda: (body := client.get(job_url).json())["status"] in ("succeeded", "failed") and body,
        timeout=90,
    )
    assert done["status"] == "succeeded", done
    assert done["created_count"] == 3
    assert Supplier.objects.count() == 3
    from remag.webhooks.models import Event

    finished = Event.objects.get(type="import.finished")
    assert finished.payload["import"]["id"] == done["id"]
    assert finished.payload["import"]["created_count"] == 3
    assert Event.objects.filter(type="supplier.created").count() == 3


def test_json_samples_are_valid_json() -> None:
    for line in (SAMPLES / "suppliers.jsonl").read_text().splitlines():
        assert isinstance(json.loads(line), dict)


# ------------------------------------------------------------------ one bad row, one row error


def many_rows(count: int, bad: dict[int, str] | None = None) -> bytes:
    """A CSV of ``count`` valid suppliers; ``bad`` replaces the legal name of some rows."""
    lines = [HEADER]
    for number in range(1, count + 1):
        name = (bad or {}).get(number, f"Row {number} Works")
        lines.append(f"UDYAM-MH-26-{number:07d},{name},small,MH,411026,,sintering\n")
    return "".join(lines).encode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_nul_in_one_csv_cell_fails_that_row_only_on_a_real_worker(
    postgres: None, celery_worker_process: Any, portal_client: Any
) -> None:
    from suppliers.taxonomy import taxonomy_load

    taxonomy_load()
    celery_worker_process()
    response = upload(portal_client, many_rows(450, {300: "Nul\x00Works"}))
    assert response.status_code == 202

    job = wait_for(
        lambda: ImportJob.objects.filter(id=response.json()["id"], status="succeeded").first()
    )

    assert (job.created_count, job.failed_count, job.rows_processed) == (449, 1, 450)
    error = job.row_errors.get()
    assert (error.row_number, error.field) == (300, "legal_name")
    assert "NUL" in error.message
    assert error.value == "Nul\\u0000Works"  # stored, and shown, escaped
    assert Supplier.objects.count() == 449


def test_a_lone_surrogate_in_a_jsonl_line_fails_that_line_only(
    postgres: None, portal_client: Any
) -> None:
    good = (SAMPLES / "suppliers.jsonl").read_text().splitlines()
    broken = good[0].replace('"legal_name": "', '"legal_name": "\\ud800', 1)
    content = "\n".join([good[0], broken, good[1]]).encode() + b"\n"

    job = run(upload(portal_client, content, "s.jsonl"))

    assert job.status == "succeeded"
    assert (job.created_count, job.failed_count) == (2, 1)
    error = job.row_errors.get()
    assert (error.row_number, error.field) == (2, "legal_name")
    assert "surrogate" in error.message
    assert "\\ud800" in error.value


def test_a_deeply_nested_jsonl_line_is_a_row_error(portal_client: Any) -> None:
    good = (SAMPLES / "suppliers.jsonl").read_text().splitlines()[0]
    deep = '{"udyam_number": ' + "[" * 5000 + "]" * 5000 + "}"
    content = f"{good}\n{deep}\n".encode()

    job = run(upload(portal_client, content, "s.jsonl"))

    assert job.status == "succeeded"
    assert (job.created_count, job.failed_count) == (1, 1)
    error = job.row_errors.get()
    assert error.row_number == 2
    assert "deeper than" in error.message


def test_a_row_the_database_refuses_fails_alone(
    postgres: None, portal_client: Any, monkeypatch: Any
) -> None:
    """Whatever slips past validation and breaks in the write fails its row, not the chunk."""
    from django.db import DataError

    real = imports.import_row

    def flaky(*, job_owner: Any, row: Any) -> Any:
        if row.number == 2:
            Supplier.objects.raw("SELECT 1/0").__iter__().__next__()  # a real database error
        return real(job_owner=job_owner, row=row)

    monkeypatch.setattr(imports, "import_row", flaky)
    job = run(upload(portal_client, many_rows(3)))

    assert job.status == "succeeded"
    assert (job.created_count, job.failed_count) == (2, 1)
    assert "could not be stored (DataError)" in job.row_errors.get().message
    assert DataError  # the error PostgreSQL raises for 1/0


def test_a_csv_cell_over_the_csv_limit_is_a_400_naming_the_line(portal_client: Any) -> None:
    huge = "x" * 131_073
    content = many_rows(2) + f"UDYAM-MH-26-0000009,{huge},small,MH,411026,,\n".encode()

    response = upload(portal_client, content)

    assert response.status_code == 400
    problem = response.json()
    assert problem["errors"][0]["field"] == "file"
    assert "Line 4" in problem["errors"][0]["message"]
    assert "131,072" in problem["errors"][0]["message"]
    assert not ImportJob.objects.exists()


def test_jsonl_lines_of_wrong_shapes_fail_alone_naming_the_field(portal_client: Any) -> None:
    """Hostile lines (an integer of 5,000 digits, a list or an object where a code is
    expected, a name of 1e400 or NaN, which a text field would store as "inf" or "nan")
    fail one by one, each naming what is wrong; the good lines are imported."""
    good = [json.loads(line) for line in (SAMPLES / "suppliers.jsonl").read_text().splitlines()[:2]]
    certificate = {
        "certificate_number": "Q-1",
        "valid_from": "2025-04-01",
        "valid_until": "2028-03-31",
    }
    lines = [
        json.dumps(good[0]),
        '{"employees": ' + "9" * 5000 + "}",
        json.dumps({**good[1], "certificates": [{**certificate, "certification": []}]}),
        json.dumps({**good[1], "capabilities": [{"capability": {}}]}),
        json.dumps({**good[1], "legal_name": "x"}).replace(
            '"legal_name": "x"', '"legal_name": 1e400'
        ),
        json.dumps({**good[1], "legal_name": "x"}).replace(
            '"legal_name": "x"', '"legal_name": NaN'
        ),
        json.dumps(good[1]),
    ]

    job = run(upload(portal_client, ("\n".join(lines) + "\n").encode(), "suppliers.jsonl"))

    assert job.status == "succeeded"
    assert (job.created_count, job.failed_count) == (2, 5)
    errors = portal_client.get(f"{URL}{job.id}/errors/").json()["results"]
    assert [(e["row_number"], e["field"]) for e in errors] == [
        (2, ""), (3, "certificates[0].certification"), (4, "capabilities[0].capability"),
        (5, ""), (6, ""),
    ]  # fmt: skip
    assert "too many digits" in errors[0]["message"]
    assert "1e400 is out of range" in errors[3]["message"]
    assert "NaN is not a JSON number" in errors[4]["message"]
    assert not Supplier.objects.filter(legal_name__in=["inf", "nan"]).exists()
    assert all("could not be stored" not in e["message"] for e in errors)
