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


# ------------------------------------------------------------------ bodies of actions


@pytest.fixture
def draft_request(db: None) -> tuple[Any, str]:
    """A draft procurement request of a buyer, and the buyer's client."""
    from tests.matching.conftest import build_world, client_for, post_request_as

    world = build_world()
    created = post_request_as(world.buyer)
    return client_for(world.buyer), created["id"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "problem"),
    [
        (b'{"note": ', "application/json", 400, "malformed-request"),
        (b"\xff\xfe{}", "application/json", 400, "malformed-request"),
        (b"publish it", "text/plain", 415, "unsupported-media-type"),
    ],
    ids=["broken JSON", "not UTF-8", "not JSON"],
)
def test_an_action_refuses_a_body_it_cannot_read_and_does_nothing(
    draft_request: tuple[Any, str], body: bytes, content_type: str, status: int, problem: str
) -> None:
    """An action that takes no body (publish) still refuses one it cannot parse, as the
    endpoints that read theirs do, rather than acting on it."""
    from matching.models import ProcurementRequest

    client, request_id = draft_request
    url = f"/api/v1/requests/{request_id}/publish/"
    response = client.generic("POST", url, body, content_type=content_type)
    assert response.status_code == status, response.content[:300]
    assert response.json()["type"] == f"/api/problems/{problem}"
    assert ProcurementRequest.objects.get(id=request_id).status == "draft"
    # Without a body, or with JSON, it acts.
    assert client.post(url, format="json").status_code == 200
    assert ProcurementRequest.objects.get(id=request_id).status == "open"
