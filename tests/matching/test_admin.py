"""Operators see requests, runs and matches in the admin and can requeue runs."""

import json
from typing import Any

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.test import Client, RequestFactory

from matching.models import Match, MatchRun, ProcurementRequest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_matching_admin_pages_render(admin_client: Client, world: Any, published: Any) -> None:
    request_id = published()
    match = Match.objects.filter(request_id=request_id).first()
    run = MatchRun.objects.get(request_id=request_id)
    for path in (
        "/admin/matching/procurementrequest/",
        f"/admin/matching/procurementrequest/{request_id}/change/",
        "/admin/matching/matchrun/",
        f"/admin/matching/matchrun/{run.id}/change/",
        "/admin/matching/match/",
        f"/admin/matching/match/{match.id}/change/",
        "/admin/matching/nearmiss/",
    ):
        assert admin_client.get(path).status_code == 200, path


def test_admin_action_queues_a_run(admin_client: Client, world: Any, published: Any) -> None:
    request_id = published()
    response = admin_client.post(
        "/admin/matching/procurementrequest/",
        {"action": "queue_match_run", "_selected_action": [request_id]},
    )
    assert response.status_code == 302
    queued = MatchRun.objects.filter(request_id=request_id, status="queued")
    assert queued.count() == 1
    assert queued.get().trigger == "operator"


def _admin_form(instance: ProcurementRequest, **changes: Any) -> Any:
    """The admin's change form of ``instance`` as an operator would post it, with
    ``changes`` (JSON fields as their text)."""
    http = RequestFactory().get("/")
    http.user = UserFactory(is_staff=True, is_superuser=True)
    form_class = admin.site._registry[ProcurementRequest].get_form(http, instance)
    data = model_to_dict(instance)
    for name in ("required_capabilities", "required_certifications", "preferred_certifications"):
        data[name] = [item.pk for item in data[name]]
    data["grades"] = [item.pk for item in data["grades"]]
    data.update(changes)
    for name in ("weights", "materials"):
        data[name] = json.dumps(data[name])
    return form_class(data={k: v for k, v in data.items() if v is not None}, instance=instance)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weights", [1, 2], "an object"),
        ("weights", [], "an object"),
        ("weights", "", "an object"),
        ("weights", None, "an object"),
        ("weights", {"price": 1}, "Unknown factor(s) price"),
        ("weights", {"distance": "3"}, "distance: A number."),
        ("weights", {"distance": -1}, "0 or more"),
        ("weights", {"distance": 1001}, "At most 1000"),
        ("materials", {"a": 1}, "a list of materials"),
        ("materials", {}, "a list of materials"),
        ("materials", "", "a list of materials"),
        ("materials", [["Dy"]], "a list of materials"),
        ("materials", ["Dy", 1], "a list of materials"),
        ("materials", ["x" * 101], "at most 100 characters"),
        ("materials", ["Dy"] * 21, "At most 20 materials"),
    ],
)
def test_the_admin_refuses_weights_and_materials_the_api_would_refuse(
    world: Any, published: Any, field: str, value: Any, message: str
) -> None:
    """The admin's form takes any JSON: a shape the API refuses would break the request's
    runs (weights) or its representation. The model's ``clean`` refuses them, as the
    API's fields do, empty ones included (which Django skips for a field's own
    validators), and nothing is stored."""
    instance = ProcurementRequest.objects.get(id=published())
    stored = getattr(instance, field)
    assert _admin_form(instance, weights={"distance": 3}).is_valid()

    form = _admin_form(instance, **{field: value})

    assert not form.is_valid()
    assert message in " ".join(form.errors[field])
    instance.refresh_from_db()
    assert getattr(instance, field) == stored
