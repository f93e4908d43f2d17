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
from suppliers.models import Capability, Certification, MaterialGrade, Supplier

# What a sintered-magnet plant really sends out to SMEs: finishing, machining, testing,
# maintenance and consumables. Not powder: jet-milled NdFeB powder is pyrophoric and
# stays under inert gas inside the integrated plant that makes and presses it.
DEMO_REQUESTS: tuple[dict[str, Any], ...] = (
    {
        "title": "NiCuNi plating of N42SH sintered blocks",
        "description": "Ni-Cu-Ni electroplating, 15-25 µm total, of 40,000 ground N42SH "
        "blocks (40 × 20 × 5 mm) for traction-motor rotors; salt-spray tested per lot "
        "(ISO 9227).",
        "layer": "components",
        "required_capabilities": ["nicuni-coating"],
        "required_certifications": ["iso-9001"],
        "preferred_certifications": ["iatf-16949"],
        "grades": ["n42sh"],
        "grades_required": True,
        "quantity": Decimal(40_000),
        "quantity_unit": "pieces",
        "days": 45,
        "delivery_state": "KA",
        "delivery_pin_code": "560100",
        "delivery_latitude": 12.84,
        "delivery_longitude": 77.66,
        "max_distance_km": 400,
        "prefer_micro_small": True,
    },
    {
        "title": "Wire-EDM slicing of Sm2Co17 blocks for aerospace actuators",
        "description": "Wire-EDM slicing of sintered Sm2Co17 blocks into arc segments, "
        "±0.05 mm, for flight-control actuator motors; AS9100 traceability.",
        "layer": "components",
        "required_capabilities": ["wire-edm-slicing"],
        "required_certifications": ["iso-9001", "as9100"],
        "grades": ["sm2co17"],
        "quantity": Decimal(6_000),
        "quantity_unit": "pieces",
        "days": 30,
        "delivery_state": "TN",
        "delivery_pin_code": "635126",
        "delivery_latitude": 12.74,
        "delivery_longitude": 77.83,
    },
    {
        "title": "BH-curve testing of a production lot",
        "description": "Closed-circuit hysteresigraph testing (IEC 60404-5) of 120 samples "
        "of an N42SH lot at 20 and 150 °C: Br, HcJ, HcB and (BH)max.",
        "layer": "testing",
        "required_capabilities": ["hysteresigraph-testing"],
        "required_certifications": ["iso-iec-17025"],
        "grades": ["n42sh"],
        "preferred_certifications": ["iso-9001"],
        "quantity": Decimal(120),
        "quantity_unit": "tests",
        "days": 21,
        "delivery_state": "MH",
        "delivery_pin_code": "411019",
        "delivery_latitude": 18.63,
        "delivery_longitude": 73.80,
        "max_distance_km": 800,
    },
    {
        "title": "Jet-mill maintenance: classifier and nozzle overhaul",
        "description": "Annual overhaul of two fluidised-bed jet mills: classifier wheel "
        "balancing, nozzle and seal replacement, leak test of the nitrogen loop.",
        "layer": "testing",
        "required_capabilities": ["press-maintenance"],
        "preferred_certifications": ["iso-9001"],
        "quantity": Decimal(80),
        "quantity_unit": "hours",
        "days": 40,
        "delivery_state": "KA",
        "delivery_pin_code": "560100",
        "delivery_latitude": 12.84,
        "delivery_longitude": 77.66,
        "max_distance_km": 600,
    },
    {
        "title": "Fluoride salts for NdPr electrolysis",
        "description": "Lithium fluoride and neodymium fluoride electrolyte salts, "
        "99.5%, dry, for NdPr molten-salt electrolysis cells.",
        "layer": "chemicals",
        "required_capabilities": ["fluxes"],
        "preferred_certifications": ["iso-9001", "bis"],
        "materials": ["LiF", "NdF3"],
        "quantity": Decimal(8),
        "quantity_unit": "tonnes",
        "days": 60,
        "delivery_state": "AP",
        "delivery_pin_code": "530012",
        "prefer_micro_small": True,
    },
)

M2M = ("required_capabilities", "required_certifications", "preferred_certifications", "grades")


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
        data["grades"] = list(MaterialGrade.objects.filter(code__in=spec.get("grades", [])))
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
                "capability": Capability.objects.get(code="nicuni-coating"),
                "capacity_per_month": Decimal(60_000),
                "capacity_unit": "pieces_per_month",
                "lead_time_days": 21,
                "grades": ["n42sh", "n45sh", "n48h", "n42uh"],
                "description": "Rack and barrel Ni-Cu-Ni plating of sintered NdFeB, "
                "salt-spray tested in house.",
            },
            {
                "capability": Capability.objects.get(code="wire-edm-slicing"),
                "capacity_per_month": Decimal(30_000),
                "capacity_unit": "pieces_per_month",
                "lead_time_days": 14,
                "grades": ["n48h", "n42sh"],
                "description": "Wire-EDM and multi-wire slicing of blocks into segments.",
            },
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
