"""A small world for matching tests: a buyer, SMEs whose suppliers each test one hard
constraint, an operator, a portal; and helpers to post and run requests."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from matching import runs
from matching.models import MatchRun
from suppliers.models import Capability, Certification, Supplier
from tests.conftest import taxonomy_load_fast
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SupplierCapabilityFactory,
    SupplierCertificateFactory,
    SupplierFactory,
)

PUNE = (18.52, 73.85)
CHENNAI = (13.08, 80.27)


def today() -> date:
    return timezone.localdate()


@dataclass
class World:
    buyer: Any
    buyer_org: Any
    other_buyer: Any
    operator: Any
    portal_org: Any
    sme_users: dict[str, Any]
    suppliers: dict[str, Supplier]


def add_capability(supplier: Supplier, code: str, **kwargs: Any) -> None:
    SupplierCapabilityFactory(
        supplier=supplier, capability=Capability.objects.get(code=code), **kwargs
    )


def add_certificate(supplier: Supplier, code: str = "iso-9001", *, expired: bool = False) -> None:
    start = today() - timedelta(days=800 if expired else 100)
    SupplierCertificateFactory(
        supplier=supplier,
        certification=Certification.objects.get(code=code),
        valid_from=start,
        valid_until=start + timedelta(days=365 if expired else 1000),
    )


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def build_world() -> World:
    taxonomy_load_fast()
    buyer_membership = MembershipFactory(organization=OrganizationFactory(kind="manufacturer"))
    other_buyer = MembershipFactory(organization=OrganizationFactory(kind="manufacturer")).user
    operator = MembershipFactory(organization=OrganizationFactory(kind="operator")).user
    portal_org = OrganizationFactory(kind="portal")

    def sme(name: str, **kwargs: Any) -> Supplier:
        return SupplierFactory(legal_name=f"{name} Magnetics Pvt Ltd", **kwargs)

    lat, lon = PUNE
    suppliers = {
        # Qualifies: both capabilities, valid ISO 9001, in Pune.
        "full": sme("Full", latitude=lat + 0.05, longitude=lon, enterprise_size="micro"),
        # Qualifies: one of two capabilities, no coordinates (approximate location).
        "half": sme("Half", state="TN", city="Chennai"),
        # Near miss: its ISO 9001 certificate has expired.
        "expired": sme("Expired", latitude=lat, longitude=lon + 0.1),
        # Near miss: not verified yet.
        "pending": sme("Pending", status="pending", latitude=lat, longitude=lon),
        # Not a candidate: a components capability, but not a required one.
        "wrong_cap": sme("Wrongcap", latitude=lat, longitude=lon),
        # Not a candidate: another layer.
        "testing": sme("Testing", latitude=lat, longitude=lon),
        # Not a candidate: suspended.
        "suspended": sme("Suspended", status="suspended", latitude=lat, longitude=lon),
        # Near miss: too far for a radius (Chennai) when one is set; else qualifies.
        "far": sme("Far", state="TN", latitude=CHENNAI[0], longitude=CHENNAI[1]),
    }
    s = suppliers
    add_capability(s["full"], "jet-milling", capacity_per_month=1000, lead_time_days=20)
    add_capability(s["full"], "hydrogen-decrepitation", capacity_per_month=800, lead_time_days=25)
    add_capability(s["half"], "jet-milling", capacity_per_month=100, lead_time_days=90)
    add_capability(s["expired"], "jet-milling")
    add_capability(s["pending"], "jet-milling")
    add_capability(s["wrong_cap"], "strip-casting")
    add_capability(s["testing"], "hysteresigraph-testing", capacity_unit="tests_per_month")
    add_capability(s["suspended"], "jet-milling")
    add_capability(s["far"], "jet-milling")
    add_capability(s["far"], "hydrogen-decrepitation")
    for key in ("full", "half", "pending", "wrong_cap", "testing", "suspended", "far"):
        add_certificate(s[key])
    add_certificate(s["expired"], expired=True)
    add_certificate(s["full"], "iatf-16949")

    sme_users = {}
    for key, supplier in suppliers.items():
        sme_users[key] = MembershipFactory(organization=supplier.owner).user
    return World(
        buyer=buyer_membership.user,
        buyer_org=buyer_membership.organization,
        other_buyer=other_buyer,
        operator=operator,
        portal_org=portal_org,
        sme_users=sme_users,
        suppliers=suppliers,
    )


# Text JSON must escape (quotes, backslash, control characters, U+2028), in Devanagari.
TRICKY = 'चुंबक "NdFeB" \\ back\tslash\nnew line \u2028 and \x01 control'
# A request with every optional field filled, and text JSON must escape.
FILLED = {
    "title": TRICKY,
    "description": TRICKY * 3,
    "required_capabilities": ["jet-milling", "hydrogen-decrepitation"],
    "preferred_certifications": ["iso-14001", "iatf-16949"],
    "grades": ["n42sh", "n35", "bnp-10"],
    "materials": ["Dy", "NdPr oxide", "Tb"],
    "quantity": "1234.5",
    "prefer_micro_small": True,
    "max_distance_km": 1500,
}


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def request_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Jet-milled NdFeB powder",
        "description": "Jet milling and hydrogen decrepitation of NdFeB alloy for N52 magnets.",
        "layer": "components",
        "required_capabilities": ["jet-milling", "hydrogen-decrepitation"],
        "required_certifications": ["iso-9001"],
        "preferred_certifications": ["iatf-16949"],
        "quantity": "500",
        "quantity_unit": "kg",
        "needed_by": (today() + timedelta(days=60)).isoformat(),
        "delivery_state": "MH",
        "delivery_pin_code": "411001",
        "delivery_latitude": PUNE[0],
        "delivery_longitude": PUNE[1],
    }
    body.update(overrides)
    return body


@pytest.fixture
def post_request(world: World) -> Callable[..., dict[str, Any]]:
    def make(user: Any = None, **overrides: Any) -> dict[str, Any]:
        return post_request_as(user or world.buyer, **overrides)

    return make


def post_request_as(user: Any, **overrides: Any) -> dict[str, Any]:
    response = client_for(user).post("/api/v1/requests/", request_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def run_pending(request_id: str) -> MatchRun:
    """Execute the request's queued run here (the worker's job; workers are tested in
    test_worker.py)."""
    run = MatchRun.objects.filter(request_id=request_id, status="queued").latest("created_at")
    runs.match_run_execute(run_id=run.id)
    run.refresh_from_db()
    return run


@pytest.fixture
def published(world: World) -> Callable[..., str]:
    """Post, publish and run a request; returns its id."""

    def make(**overrides: Any) -> str:
        return publish(world, **overrides)

    return make


def publish(world: World, **overrides: Any) -> str:
    """Post, publish and run a request of the world's buyer; returns its id."""
    created = post_request_as(world.buyer, **overrides)
    response = client_for(world.buyer).post(f"/api/v1/requests/{created['id']}/publish/")
    assert response.status_code == 200, response.json()
    run = run_pending(created["id"])
    assert run.status == "succeeded", run.error
    return created["id"]
