"""README's magnet walkthrough: the same calls here, with the demo accounts, the demo
magnet market and the sample requirement."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import ROOT, client_with
from tests.matching.magnets.conftest import run_queued

pytestmark = pytest.mark.django_db


def test_the_readme_magnet_walkthrough(capsys: Any) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Try it: magnets for a downstream SME", 1)[1].split("\n## ", 1)[0]
    for step in (
        "$API/magnets/requirements/",
        "$API/magnets/requirements/$MREQ/open/",
        "$API/magnets/requirements/$MREQ/matches/",
        "$API/magnets/requirements/$MREQ/near-misses/",
        "$API/magnets/matches/$MMATCH/transitions/",
        "$API/magnets/leads/",
        "$API/magnets/demand/?group_by=material",
        "$API/magnets/pools/",
    ):
        assert step in section, step
    call_command("load_taxonomy")
    call_command("seed_demo", "--suppliers", "0", "--with-accounts")
    call_command("seed_demo_magnets")
    run_queued()
    capsys.readouterr()

    def token(user: str) -> Any:
        call_command("issue_token", user)
        return client_with(f"Bearer {capsys.readouterr().out.strip()}")

    ev, maker = token("demo-ev"), token("demo-buyer")
    body = json.loads((ROOT / "docs/samples/magnet-requirement.json").read_text())
    body["needed_from"] = (timezone.localdate() + timedelta(days=60)).isoformat()
    created = ev.post("/api/v1/magnets/requirements/", body, format="json")
    assert created.status_code == 201, created.json()
    requirement = created.json()["id"]
    assert ev.post(f"/api/v1/magnets/requirements/{requirement}/open/").status_code == 200
    run_queued()
    matches = ev.get(f"/api/v1/magnets/requirements/{requirement}/matches/").json()["results"]
    assert matches[0]["offer"]["maker"]["name"] == "Demo Magnet Plant (manufacturer)"
    moved = ev.post(
        f"/api/v1/magnets/matches/{matches[0]['id']}/transitions/",
        {"status": "interested"},
        format="json",
    )
    assert moved.status_code == 201
    leads = maker.get("/api/v1/magnets/leads/").json()["results"]
    named = [lead for lead in leads if lead["requirement"]["id"] == requirement]
    assert named[0]["buyer"]["name"] == "Demo EV Drivetrains (downstream SME)"
    demand = maker.get("/api/v1/magnets/demand/", {"group_by": "material"})
    # The demo's three buyers all ask for sintered NdFeB; smaller groups fold into "other".
    rows = {r["material"]: r for r in demand.json()["results"]}
    assert rows["sintered_ndfeb"]["buyer_count"] >= 3
    assert len(maker.get("/api/v1/magnets/pools/").json()["results"]) == 1
