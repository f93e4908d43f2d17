"""Choices and constants of the magnet market (docs/magnets.md)."""

from django.db import models

from matching.choices import Outcome as OUTCOME


class Material(models.TextChoices):
    """The magnet material an offer or a requirement is of. Grades of one material only
    (``suppliers.grades`` families): a sintered NdFeB requirement is never matched to a
    SmCo offer."""

    SINTERED_NDFEB = "sintered_ndfeb", "Sintered NdFeB"
    SMCO = "smco", "Sintered SmCo (1:5 or 2:17)"
    BONDED_NDFEB = "bonded_ndfeb", "Bonded NdFeB"


# The grade families (suppliers.grades) each material admits.
MATERIAL_FAMILIES: dict[str, frozenset[str]] = {
    Material.SINTERED_NDFEB: frozenset({"ndfeb"}),
    Material.SMCO: frozenset({"smco5", "sm2co17"}),
    Material.BONDED_NDFEB: frozenset({"bonded_ndfeb"}),
}
# Densities in g/cm3 (typical datasheet values), for a piece's mass from its dimensions.
DENSITY_G_PER_CM3: dict[str, float] = {
    Material.SINTERED_NDFEB: 7.5,
    Material.SMCO: 8.4,
    Material.BONDED_NDFEB: 6.0,
}


class Shape(models.TextChoices):
    BLOCK = "block", "Block"
    ARC = "arc", "Arc segment"
    RING = "ring", "Ring"
    DISC = "disc", "Disc"


# The dimensions (in mm, but the arc's angle in degrees) each shape is given by.
SHAPE_DIMENSIONS: dict[str, tuple[str, ...]] = {
    Shape.BLOCK: ("length_mm", "width_mm", "thickness_mm"),
    Shape.ARC: ("outer_radius_mm", "inner_radius_mm", "angle_deg", "length_mm"),
    Shape.RING: ("outer_diameter_mm", "inner_diameter_mm", "thickness_mm"),
    Shape.DISC: ("diameter_mm", "thickness_mm"),
}


class Coating(models.TextChoices):
    NICUNI = "nicuni", "Ni-Cu-Ni"
    ZN = "zn", "Zinc"
    EPOXY = "epoxy", "Epoxy"
    ALUMINIUM = "aluminium", "Aluminium (IVD or sprayed)"
    PHOSPHATE = "phosphate", "Phosphate (passivated)"
    NONE = "none", "Uncoated"


class Magnetisation(models.TextChoices):
    AXIAL = "axial", "Axial (through thickness)"
    DIAMETRAL = "diametral", "Diametral"
    MULTIPOLE = "multipole", "Multipole"


class CapacityUnit(models.TextChoices):
    KG = "kg", "kg per month"
    PIECES = "pieces", "pieces per month"


class Application(models.TextChoices):
    TRACTION_MOTOR = "traction_motor", "EV traction motor"
    SERVO = "servo", "Servo or BLDC motor"
    ROBOTICS = "robotics", "Robotic actuator"
    WIND_GENERATOR = "wind_generator", "Wind generator"
    INDUSTRIAL_MOTOR = "industrial_motor", "Industrial motor"
    SENSOR = "sensor", "Sensor"
    CONSUMER = "consumer", "Consumer electronics"
    OTHER = "other", "Other"


class OfferStatus(models.TextChoices):
    DRAFT = "draft", "Draft: only its maker sees it"
    PUBLISHED = "published", "Published: matched to requirements"
    WITHDRAWN = "withdrawn", "Withdrawn by its maker"
    EXPIRED = "expired", "Expired: its validity window ended"


class RequirementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open: matched to offers"
    CLOSED = "closed", "Closed: supply arranged or no longer needed"
    CANCELLED = "cancelled", "Cancelled"


class RunDirection(models.TextChoices):
    REQUIREMENT = "requirement", "A requirement against the published offers"
    OFFER = "offer", "An offer against the open requirements (its leads)"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    PUBLISH = "publish", "Published or opened"
    UPDATE = "update", "Changed while open or published"
    MANUAL = "manual", "Asked for"


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    INTERESTED = "interested", "The buyer is interested (its identity shared with the maker)"
    ACCEPTED = "accepted", "The maker will supply"
    DECLINED = "declined", "The maker declined"
    DISMISSED = "dismissed", "The buyer dismissed the offer"


# Who may move a match, and where to.
BUYER_MOVES: dict[str, frozenset[str]] = {
    MatchStatus.PROPOSED: frozenset({MatchStatus.INTERESTED, MatchStatus.DISMISSED}),
}
MAKER_MOVES: dict[str, frozenset[str]] = {
    MatchStatus.INTERESTED: frozenset({MatchStatus.ACCEPTED, MatchStatus.DECLINED}),
}


# How a supply went, as the buyer records it: the same choices as procurement's.
Outcome = OUTCOME


class PoolStatus(models.TextChoices):
    OPEN = "open", "Open: a maker may answer it"
    ANSWERED = "answered", "Answered by a maker's offer"
    DISSOLVED = "dissolved", "Dissolved: fewer than two members left"


# Pooling (docs/magnets.md, "Pooled requirements").
POOL_MIN_MEMBERS = 2
POOL_NEEDED_FROM_WINDOW_DAYS = 90

# The largest monthly quantity a requirement may ask for, in kg (10,000 tonnes a month,
# about half the world's monthly NdFeB output): pieces are converted through the piece
# mass and checked too. Keeps every stored quantity, pool sum and demand total in range.
MAX_KG_PER_MONTH = 10_000_000
# The largest value a quantity column (numeric 14, 3) holds: pool sums are capped there.
MAX_QUANTITY_COLUMN = 99_999_999_999
