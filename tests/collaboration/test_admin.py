"""Operators see calls, runs, matches, near misses, NDA acknowledgements and expressions of
interest in the admin; the parties' decisions are read-only there."""

from typing import Any

import pytest
from django.test import Client

from matching.collaboration.models import CallMatch, CallRun, ExpressionOfInterest
from tests.collaboration.conftest import CollabWorld, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_collaboration_admin_pages_render(cworld: CollabWorld, opened: Any) -> None:
    call = opened(requires_nda=False, nda_text="")
    sme = client_for(cworld.sme_users["lab"])
    body = {"call": call["id"], "supplier": str(cworld.suppliers["lab"].id), "message": "Hi"}
    assert sme.post("/api/v1/collaboration/interests/", body, format="json").status_code == 201
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    interest = ExpressionOfInterest.objects.get()
    for path in (
        "/admin/collaboration/collaborationcall/",
        f"/admin/collaboration/collaborationcall/{call['id']}/change/",
        "/admin/collaboration/callrun/",
        f"/admin/collaboration/callrun/{CallRun.objects.get().id}/change/",
        "/admin/collaboration/callnearmiss/",
        "/admin/collaboration/ndaacknowledgement/",
        "/admin/collaboration/expressionofinterest/",
        f"/admin/collaboration/expressionofinterest/{interest.id}/change/",
    ):
        assert admin.get(path).status_code == 200, path
    assert CallMatch.objects.filter(call_id=call["id"]).exists()
    # Read-only: no adding an expression of interest behind the parties' backs.
    assert admin.get("/admin/collaboration/expressionofinterest/add/").status_code == 403


def test_a_call_status_is_read_only_in_the_admin(cworld: CollabWorld, opened: Any) -> None:
    """Status changes go through the API's lifecycle (with their events), never the admin."""
    call = opened(requires_nda=False, nda_text="")
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = admin.get(f"/admin/collaboration/collaborationcall/{call['id']}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="topic"' in html  # the texts stay correctable
    assert 'name="status"' not in html
    assert "field-status" in html  # shown, read-only
