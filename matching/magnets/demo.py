"""Demo magnet offers and requirements for `make run`: the demo manufacturer's offers (and
a second maker's, so rankings have two sides), and requirements from demo downstream SMEs
(created when missing), opened and matched, two of them small enough to pool. Needs the
demo accounts (``seed_demo --with-accounts``). Never run this on a real deployment."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from matching.magnets import services
from matching.magnets.models import MagnetOffer, MagnetRequirement
from remag.accounts.choices import MembershipRole, OrganizationKind
from remag.accounts.models import Organization, User
from remag.accounts.services import membership_add
from suppliers.models import Certification

DEMO_MAKER = "Demo Magnet Plant (manufacturer)"  # remag.accounts.demo
SECOND_MAKER = "Demo Deccan Magnetics (manufacturer)"
# username, organisation: downstream SMEs that buy magnets.
DEMO_BUYERS = (
    ("demo-ev", "Demo EV Drivetrains (downstream SME)"),
    ("demo-servo", "Demo Servo Motors (downstream SME)"),
    ("demo-sensors", "Demo Sensor Works (downstream SME)"),
)

# Offers as API bodies (tests/matching/magnets/test_demo.py sends each through the API);
# "days" is the validity from today (None: open-ended).
DEMO_OFFERS: tuple[tuple[str, dict[str, Any]], ...] = (
    (DEMO_MAKER, {
        "title": "Sintered NdFeB for traction motors: SH to EH arcs and blocks",
        "material": "sintered_ndfeb",
        "grades": ["N42SH", "N45SH", "N48SH", "N38UH", "N42UH", "N35EH"],
        "shapes": [
            {"shape": "arc", "min_mm": 1.5, "max_mm": 60, "tolerance_mm": 0.05},
            {"shape": "block", "min_mm": 1, "max_mm": 100, "tolerance_mm": 0.03},
        ],
        "coatings": ["nicuni", "epoxy", "phosphate"],
        "magnetisations": ["axial", "diametral"],
        "capacity_per_month": "8000", "capacity_unit": "kg", "min_order_per_month": "200",
        "lead_time_days": 42, "days": 365,
        "plant_state": "TN", "plant_city": "Hosur", "plant_latitude": 12.74,
        "plant_longitude": 77.83,
        "price_min_inr_per_kg": "2600", "price_max_inr_per_kg": "3400",
        "certifications": ["iso-9001", "iatf-16949"],
    }),
    (DEMO_MAKER, {
        "title": "Sintered NdFeB rings and discs for servo and sensor magnets",
        "material": "sintered_ndfeb",
        "grades": ["N35", "N42", "N48H", "N45SH"],
        "shapes": [
            {"shape": "ring", "min_mm": 1, "max_mm": 40, "tolerance_mm": 0.05},
            {"shape": "disc", "min_mm": 0.8, "max_mm": 30, "tolerance_mm": 0.05},
        ],
        "coatings": ["nicuni", "zn", "epoxy"],
        "magnetisations": ["axial", "diametral", "multipole"],
        "capacity_per_month": "400000", "capacity_unit": "pieces",
        "min_order_per_month": "20000", "lead_time_days": 30, "days": None,
        "plant_state": "TN", "plant_city": "Hosur", "plant_latitude": 12.74,
        "plant_longitude": 77.83,
        "certifications": ["iso-9001"],
    }),
    (SECOND_MAKER, {
        "title": "Large N38SH and N42SH blocks for wind generators",
        "material": "sintered_ndfeb",
        "grades": ["N38SH", "N42SH", "N40UH"],
        "shapes": [{"shape": "block", "min_mm": 5, "max_mm": 150, "tolerance_mm": 0.1}],
        "coatings": ["epoxy", "aluminium", "nicuni"],
        "magnetisations": ["axial"],
        "capacity_per_month": "20000", "capacity_unit": "kg", "min_order_per_month": "1000",
        "lead_time_days": 60, "days": 540,
        "plant_state": "AP", "plant_city": "Visakhapatnam", "plant_latitude": 17.69,
        "plant_longitude": 83.22,
        "price_min_inr_per_kg": "2300", "price_max_inr_per_kg": "2900",
        "certifications": ["iso-9001"],
    }),
)  # fmt: skip

ROTOR_ARC = {"outer_radius_mm": 30, "inner_radius_mm": 25, "angle_deg": 45, "length_mm": 40}
SENSOR_DISC = {"diameter_mm": 6, "thickness_mm": 2}
# Requirements as API bodies; "days" is needed-from from today.
DEMO_REQUIREMENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("demo-ev", {
        "title": "Rotor arcs for a 60 kW traction motor",
        "application": "traction_motor", "material": "sintered_ndfeb", "grade": "N42SH",
        "shape": "arc", "dimensions": ROTOR_ARC, "tolerance_mm": "0.05",
        "coating": "nicuni", "magnetisation": "diametral",
        "quantity_per_month": "400", "quantity_unit": "kg", "duration_months": 12,
        "days": 60, "delivery_state": "KA", "delivery_pin_code": "560100",
        "delivery_latitude": 12.84, "delivery_longitude": 77.66,
        "budget_inr_per_kg": "3000", "required_certifications": ["iatf-16949"],
    }),
    ("demo-servo", {
        "title": "Blocks for servo motors, 50,000 a month",
        "application": "servo", "material": "sintered_ndfeb", "grade": "N45SH",
        "shape": "block", "dimensions": {"length_mm": 20, "width_mm": 10, "thickness_mm": 4},
        "tolerance_mm": "0.05", "coating": "epoxy", "magnetisation": "axial",
        "quantity_per_month": "50000", "quantity_unit": "pieces", "duration_months": 18,
        "days": 45, "delivery_state": "MH", "delivery_pin_code": "411019",
        "delivery_latitude": 18.63, "delivery_longitude": 73.80,
        "preferred_certifications": ["iso-9001"],
    }),
    ("demo-ev", {
        "title": "High-temperature arcs for an e-axle (UH class)",
        "application": "traction_motor", "material": "sintered_ndfeb", "grade": "N40UH",
        "shape": "arc", "dimensions": {**ROTOR_ARC, "outer_radius_mm": 64,
                                       "inner_radius_mm": 58},
        "tolerance_mm": "0.05", "coating": "nicuni", "magnetisation": "diametral",
        "quantity_per_month": "250", "quantity_unit": "kg", "duration_months": 24,
        "days": 90, "delivery_state": "KA", "delivery_pin_code": "560100",
    }),
    # Two sensor makers whose single orders are below the ring-and-disc offer's minimum
    # order: they opted in and are pooled.
    ("demo-sensors", {
        "title": "Sensor discs, axial",
        "application": "sensor", "material": "sintered_ndfeb", "grade": "N42",
        "shape": "disc", "dimensions": SENSOR_DISC, "tolerance_mm": "0.05",
        "coating": "nicuni", "magnetisation": "axial",
        "quantity_per_month": "12000", "quantity_unit": "pieces", "duration_months": 12,
        "days": 30, "delivery_state": "KA", "pool_opt_in": True,
    }),
    ("demo-servo", {
        "title": "Encoder discs",
        "application": "sensor", "material": "sintered_ndfeb", "grade": "N42",
        "shape": "disc", "dimensions": SENSOR_DISC, "tolerance_mm": "0.05",
        "coating": "nicuni", "magnetisation": "axial",
        "quantity_per_month": "15000", "quantity_unit": "pieces", "duration_months": 12,
        "days": 40, "delivery_state": "KA", "pool_opt_in": True,
    }),
)  # fmt: skip


def offer_body(spec: dict[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    body = {k: v for k, v in spec.items() if k != "days"}
    body["valid_from"] = today.isoformat()
    if spec["days"] is not None:
        body["valid_until"] = (today + timedelta(days=spec["days"])).isoformat()
    return body


def requirement_body(spec: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in spec.items() if k != "days"}
    body["needed_from"] = (timezone.localdate() + timedelta(days=spec["days"])).isoformat()
    return body


def _organization(name: str, kind: str, username: str | None = None) -> Organization:
    organization, _ = Organization.objects.get_or_create(name=name, kind=kind)
    if username:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@demo.remag.invalid",
                "email_verified_at": timezone.now(),
            },
        )
        if created:
            user.set_unusable_password()
            user.save()
        membership_add(user=user, organization=organization, role=MembershipRole.ADMIN)
    return organization


def _validated(serializer_class: Any, body: dict[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=body)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def demo_magnets_ensure() -> tuple[int, int]:
    """Publish the demo offers and open the demo requirements (once). Returns how many of
    each were created; (0, 0) without the demo manufacturer or when already seeded."""
    # The API's own validation (the same bodies a client would send).
    from matching.magnets.api.serializers import (
        MagnetOfferSerializer,
        MagnetRequirementSerializer,
    )

    maker = Organization.objects.filter(name=DEMO_MAKER, kind=OrganizationKind.MANUFACTURER)
    if not maker.exists() or MagnetOffer.objects.filter(owner__in=maker).exists():
        return 0, 0
    if not Certification.objects.filter(code="iatf-16949").exists():
        return 0, 0
    owners = {
        DEMO_MAKER: maker.get(),
        SECOND_MAKER: _organization(SECOND_MAKER, OrganizationKind.MANUFACTURER),
    }
    for username, name in DEMO_BUYERS:
        owners[username] = _organization(name, OrganizationKind.SME, username)
    for owner_name, spec in DEMO_OFFERS:
        data = _validated(MagnetOfferSerializer, offer_body(spec))
        with transaction.atomic():
            offer = services.offer_create(owner=owners[owner_name], created_by=None, data=data)
            services.offer_publish(offer=offer, by=None)
    for username, spec in DEMO_REQUIREMENTS:
        data = _validated(MagnetRequirementSerializer, requirement_body(spec))
        with transaction.atomic():
            requirement = services.requirement_create(
                owner=owners[username], created_by=None, data=data
            )
            services.requirement_open(requirement=requirement, by=None)
    return len(DEMO_OFFERS), MagnetRequirement.objects.filter(
        owner__in=[owners[u] for u, _ in DEMO_BUYERS]
    ).count()
