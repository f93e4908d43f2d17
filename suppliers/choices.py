from decimal import Decimal

from django.db import models


class Layer(models.TextChoices):
    COMPONENTS = "components", "Component manufacturing and subassembly"
    CHEMICALS = "chemicals", "Materials and chemical supply"
    TESTING = "testing", "Maintenance, testing and calibration"
    DOWNSTREAM = "downstream", "EV, robotics and wind supply chains"
    RND = "rnd", "Innovation and collaboration"


class EnterpriseSize(models.TextChoices):
    MICRO = "micro", "Micro"
    SMALL = "small", "Small"
    MEDIUM = "medium", "Medium"


class LegalForm(models.TextChoices):
    """The enterprise's constitution, as the Udyam form's "type of organisation" lists it."""

    PROPRIETORSHIP = "proprietorship", "Proprietorship"
    HUF = "huf", "Hindu Undivided Family"
    PARTNERSHIP = "partnership", "Partnership firm"
    LLP = "llp", "Limited liability partnership"
    PRIVATE_LIMITED = "private_limited", "Private limited company"
    PUBLIC_LIMITED = "public_limited", "Public limited company"
    COOPERATIVE = "cooperative", "Co-operative society"
    SOCIETY = "society", "Society"
    TRUST = "trust", "Trust"
    SELF_HELP_GROUP = "self_help_group", "Self help group"
    OTHER = "other", "Other"


# PAN's 4th character: the holder's status (Income Tax Department).
PAN_HOLDER_TYPES: dict[str, str] = {
    "P": "an individual (a proprietor)",
    "C": "a company",
    "F": "a firm (partnership or LLP)",
    "H": "a Hindu Undivided Family",
    "A": "an association of persons",
    "B": "a body of individuals",
    "T": "a trust",
    "G": "a government",
    "J": "an artificial juridical person",
    "L": "a local authority",
}
# The 4th characters a PAN may have for each legal form. A proprietorship has no PAN
# of its own: it uses the proprietor's. Co-operatives, societies and self help groups
# are assessed as associations of persons or bodies of individuals.
LEGAL_FORM_PAN_HOLDERS: dict[str, str] = {
    LegalForm.PROPRIETORSHIP: "P",
    LegalForm.HUF: "H",
    LegalForm.PARTNERSHIP: "F",
    LegalForm.LLP: "F",
    LegalForm.PRIVATE_LIMITED: "C",
    LegalForm.PUBLIC_LIMITED: "C",
    LegalForm.COOPERATIVE: "AJ",
    LegalForm.SOCIETY: "AJT",
    LegalForm.TRUST: "TA",
    LegalForm.SELF_HELP_GROUP: "AB",
    LegalForm.OTHER: "".join(PAN_HOLDER_TYPES),
}


class SupplierStatus(models.TextChoices):
    PENDING = "pending", "Pending verification"
    ACTIVE = "active", "Active (verified)"
    SUSPENDED = "suspended", "Suspended"


class CapacityUnit(models.TextChoices):
    KG_PER_MONTH = "kg_per_month", "kg/month"
    TONNES_PER_MONTH = "tonnes_per_month", "tonnes/month"
    PIECES_PER_MONTH = "pieces_per_month", "pieces/month"
    TESTS_PER_MONTH = "tests_per_month", "tests/month"
    HOURS_PER_MONTH = "hours_per_month", "hours/month"


# Capacities are compared in a base unit per dimension: mass in kg, the rest as given.
CAPACITY_TO_BASE: dict[str, tuple[str, Decimal]] = {
    CapacityUnit.KG_PER_MONTH: ("mass", Decimal(1)),
    CapacityUnit.TONNES_PER_MONTH: ("mass", Decimal(1000)),
    CapacityUnit.PIECES_PER_MONTH: ("pieces", Decimal(1)),
    CapacityUnit.TESTS_PER_MONTH: ("tests", Decimal(1)),
    CapacityUnit.HOURS_PER_MONTH: ("hours", Decimal(1)),
}


# The capacity units that make sense for each layer's capabilities (the registry's unit
# set, per layer). A procurement request's quantity unit must share a dimension with them.
LAYER_CAPACITY_UNITS: dict[str, tuple[str, ...]] = {
    Layer.COMPONENTS: (CapacityUnit.PIECES_PER_MONTH, CapacityUnit.KG_PER_MONTH),
    Layer.CHEMICALS: (CapacityUnit.TONNES_PER_MONTH, CapacityUnit.KG_PER_MONTH),
    Layer.TESTING: (CapacityUnit.TESTS_PER_MONTH, CapacityUnit.HOURS_PER_MONTH),
    Layer.DOWNSTREAM: (CapacityUnit.PIECES_PER_MONTH,),
    Layer.RND: (CapacityUnit.HOURS_PER_MONTH,),
}


