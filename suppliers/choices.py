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


class MaterialFamily(models.TextChoices):
    NDFEB = "ndfeb", "Sintered NdFeB"
    SMCO = "smco", "Samarium-cobalt"


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON lines"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
