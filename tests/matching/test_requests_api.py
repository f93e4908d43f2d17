"""The procurement request API: validation with field errors, ownership, the status
machine and who sees what."""

from datetime import timedelta
from typing import Any

import pytest

from matching.models import MatchRun, ProcurementRequest
from matching.scoring import FACTORS
from tests.factories import APIKeyFactory, MembershipFactory, OrganizationFactory
from tests.matching.conftest import client_for, request_body, today

pytestmark = pytest.mark.django_db


def fields_of(response: Any) -> dict[str, str]:
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json"), body
    return {e["field"]: e["message"] for e in body.get("errors", [])}


def test_a_manufacturer_creates_a_draft(world: Any) -> None:
    response = client_for(world.buyer).post("/api/v1/requests/", request_body(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert body["owner"] == str(world.buyer_org.id)
    assert body["required_capabilities"] == ["hydrogen-decrepitation", "jet-milling"]
    assert body["delivery_latitude"] == 18.52
    assert not MatchRun.objects.exists()  # drafts are not matched until asked


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"required_capabilities": ["no-such-thing"]}, "required_capabilities", "Unknown"),
        ({"required_capabilities": []}, "required_capabilities", ""),
        (
            {"required_capabilities": ["jet-milling", "hysteresigraph-testing"]},
            "required_capabilities",
            "Not in the components layer: hysteresigraph-testing",
        ),
        ({"quantity_unit": "hours"}, "quantity_unit", "does not fit"),
        ({"quantity_unit": "litres"}, "quantity_unit", ""),
        ({"quantity": "-5"}, "quantity", ""),
        ({"quantity": None}, "quantity", "Give the quantity"),
        ({"needed_by": "2020-01-01"}, "needed_by", "in the past"),
        ({"weights": {"distance": -1}}, "weights", ""),
        ({"weights": {"nonsense": 1}}, "weights", "Unknown factor"),
        ({"weights": {"distance": "heavy"}}, "weights", ""),
        ({"weights": {"distance": True}}, "weights", ""),
        ({"weights": [1, 2]}, "weights", ""),
        (
            {"weights": dict.fromkeys(FACTORS, 0)},
            "weights",
            "all be zero",
        ),
        ({"preferred_certifications": ["iso-9001"]}, "preferred_certifications", "Already"),
        ({"delivery_longitude": None}, "delivery_longitude", "both"),
        ({"delivery_latitude": 51.5}, "delivery_latitude", ""),
        (
            {"delivery_latitude": None, "delivery_longitude": None, "max_distance_km": 100},
            "max_distance_km",
            "needs the delivery",
        ),
        ({"delivery_state": "XX"}, "delivery_state", ""),
        ({"delivery_pin_code": "12"}, "delivery_pin_code", ""),
        ({"delivery_pin_code": ""}, "delivery_pin_code", ""),
        ({"required_capabilities": [f"c{i}" for i in range(500)]}, "required_capabilities", ""),
        ({"title": "x" * 5000}, "title", ""),
    ],
)
def test_bad_requests_name_the_field(world: Any, overrides: dict, field: str, words: str) -> None:
    response = client_for(world.buyer).post(
        "/api/v1/requests/", request_body(**overrides), format="json"
    )
    assert response.status_code == 400
    errors = fields_of(response)
    assert any(name == field or name.startswith(f"{field}.") for name in errors), errors
    assert words in " ".join(errors.values())
    assert not ProcurementRequest.objects.exists()


def test_only_manufacturers_and_operators_post_requests(world: Any) -> None:
    sme = client_for(world.sme_users["full"])
    assert sme.post("/api/v1/requests/", request_body(), format="json").status_code == 403
    portal = APIKeyFactory(organization=world.portal_org)
    response = client_with_key(portal.raw_key).post(
        "/api/v1/requests/", request_body(), format="json"
    )
    assert response.status_code == 403
    operator = client_for(world.operator)
    # An operator must say for which manufacturer.
    response = operator.post("/api/v1/requests/", request_body(), format="json")
    assert response.status_code == 400
    assert "owner" in fields_of(response)
    response = operator.post(
        "/api/v1/requests/", request_body(owner=str(world.buyer_org.id)), format="json"
    )
    assert response.status_code == 201
    assert response.json()["owner"] == str(world.buyer_org.id)