class QuantityUnit(models.TextChoices):
    """Units of a procurement request's quantity (a total, not a rate)."""

    KG = "kg", "kg"
    TONNES = "tonnes", "tonnes"
    PIECES = "pieces", "pieces"
    TESTS = "tests", "tests"
    HOURS = "hours", "hours"


QUANTITY_TO_BASE: dict[str, tuple[str, Decimal]] = {
    QuantityUnit.KG: ("mass", Decimal(1)),
    QuantityUnit.TONNES: ("mass", Decimal(1000)),
    QuantityUnit.PIECES: ("pieces", Decimal(1)),
    QuantityUnit.TESTS: ("tests", Decimal(1)),
    QuantityUnit.HOURS: ("hours", Decimal(1)),
}


def layer_dimensions(layer: str) -> frozenset[str]:
    """The quantity dimensions (mass, pieces, ...) that fit capabilities of ``layer``."""
    return frozenset(CAPACITY_TO_BASE[unit][0] for unit in LAYER_CAPACITY_UNITS.get(layer, ()))


class CertificationCategory(models.TextChoices):
    QUALITY = "quality", "Quality management"
    ENVIRONMENT = "environment", "Environmental management"
    SAFETY = "safety", "Occupational health and safety"
    LABORATORY = "laboratory", "Laboratory competence"
    PRODUCT = "product", "Product certification"
    ZED = "zed", "MSME ZED"
    ENERGY = "energy", "Energy management"
    SPECIAL_PROCESS = "special_process", "Special processes"
    COMPLIANCE = "compliance", "Substance compliance"
    REGULATORY = "regulatory", "Regulatory licence"


class CertificationKind(models.TextChoices):
    """What a certificate is (docs/registry.md, "Certifications and accreditation").

    A certification is issued by a certification body for the whole enterprise (its
    management system or product); an accreditation is granted by an accreditation body
    for a stated scope of tests, inspections or processes; a declaration is made by the
    supplier itself (no issuing body, open-ended unless it says otherwise); a licence is
    granted by a regulator."""

    CERTIFICATION = "certification", "Certification"
    ACCREDITATION = "accreditation", "Accreditation"
    DECLARATION = "declaration", "Self-declaration"
    LICENCE = "licence", "Licence"


# Codes retired into another certification: a request, registration, import or filter
# that sends the old code gets the new one, and a certificate sent under the old code is
# recorded with the issuing body named here when it names none. NABL accreditation is
# ISO/IEC 17025 accreditation by NABL (docs/registry.md).
CERTIFICATION_ALIASES: dict[str, tuple[str, str]] = {"nabl": ("iso-iec-17025", "NABL")}
# ZED certification is for manufacturing MSMEs: a supplier holding one offers at least one
# capability in these layers.
ZED_CATEGORY = "zed"
MANUFACTURING_LAYERS = (Layer.COMPONENTS, Layer.CHEMICALS, Layer.DOWNSTREAM)


class MaterialFamily(models.TextChoices):
    """Magnet material families (``suppliers.grades``): grades of different families never
    stand in for each other."""

    NDFEB = "ndfeb", "Sintered NdFeB"
    SMCO5 = "smco5", "Sintered SmCo 1:5"
    SM2CO17 = "sm2co17", "Sintered SmCo 2:17"
    BONDED_NDFEB = "bonded_ndfeb", "Bonded NdFeB"
    # Before the 1:5 and 2:17 families were told apart (migration 0011 moved the shipped
    # grades; an operator's own SmCo grade whose code says neither stays here).
    SMCO = "smco", "Samarium-cobalt (type not stated)"


class TemperatureClass(models.TextChoices):
    """Sintered NdFeB temperature classes, lowest first (``suppliers.grades``); the
    temperature is the typical highest working temperature of magnet makers' datasheets."""

    N = "n", "N (none): up to 80 °C"
    M = "m", "M: up to 100 °C"
    H = "h", "H: up to 120 °C"
    SH = "sh", "SH: up to 150 °C"
    UH = "uh", "UH: up to 180 °C"
    EH = "eh", "EH: up to 200 °C"
    AH = "ah", "AH: up to 230 °C"


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON lines"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
