"""What Django refuses as it reads a request (more query string or form fields, or files,
than it reads) is the client's error: a 400 problem document, as Django answers it outside
the API, never a 500, and nothing is written."""

from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from suppliers.models import ImportJob
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def many_fields(count: int) -> str:
    return "&".join(f"f{i}=x" for i in range(count))


def assert_refused(response: Any, words: str) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/problems/malformed-request"
    assert words in problem["detail"]


@pytest.mark.parametrize("path", ["/api/v1/taxonomy/layers/", "/api/schema/"])
def test_too_many_query_fields_of_an_anonymous_caller(api_client: Any, path: str) -> None:
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    assert api_client.get(f"{path}?{many_fields(limit)}").status_code == 200
    assert_refused(api_client.get(f"{path}?{many_fields(limit + 1)}"), f"at most {limit}")


def test_too_many_query_fields_of_a_member(user_client: Any, api_client: Any) -> None:
    client = user_client(MembershipFactory(organization__kind="manufacturer").user)
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = client.get(f"/api/v1/suppliers/?{many_fields(limit + 1)}")
    assert_refused(response, "query string or form fields")


def test_too_many_form_fields_or_files_of_an_upload_write_nothing(
    operator: Any, user_client: Any
) -> None:
    """An import's upload (multipart) with a field or a file too many: refused as the
    parser reads it, and no import started."""
    client = user_client(operator)
    upload = SimpleUploadedFile("suppliers.csv", b"legal_name\nA\n", content_type="text/csv")
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post("/api/v1/imports/", {"file": upload, **fields}, format="multipart")
    assert_refused(response, "query string or form fields")
    files = {
        f"file{i}": SimpleUploadedFile(f"a{i}.csv", b"x", content_type="text/csv")
        for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    }
    response = client.post("/api/v1/imports/", files, format="multipart")
    assert_refused(response, f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES}")
    assert not ImportJob.objects.exists()
