"""Demo procurement requests for `make run`, so matches, opportunities and gaps can be
tried at once. Needs the demo accounts (``seed_demo --with-accounts``). Never run this
on a real deployment."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from matching import services
from matching.models import ProcurementRequest
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization
from suppliers import services as supplier_services
from suppliers.models import Capability, Certification, Supplier

DEMO_REQUESTS: tuple[dict[str, Any], ...] = (
    {
        "title": "Jet-milled NdFeB powder for N52 blocks",
        "description": "Hydrogen decrepitation and jet milling of strip-cast NdFeB alloy to "
        "3-5 µm powder under nitrogen, for N52 sintered blocks.",
        "layer": "components",
        "required_capabilities": ["hydrogen-decrepitation", "jet-milling"],
        "required_certifications": ["iso-9001"],
        "preferred_certifications": ["iatf-16949"],
        "quantity": Decimal(500),
        "quantity_unit": "kg",
        "days": 60,
        "delivery_state": "KA",
        "delivery_pin_code": "560100",
        "delivery_latitude": 12.84,
        "delivery_longitude": 77.66,
        "prefer_micro_small": True,
    },
    {
        "title": "BH-curve testing of sintered magnets",
        "description": "Hysteresigraph testing of N42SH samples at 20 and 150 °C.",
        "layer": "testing",
        "required_capabilities": ["hysteresigraph-testing"],
        "required_certifications": ["iso-iec-17025"],
        "preferred_certifications": ["iso-9001"],
        "quantity": Decimal(120),
        "quantity_unit": "tests",
        "days": 30,
        "delivery_state": "MH",
        "delivery_pin_code": "411019",
        "delivery_latitude": 18.63,
        "delivery_longitude": 73.80,
        "max_distance_km": 800,
    },
    {
        "title": "Fine NdFeB powder for aerospace actuator magnets",
        "description": "Jet-milled NdFeB powder, tight particle-size distribution, for "
        "SmCo-replacement magnets in aerospace actuators.",
        "layer": "components",
        "required_capabilities": ["jet-milling"],
        "required_certifications": ["iso-9001", "as9100"],
        "quantity": Decimal(200),
        "quantity_unit": "kg",
        "days": 75,
        "delivery_state": "KA",
        "delivery_pin_code": "560037",
        "delivery_latitude": 12.95,
        "delivery_longitude": 77.67,
    },
    {
        "title": "NdPr oxide, 99.5%",
        "description": "Neodymium-praseodymium oxide for alloy making, 99.5% purity.",
        "layer": "chemicals",
        "required_capabilities": ["rare-earth-oxides"],
        # docs/registry.md: an oxide supplier handles prescribed substances under licence.
        "required_certifications": ["aea-prescribed-substances-licence"],
        "preferred_certifications": ["bis"],
        "quantity": Decimal(5),
        "quantity_unit": "tonnes",
        "days": 90,
        "delivery_state": "TN",
        "delivery_pin_code": "600032",
    },
)

M2M = ("required_capabilities", "required_certifications", "preferred_certifications")


def demo_requests_ensure() -> int:
    """Publish the demo requests for the demo buyer (once) and give the demo SME a
    verified supplier profile. Returns the number of requests created."""
    demo = Organization.objects.filter(name__startswith="Demo ")
    buyer = demo.filter(kind=OrganizationKind.MANUFACTURER).first()
    sme = demo.filter(kind=OrganizationKind.SME).first()
    if buyer is None or sme is None:
        return 0
    if not Supplier.objects.filter(owner=sme).exists():
        _demo_supplier(sme)
    if ProcurementRequest.objects.filter(owner=buyer).exists():
        return 0
    today = timezone.localdate()
    for spec in DEMO_REQUESTS:
        data = {k: v for k, v in spec.items() if k != "days"}
        data["needed_by"] = today + timedelta(days=spec["days"])
        data["required_capabilities"] = list(
            Capability.objects.filter(code__in=spec["required_capabilities"])
        )
        for name in ("required_certifications", "preferred_certifications"):
            data[name] = list(Certification.objects.filter(code__in=spec.get(name, [])))
        with transaction.atomic():
            request = services.request_create(owner=buyer, created_by=None, data=data)
            services.request_publish(request=request, by=None)
    return len(DEMO_REQUESTS)


def _demo_supplier(owner: Organization) -> None:
    today = timezone.localdate()
    data = supplier_services.SupplierInput(
        profile={
            "legal_name": "Demo Magnet Components Pvt Ltd",
            "legal_form": "private_limited",
            "udyam_number": "UDYAM-KR-03-0000001",
            "pan": "ZZZCD0001D",
            "enterprise_size": "small",
            "state": "KA",
            "city": "Bengaluru",
            "pin_code": "560058",
            "latitude": 13.03,
            "longitude": 77.51,
            "contact_name": "Demo Contact",
            "contact_email": "sales@demo-sme.remag.invalid",
        },
        capabilities=[
            {
                "capability": Capability.objects.get(code="jet-milling"),
                "capacity_per_month": Decimal(2000),
                "capacity_unit": "kg_per_month",
                "lead_time_days": 30,
                "description": "Fluidised-bed jet milling of NdFeB under nitrogen.",
            }
        ],
        certificates=[
            {
                "certification": Certification.objects.get(code="iso-9001"),
                "certificate_number": "QMS-DEMO-1",
                "valid_from": today - timedelta(days=400),
                "valid_until": today + timedelta(days=700),
            },
            {
                "certification": Certification.objects.get(code="iatf-16949"),
                "certificate_number": "IATF-DEMO-1",
                "valid_from": today - timedelta(days=200),
                "valid_until": today + timedelta(days=900),
            },
        ],
    )
    with transaction.atomic():
        supplier = supplier_services.supplier_register(owner=owner, data=data)
        supplier_services.supplier_verify(supplier=supplier, by=None)
