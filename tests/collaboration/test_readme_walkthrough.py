"""README's collaboration walkthrough: the same calls here, with the demo accounts and
the demo call (`make run`)."""

from typing import Any

import pytest
from django.core.management import call_command

from matching.collaboration.models import CollaborationCall
from suppliers.models import Supplier
from tests.collaboration.conftest import run_pending
from tests.conftest import ROOT, client_with

pytestmark = pytest.mark.django_db


def test_the_readme_walkthrough_shares_contacts(capsys: Any) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Try it: a call for collaboration", 1)[1].split("\n## ", 1)[0]
    for step in (
        "$API/collaboration/calls/?status=open",
        "$API/collaboration/calls/$CALL/nda/",
        "$API/collaboration/interests/",
        "$API/collaboration/calls/$CALL/matches/",
        "$API/collaboration/interests/$EOI/shortlist/",
    ):
        assert step in section, step
    call_command("load_taxonomy")
    call_command("seed_demo", "--suppliers", "0", "--with-accounts")
    call_command("seed_demo_requests")
    call_command("seed_demo_calls")
    assert run_pending(str(CollaborationCall.objects.get().id)).status == "succeeded"
    capsys.readouterr()

    def token(user: str) -> Any:
        call_command("issue_token", user)
        return client_with(f"Bearer {capsys.readouterr().out.strip()}")

    api = "/api/v1"
    buyer, sme = token("demo-buyer"), token("demo-sme")
    supplier = Supplier.objects.get(legal_name="Demo Magnet Components Pvt Ltd")
    call = sme.get(f"{api}/collaboration/calls/?status=open").json()["results"][0]["id"]
    assert sme.get(f"{api}/collaboration/calls/{call}/").json()["description"] is None
    assert sme.post(f"{api}/collaboration/calls/{call}/nda/", {}, format="json").status_code == 201
    eoi = sme.post(
        f"{api}/collaboration/interests/",
        {"call": call, "supplier": str(supplier.id), "message": "We can prototype and test."},
        format="json",
        HTTP_IDEMPOTENCY_KEY="readme-1",
    )
    assert eoi.status_code == 201, eoi.json()
    matches = buyer.get(f"{api}/collaboration/calls/{call}/matches/?page_size=3")
    assert matches.status_code == 200
    shortlisted = buyer.post(
        f"{api}/collaboration/interests/{eoi.json()['id']}/shortlist/", {}, format="json"
    ).json()
    assert shortlisted["supplier_contact"]["email"] == "sales@demo-sme.remag.invalid"
    mine = sme.get(f"{api}/collaboration/interests/{eoi.json()['id']}/").json()
    assert mine["poster_contact"]["email"] == "rnd@demo-buyer.remag.invalid"
