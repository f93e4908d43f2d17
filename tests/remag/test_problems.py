"""Every error of the API is an RFC 9457 problem document with the right status."""

from typing import Any

import pytest
from django.test import Client

from tests.factories import APIKeyFactory, MembershipFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, type_suffix: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if type_suffix is None:
        assert body["type"] == "about:blank"
    else:
        assert body["type"] == f"/api/problems/{type_suffix}"
    return body


@pytest.fixture
def admin_setup(user_client: Any) -> tuple[Any, str]:
    membership = MembershipFactory(role="admin")
    url = f"/api/v1/organizations/{membership.organization.id}/api-keys/"
    return user_client(membership.user), url


def test_validation_error_lists_each_field(admin_setup: tuple[Any, str]) -> None:
    client, url = admin_setup

    body = assert_problem(client.post(url, {"scopes": ["nope"]}), 400, "validation-error")

    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"name", "scopes[0]"}
    assert fields["scopes[0]"]["pointer"] == "#/scopes/0"
    assert fields["name"]["code"] == "required"
    assert body["instance"] == url


def test_malformed_json_is_400(admin_setup: tuple[Any, str]) -> None:
    client, url = admin_setup

    response = client.post(url, data='{"name": "k", "scopes": [', content_type="application/json")

    assert_problem(response, 400, "malformed-request")


def test_json_that_is_not_an_object_is_a_validation_error(admin_setup: tuple[Any, str]) -> None:
    client, url = admin_setup

    response = client.post(url, data="[1, 2]", content_type="application/json")

    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] is None


def test_unsupported_media_type_is_415(admin_setup: tuple[Any, str]) -> None:
    client, url = admin_setup

    response = client.post(url, data="name=k", content_type="text/plain")

    assert_problem(response, 415, "unsupported-media-type")


def test_not_acceptable_is_406(admin_setup: tuple[Any, str]) -> None:
    client, url = admin_setup

    response = client.get(url, HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert response.json()["type"] == "/api/problems/not-acceptable"


def test_unauthenticated_is_401_with_challenge(api_client: Any) -> None:
    response = api_client.get("/api/v1/me/")

    assert_problem(response, 401, "not-authenticated")
    assert "Bearer" in response["WWW-Authenticate"]


def test_bad_credentials_are_401(api_client: Any) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer abcdefgh.not-a-real-token")

    assert_problem(api_client.get("/api/v1/me/"), 401, "authentication-failed")


def test_forbidden_is_403(user_client: Any) -> None:
    membership = MembershipFactory(role="member")
    url = f"/api/v1/organizations/{membership.organization.id}/api-keys/"

    assert_problem(user_client(membership.user).get(url), 403, "permission-denied")


def test_unknown_object_is_404(user_client: Any) -> None:
    client = user_client(MembershipFactory().user)

    response = client.get("/api/v1/organizations/6f1c3f1e-64c5-4b0c-9d43-0e8a6f6d8d55/")

    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(
    "path", ["/api/v1/nowhere", "/api/v1/organizations/not-a-uuid/", "/elsewhere"]
)
def test_unknown_url_is_404_problem(path: str) -> None:
    assert_problem(Client().get(path), 404, "not-found")


@pytest.mark.parametrize("path", ["/api/v1/nowhere/", "/api/elsewhere", "/api/v1/suppliers/x/"])
def test_unknown_api_url_is_a_problem_even_in_debug(settings: Any, path: str) -> None:
    # Django answers its HTML debug page when DEBUG is on (as under `make run`).
    settings.DEBUG = True

    assert_problem(Client().get(path), 404, "not-found")


@pytest.mark.urls("tests.remag.urls_failing")
def test_an_error_outside_drf_is_a_problem_even_in_debug(settings: Any) -> None:
    settings.DEBUG = True

    response = Client(raise_request_exception=False).get("/api/v1/plain-explode")

    assert_problem(response, 500, "server-error")


def test_a_plain_django_view_under_api_answers_problems_too() -> None:
    assert_problem(Client().post("/api/problems/"), 405, "method-not-allowed")


def test_me_ends_with_a_slash_like_every_url(api_client: Any) -> None:
    response = api_client.get("/api/v1/me?x=1")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/me/?x=1"


def test_method_not_allowed_is_405(user_client: Any) -> None:
    client = user_client(MembershipFactory().user)

    assert_problem(client.delete("/api/v1/me/"), 405, "method-not-allowed")


@pytest.mark.urls("tests.remag.urls_failing")
@pytest.mark.parametrize("path", ["/api/v1/explode", "/plain/explode"])
def test_unhandled_exception_is_500_without_internals(settings: Any, path: str) -> None:
    from tests.remag.urls_failing import SECRET_MESSAGE

    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get(path)

    body = assert_problem(response, 500, "server-error")
    text = response.content.decode()
    assert SECRET_MESSAGE not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in body["detail"]


def test_problem_types_are_documented() -> None:
    response = Client().get("/api/problems/validation-error")
    listing = Client().get("/api/problems/").json()["results"]

    assert response.status_code == 200
    assert response.json()["title"] == "Your request has invalid fields"
    assert "/api/problems/throttled" in {p["type"] for p in listing}
    assert Client().get("/api/problems/no-such-problem").status_code == 404


def test_read_scope_refusal_changes_nothing() -> None:
    from remag.accounts.models import Organization, OrganizationAPIKey
    from suppliers.models import Supplier

    api_key = APIKeyFactory(scopes=["read"])
    client = Client(HTTP_X_API_KEY=api_key.raw_key)
    body = {
        "legal_name": "Scope Test Magnetics",
        "udyam_number": "UDYAM-MH-26-0054321",
        "enterprise_size": "small",
        "state": "MH",
        "pin_code": "411001",
    }
    keys, organizations = OrganizationAPIKey.objects.count(), Organization.objects.count()

    refused = client.post("/api/v1/suppliers/", body, content_type="application/json")
    refused_key = client.post(
        f"/api/v1/organizations/{api_key.organization.id}/api-keys/",
        {"name": "sneaky", "scopes": ["read", "write"]},
        content_type="application/json",
    )

    assert_problem(refused, 403, "permission-denied")
    assert_problem(refused_key, 403, "permission-denied")
    assert not Supplier.objects.exists()
    assert OrganizationAPIKey.objects.count() == keys
    assert Organization.objects.count() == organizations
    # The same registration with a write key goes through: the scope alone refused it.
    writer = APIKeyFactory(organization=api_key.organization, scopes=["read", "write"])
    accepted = Client(HTTP_X_API_KEY=writer.raw_key).post(
        "/api/v1/suppliers/", body, content_type="application/json"
    )
    assert accepted.status_code == 201, accepted.content
    assert Supplier.objects.count() == 1


@pytest.mark.django_db
def test_a_nul_character_anywhere_in_json_is_a_400_naming_the_field(
    user_client: Any, org_admin: Any
) -> None:
    from suppliers.models import Supplier

    body = {
        "legal_name": "Nul Works",
        "udyam_number": "UDYAM-MH-26-0000001",
        "enterprise_size": "small",
        "state": "MH",
        "pin_code": "411001",
        "capabilities": [{"capability": "jet-milling", "grades": ["N52", "N4\x002"]}],
    }
    response = user_client(org_admin).post("/api/v1/suppliers/", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    (error,) = response.json()["errors"]
    assert error["field"] == "capabilities[0].grades[1]"
    assert error["pointer"] == "#/capabilities/0/grades/1"
    assert not Supplier.objects.exists()
