"""A small magnet market: two makers, two downstream SMEs, an operator and a portal, and
helpers to post offers and requirements through the API and run their queued runs here
(the worker's job; workers are tested in test_worker_e2e.py)."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from matching.magnets import runs, services
from matching.magnets.api.serializers import MagnetOfferSerializer, MagnetRequirementSerializer
from matching.magnets.models import MagnetRun
from suppliers.models import Certification
from tests.factories import MembershipFactory, OrganizationFactory

CERTIFICATIONS = (("iso-9001", "ISO 9001"), ("iatf-16949", "IATF 16949"), ("as9100", "AS9100"))
BENGALURU = (12.97, 77.59)
PUNE = (18.52, 73.85)


def today() -> date:
    return timezone.localdate()


@dataclass
class Market:
    maker: Any
    maker_org: Any
    other_maker: Any
    other_maker_org: Any
    buyer: Any
    buyer_org: Any
    other_buyer: Any
    operator: Any
    portal_org: Any


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def market(db: None) -> Market:
    return build_market()


def build_market() -> Market:
    # The certifications the market's bodies name (the whole taxonomy is not needed).
    for code, name in CERTIFICATIONS:
        Certification.objects.get_or_create(
            code=code, defaults={"name": name, "category": "quality"}
        )
    maker = MembershipFactory(organization=OrganizationFactory(kind="manufacturer", name="Kaveri"))
    other = MembershipFactory(
        organization=OrganizationFactory(kind="manufacturer", name="Godavari")
    )
    buyer = MembershipFactory(organization=OrganizationFactory(kind="sme", name="Rotor Works"))
    other_buyer = MembershipFactory(organization=OrganizationFactory(kind="sme", name="Servo Co"))
    operator = MembershipFactory(organization=OrganizationFactory(kind="operator")).user
    return Market(
        maker=maker.user,
        maker_org=maker.organization,
        other_maker=other.user,
        other_maker_org=other.organization,
        buyer=buyer.user,
        buyer_org=buyer.organization,
        other_buyer=other_buyer.user,
        operator=operator,
        portal_org=OrganizationFactory(kind="portal"),
    )


def offer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Sintered NdFeB arcs and blocks, SH to UH",
        "material": "sintered_ndfeb",
        "grades": ["N42SH", "N45SH", "N38UH"],
        "shapes": [
            {"shape": "arc", "min_mm": 2, "max_mm": 50, "tolerance_mm": 0.05},
            {"shape": "block", "min_mm": 1, "max_mm": 80, "tolerance_mm": 0.05},
        ],
        "coatings": ["nicuni", "epoxy"],
        "magnetisations": ["diametral", "axial"],
        "capacity_per_month": "2000",
        "capacity_unit": "kg",
        "min_order_per_month": "100",
        "lead_time_days": 45,
        "valid_from": today().isoformat(),
        "plant_state": "KA",
        "plant_city": "Hosur",
        "plant_latitude": 12.74,
        "plant_longitude": 77.83,
        "price_min_inr_per_kg": "2500",
        "price_max_inr_per_kg": "3500",
        "certifications": ["iso-9001", "iatf-16949"],
    }
    body.update(overrides)
    return body


def requirement_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Rotor arcs for a 60 kW traction motor",
        "application": "traction_motor",
        "material": "sintered_ndfeb",
        "grade": "N42SH",
        "shape": "arc",
        "dimensions": {
            "outer_radius_mm": 30,
            "inner_radius_mm": 25,
            "angle_deg": 45,
            "length_mm": 40,
        },
        "tolerance_mm": "0.05",
        "coating": "nicuni",
        "magnetisation": "diametral",
        "quantity_per_month": "400",
        "quantity_unit": "kg",
        "duration_months": 12,
        "needed_from": (today() + timedelta(days=60)).isoformat(),
        "delivery_state": "KA",
        "delivery_pin_code": "560100",
        "delivery_latitude": BENGALURU[0],
        "delivery_longitude": BENGALURU[1],
        "budget_inr_per_kg": "3000",
        "required_certifications": ["iatf-16949"],
    }
    body.update(overrides)
    return body


def run_queued() -> list[MagnetRun]:
    """Execute every queued magnet run here, oldest first."""
    done = []
    for run in MagnetRun.objects.filter(status="queued").order_by("created_at"):
        done.append(runs.magnet_run_execute(run_id=run.id))
    for run in done:
        assert run is not None
        assert run.status == "succeeded", run.error
    return done


def make_offer(owner: Any, **overrides: Any) -> Any:
    """A published offer of ``owner`` through the services (no HTTP: the matrix's setup)."""
    body = MagnetOfferSerializer(data=offer_body(**overrides))
    assert body.is_valid(), body.errors
    offer = services.offer_create(owner=owner, created_by=None, data=dict(body.validated_data))
    services.offer_publish(offer=offer, by=None)
    run_queued()
    return offer


def make_requirement(owner: Any, **overrides: Any) -> Any:
    """An open requirement of ``owner``, matched, through the services."""
    body = MagnetRequirementSerializer(data=requirement_body(**overrides))
    assert body.is_valid(), body.errors
    requirement = services.requirement_create(
        owner=owner, created_by=None, data=dict(body.validated_data)
    )
    services.requirement_open(requirement=requirement, by=None)
    run_queued()
    return requirement


def post_offer(user: Any, *, publish: bool = True, **overrides: Any) -> dict[str, Any]:
    client = client_for(user)
    response = client.post("/api/v1/magnets/offers/", offer_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    if publish:
        published = client.post(f"{created['url']}publish/")
        assert published.status_code == 200, published.json()
        run_queued()
        return published.json()
    return created


def post_requirement(user: Any, *, open_it: bool = True, **overrides: Any) -> dict[str, Any]:
    client = client_for(user)
    response = client.post(
        "/api/v1/magnets/requirements/", requirement_body(**overrides), format="json"
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    if open_it:
        opened = client.post(f"{created['url']}open/")
        assert opened.status_code == 200, opened.json()
        run_queued()
        return opened.json()
    return created