def client_with_key(raw: str) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_a_manufacturer_cannot_post_for_another(world: Any) -> None:
    other_org = world.other_buyer.memberships.first().organization
    response = client_for(world.buyer).post(
        "/api/v1/requests/", request_body(owner=str(other_org.id)), format="json"
    )
    assert response.status_code == 400
    assert "do not act" in fields_of(response)["owner"]


def test_a_manufacturer_key_posts_requests(world: Any) -> None:
    key = APIKeyFactory(organization=world.buyer_org)
    response = client_with_key(key.raw_key).post("/api/v1/requests/", request_body(), format="json")
    assert response.status_code == 201


def test_update_while_draft_and_open_then_409(world: Any, post_request: Any) -> None:
    created = post_request()
    client = client_for(world.buyer)
    url = f"/api/v1/requests/{created['id']}/"
    response = client.patch(url, {"title": "Renamed", "quantity": "750"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    assert client.post(f"{url}publish/").status_code == 200
    runs_before = MatchRun.objects.filter(request_id=created["id"]).count()
    MatchRun.objects.filter(request_id=created["id"]).update(status="succeeded")
    response = client.patch(url, {"needed_by": str(today() + timedelta(days=90))}, format="json")
    assert response.status_code == 200
    # Changing the criteria of an open request rescores it.
    assert MatchRun.objects.filter(request_id=created["id"]).count() == runs_before + 1
    assert client.post(f"{url}close/").status_code == 200
    response = client.patch(url, {"title": "Too late"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "request_not_editable"
    assert ProcurementRequest.objects.get(id=created["id"]).title == "Renamed"


def test_partial_update_checks_the_stored_layer(world: Any, post_request: Any) -> None:
    created = post_request()
    response = client_for(world.buyer).patch(
        f"/api/v1/requests/{created['id']}/",
        {"required_capabilities": ["hysteresigraph-testing"]},
        format="json",
    )
    assert response.status_code == 400
    assert "required_capabilities" in fields_of(response)


@pytest.mark.parametrize(
    ("steps", "last", "expected"),
    [
        ([], "close", 409),  # a draft cannot be closed
        (["publish"], "publish", 409),
        (["publish", "close"], "cancel", 409),
        (["cancel"], "publish", 409),
        (["publish"], "cancel", 200),
        ([], "cancel", 200),
    ],
)
def test_status_machine(
    world: Any, post_request: Any, steps: list[str], last: str, expected: int
) -> None:
    created = post_request()
    client = client_for(world.buyer)
    for step in steps:
        assert client.post(f"/api/v1/requests/{created['id']}/{step}/").status_code == 200
    response = client.post(f"/api/v1/requests/{created['id']}/{last}/")
    assert response.status_code == expected
    if expected == 409:
        assert response.json()["type"].endswith("/conflict")


def test_publish_starts_a_run_and_points_at_it(world: Any, post_request: Any) -> None:
    created = post_request()
    response = client_for(world.buyer).post(f"/api/v1/requests/{created['id']}/publish/")
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.json()["published_at"]
    run = MatchRun.objects.get(request_id=created["id"])
    assert run.trigger == "publish"
    assert run.status == "queued"
    assert response["Location"].endswith(f"/api/v1/match-runs/{run.id}/")


def test_match_run_post_answers_202_with_the_run(world: Any, post_request: Any) -> None:
    created = post_request()
    client = client_for(world.buyer)
    response = client.post(f"/api/v1/requests/{created['id']}/match-runs/")
    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["status"] == "queued"
    assert body["trigger"] == "manual"
    detail = client.get(body["url"])
    assert detail.status_code == 200
    assert detail.json()["id"] == body["id"]
    listing = client.get(f"/api/v1/requests/{created['id']}/match-runs/")
    assert [r["id"] for r in listing.json()["results"]] == [body["id"]]
    # Others see neither the runs nor the run.
    other = client_for(world.other_buyer)
    assert other.get(body["url"]).status_code == 404
    assert other.post(f"/api/v1/requests/{created['id']}/match-runs/").status_code == 404


def test_publishing_a_stale_draft_is_refused(world: Any, post_request: Any) -> None:
    created = post_request()
    ProcurementRequest.objects.filter(id=created["id"]).update(
        needed_by=today() - timedelta(days=1)
    )
    response = client_for(world.buyer).post(f"/api/v1/requests/{created['id']}/publish/")
    assert response.status_code == 400
    assert "needed_by" in fields_of(response)
    assert ProcurementRequest.objects.get(id=created["id"]).status == "draft"


# ------------------------------------------------------------------ who sees what

PRIVATE = (
    "delivery_pin_code",
    "delivery_latitude",
    "delivery_longitude",
    "max_distance_km",
    "weights",
    "prefer_micro_small",
)


def test_visibility_of_requests(world: Any, post_request: Any) -> None:
    draft = post_request(title="Secret draft")
    published = post_request(title="Open call")
    client_for(world.buyer).post(f"/api/v1/requests/{published['id']}/publish/")

    owner_view = client_for(world.buyer).get(f"/api/v1/requests/{published['id']}/").json()
    assert all(name in owner_view for name in PRIVATE)

    for user in (world.other_buyer, world.sme_users["full"]):
        client = client_for(user)
        listed = {r["id"] for r in client.get("/api/v1/requests/").json()["results"]}
        assert listed == {published["id"]}
        assert client.get(f"/api/v1/requests/{draft['id']}/").status_code == 404
        public = client.get(f"/api/v1/requests/{published['id']}/").json()
        assert public["title"] == "Open call"
        assert not any(name in public for name in PRIVATE)
        assert client.get(f"/api/v1/requests/{published['id']}/matches/").status_code == 403
        assert (
            client.patch(
                f"/api/v1/requests/{published['id']}/", {"title": "x"}, format="json"
            ).status_code
            == 403
        )
        assert client.post(f"/api/v1/requests/{published['id']}/close/").status_code == 403

    operator = client_for(world.operator)
    assert operator.get(f"/api/v1/requests/{draft['id']}/").status_code == 200
    assert "weights" in operator.get(f"/api/v1/requests/{draft['id']}/").json()

    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/requests/").status_code == 401


def test_member_of_a_second_manufacturer_must_choose(world: Any) -> None:
    MembershipFactory(user=world.buyer, organization=OrganizationFactory(kind="manufacturer"))
    response = client_for(world.buyer).post("/api/v1/requests/", request_body(), format="json")
    assert response.status_code == 400
    assert "several" in fields_of(response)["owner"]


def test_request_filters(world: Any, post_request: Any) -> None:
    post_request(title="Alpha powder")
    other = post_request(
        title="Beta testing",
        layer="testing",
        required_capabilities=["hysteresigraph-testing"],
        quantity_unit="tests",
        preferred_certifications=[],
    )
    client = client_for(world.buyer)
    ids = lambda q: {r["id"] for r in client.get(f"/api/v1/requests/?{q}").json()["results"]}  # noqa: E731
    assert ids("layer=testing") == {other["id"]}
    assert ids("capability=hysteresigraph-testing") == {other["id"]}
    assert ids("q=beta") == {other["id"]}
    assert client.get("/api/v1/requests/?status=bogus").status_code == 400
    assert client.get("/api/v1/requests/?ordering=secret").status_code == 400


def test_reading_requests_reads_the_taxonomy_codes_alone(world: Any, post_request: Any) -> None:
    """A list page and a request read their capabilities, certifications and grades by
    code (array columns on PostgreSQL, prefetches of id and code elsewhere), never whole
    taxonomy rows, and the page's queries do not grow with its requests (no field read
    later one by one)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.buyer)
    first = post_request(required_certifications=["iso-9001"], preferred_certifications=[])

    def read(url: str) -> tuple[Any, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return response.json(), [query["sql"] for query in queries.captured_queries]

    _, one = read("/api/v1/requests/")
    for _ in range(3):
        post_request(preferred_certifications=["iatf-16949"])
    page, four = read("/api/v1/requests/")
    assert len(four) == len(one)
    assert len(page["results"]) == 4
    detail, queries = read(f"/api/v1/requests/{first['id']}/")
    assert detail["required_capabilities"] == ["hydrogen-decrepitation", "jet-milling"]
    assert detail["required_certifications"] == ["iso-9001"]
    assert detail["preferred_certifications"] == []
    assert {tuple(r["preferred_certifications"]) for r in page["results"]} == {
        (),
        ("iatf-16949",),
    }
    for sql in one + four + queries:
        for table in ("suppliers_capability", "suppliers_certification", "suppliers_materialgrade"):
            assert f'"{table}"."created_at"' not in sql, sql
