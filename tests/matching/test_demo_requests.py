"""The demo requests (`make run`): what a magnet plant really sends to SMEs, valid
through the API's own validation, published and matched by the demo command."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from matching.demo import DEMO_REQUESTS, demo_requests_ensure
from matching.models import MatchRun, NearMiss, ProcurementRequest
from suppliers.models import Supplier
from tests.matching.conftest import World, client_for, run_pending, today


def as_body(spec: dict[str, Any]) -> dict[str, Any]:
    body = {k: str(v) if isinstance(v, Decimal) else v for k, v in spec.items() if k != "days"}
    body["needed_by"] = (today() + timedelta(days=spec["days"])).isoformat()
    return body


@pytest.mark.parametrize("spec", DEMO_REQUESTS, ids=[s["title"] for s in DEMO_REQUESTS])
def test_each_demo_request_passes_the_api(world: World, spec: dict[str, Any]) -> None:
    response = client_for(world.buyer).post("/api/v1/requests/", as_body(spec), format="json")

    assert response.status_code == 201, response.json()


def test_no_demo_request_buys_powder() -> None:
    """Jet-milled NdFeB powder is pyrophoric and never leaves the integrated plant."""
    for spec in DEMO_REQUESTS:
        text = f"{spec['title']} {spec['description']}".lower()
        assert "powder" not in text
        assert not {"jet-milling", "hydrogen-decrepitation"} & set(spec["required_capabilities"])
    titles = " ".join(s["title"] for s in DEMO_REQUESTS)
    for subject in ("NiCuNi plating", "Wire-EDM", "BH-curve", "Jet-mill maintenance", "Fluoride"):
        assert subject in titles
    assert any(s.get("grades_required") for s in DEMO_REQUESTS)


@pytest.mark.django_db
def test_the_demo_command_publishes_and_matches_them(capsys: Any) -> None:
    call_command("load_taxonomy")
    call_command("seed_demo", "--suppliers", "150", "--seed", "3", "--with-accounts")

    assert demo_requests_ensure() == len(DEMO_REQUESTS)

    requests = ProcurementRequest.objects.filter(status="open")
    assert requests.count() == len(DEMO_REQUESTS)
    flagship = requests.get(title="NiCuNi plating of N42SH sintered blocks")
    assert flagship.grades_required
    assert [g.code for g in flagship.grades.all()] == ["n42sh"]
    assert MatchRun.objects.filter(request__in=requests).count() == len(DEMO_REQUESTS)
    for request in requests:
        assert run_pending(str(request.id)).status == "succeeded"
    # The demo SME plates N42SH and N45SH blocks: the flagship matches it; it slices but
    # holds no AS9100 certificate: a gap.
    demo_sme = Supplier.objects.get(legal_name__startswith="Demo ")
    assert flagship.matches.filter(supplier=demo_sme).exists()
    gaps = NearMiss.objects.filter(supplier=demo_sme).values_list("constraint", flat=True)
    assert list(gaps) == ["certification:as9100"]
