"""Magnet offers, magnet requirements, their match runs, matches and pools."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from matching.magnets.choices import (
    Application,
    CapacityUnit,
    Coating,
    Magnetisation,
    MatchStatus,
    Material,
    OfferStatus,
    Outcome,
    PoolStatus,
    RequirementStatus,
    RunDirection,
    RunStatus,
    RunTrigger,
    Shape,
)
from remag.accounts.models import Organization
from remag.db import BaseModel
from remag.jobs import Job
from suppliers.models import Certification
from suppliers.states import STATE_CHOICES


class MagnetOffer(BaseModel):
    """What a magnet maker (an organisation of kind ``manufacturer``) can supply.

    ``grades`` are grade codes (``suppliers.grades``) of the offer's material; ``shapes``
    is a list of ``{"shape", "min_mm", "max_mm", "tolerance_mm"}`` (the thinnest section
    and largest dimension it makes of that shape, and the tightest tolerance it holds);
    ``coatings`` and ``magnetisations`` are choice codes. Capacity and minimum order are
    per month in ``capacity_unit``. Lifecycle: draft -> published -> withdrawn, or
    expired once ``valid_until`` has passed. Published offers are public (makers publish
    them to be found); drafts and withdrawn ones are the maker's."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="magnet_offers")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    material = models.CharField(max_length=20, choices=Material.choices)
    grades = models.JSONField(default=list)
    shapes = models.JSONField(default=list)
    coatings = models.JSONField(default=list)
    magnetisations = models.JSONField(default=list)
    capacity_per_month = models.DecimalField(max_digits=14, decimal_places=3)
    capacity_unit = models.CharField(max_length=10, choices=CapacityUnit.choices)
    min_order_per_month = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    lead_time_days = models.PositiveIntegerField()
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    plant_state = models.CharField(max_length=2, choices=STATE_CHOICES)
    plant_city = models.CharField(max_length=100, blank=True)
    plant_latitude = models.FloatField(null=True, blank=True)
    plant_longitude = models.FloatField(null=True, blank=True)
    price_min_inr_per_kg = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    price_max_inr_per_kg = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    certifications = models.ManyToManyField(Certification, related_name="+", blank=True)
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("status", "material"), name="magnetoffer_status_material"),
            models.Index(fields=("owner", "-created_at"), name="magnetoffer_owner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OfferStatus.values), name="magnetoffer_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(capacity_per_month__gt=0), name="magnetoffer_capacity_positive"
            ),
            models.CheckConstraint(
                condition=Q(min_order_per_month__gte=0), name="magnetoffer_min_order_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="magnetoffer_validity_ordered",
            ),
            models.CheckConstraint(
                condition=Q(price_min_inr_per_kg__isnull=True)
                | Q(price_max_inr_per_kg__gte=models.F("price_min_inr_per_kg")),
                name="magnetoffer_price_band_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MagnetPool(BaseModel):
    """Open requirements of the same specification grouped into one, so that buyers whose
    single orders are below makers' minimums can be answered as one (docs/magnets.md,
    "Pooled requirements"). The spec is the members' shared one; the quantity their sum."""

    material = models.CharField(max_length=20, choices=Material.choices)
    grade = models.CharField(max_length=20)
    shape = models.CharField(max_length=10, choices=Shape.choices)
    dimensions = models.JSONField(default=dict)
    tolerance_mm = models.DecimalField(max_digits=8, decimal_places=3)
    coating = models.CharField(max_length=10, choices=Coating.choices)
    magnetisation = models.CharField(max_length=10, choices=Magnetisation.choices)
    delivery_state = models.CharField(max_length=2, choices=STATE_CHOICES)
    needed_from = models.DateField()
    duration_months = models.PositiveSmallIntegerField()
    quantity_kg_per_month = models.DecimalField(max_digits=14, decimal_places=3)
    # The members' required certifications (the same set for every member): an answering
    # maker must hold each, as for any member alone.
    required_certifications = models.ManyToManyField(Certification, related_name="+", blank=True)
    status = models.CharField(max_length=10, choices=PoolStatus.choices, default=PoolStatus.OPEN)
    answered_offer = models.ForeignKey(
        MagnetOffer, on_delete=models.SET_NULL, null=True, blank=True, related_name="pools"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    dissolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PoolStatus.values), name="magnetpool_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"pool {self.grade} {self.shape} {self.delivery_state} ({self.status})"


class MagnetRequirement(BaseModel):
    """What a downstream SME (or any organisation that buys magnets) needs: a supply
    schedule of ``quantity_per_month`` for ``duration_months`` from ``needed_from``.

    ``grade`` is the minimum grade (energy and temperature class); ``dimensions`` the
    piece's (``choices.SHAPE_DIMENSIONS`` of its shape). ``piece_mass_g`` and
    ``quantity_kg_per_month`` are derived when saved (the density of the material), for
    unit conversion and the aggregated demand. Lifecycle: draft -> open -> closed or
    cancelled. Private to its owner and operators; makers see its spec through their
    leads, and the buyer's name once the buyer says it is interested."""

    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="magnet_requirements"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    application = models.CharField(max_length=20, choices=Application.choices)
    material = models.CharField(max_length=20, choices=Material.choices)
    grade = models.CharField(max_length=20, help_text="The minimum grade, e.g. n42sh.")
    energy_class = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    temperature_class = models.CharField(max_length=2, blank=True, editable=False)
    shape = models.CharField(max_length=10, choices=Shape.choices)
    dimensions = models.JSONField(default=dict)
    tolerance_mm = models.DecimalField(max_digits=8, decimal_places=3)
    coating = models.CharField(max_length=10, choices=Coating.choices)
    magnetisation = models.CharField(max_length=10, choices=Magnetisation.choices)
    quantity_per_month = models.DecimalField(max_digits=14, decimal_places=3)
    quantity_unit = models.CharField(max_length=10, choices=CapacityUnit.choices)
    duration_months = models.PositiveSmallIntegerField()
    piece_mass_g = models.FloatField(editable=False, default=0)
    # The thinnest section and largest dimension (scoring.size_extent_mm), for the offers'
    # size ranges: derived when saved, so a run reads numbers rather than JSON.
    size_min_mm = models.FloatField(editable=False, default=0)
    size_max_mm = models.FloatField(editable=False, default=0)
    quantity_kg_per_month = models.DecimalField(
        max_digits=14, decimal_places=3, editable=False, default=0
    )
    needed_from = models.DateField()
    delivery_state = models.CharField(max_length=2, choices=STATE_CHOICES)
    delivery_pin_code = models.CharField(max_length=6, blank=True)
    delivery_latitude = models.FloatField(null=True, blank=True)
    delivery_longitude = models.FloatField(null=True, blank=True)
    budget_inr_per_kg = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    required_certifications = models.ManyToManyField(Certification, related_name="+", blank=True)
    preferred_certifications = models.ManyToManyField(Certification, related_name="+", blank=True)
    pool_opt_in = models.BooleanField(
        default=False, help_text="May be grouped with others into a pooled requirement."
    )
    pool = models.ForeignKey(
        MagnetPool, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    status = models.CharField(
        max_length=10, choices=RequirementStatus.choices, default=RequirementStatus.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("status", "material"), name="magnetreq_status_material"),
            models.Index(fields=("owner", "-created_at"), name="magnetreq_owner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequirementStatus.values), name="magnetreq_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(quantity_per_month__gt=0), name="magnetreq_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(duration_months__gte=1), name="magnetreq_duration_positive"
            ),
            models.CheckConstraint(
                condition=Q(tolerance_mm__gt=0), name="magnetreq_tolerance_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status in (RequirementStatus.DRAFT, RequirementStatus.OPEN)


class MagnetRun(Job):
    """One scoring: a requirement against the published offers, or an offer against the
    open requirements (its leads). A job (``remag.jobs``), like ``matching.MatchRun``."""

    direction = models.CharField(max_length=12, choices=RunDirection.choices)
    requirement = models.ForeignKey(
        MagnetRequirement, on_delete=models.CASCADE, null=True, blank=True, related_name="runs"
    )
    offer = models.ForeignKey(
        MagnetOffer, on_delete=models.CASCADE, null=True, blank=True, related_name="runs"
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    algorithm_version = models.CharField(max_length=40, blank=True)
    candidate_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    near_miss_count = models.PositiveIntegerField(default=0)
    load_seconds = models.FloatField(null=True, blank=True)
    score_seconds = models.FloatField(null=True, blank=True)
    write_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("status", "enqueued_at"), name="magnetrun_status_enqueued"),
            models.Index(fields=("status", "heartbeat_at"), name="magnetrun_status_heartbeat"),
            # The runs queued or started since a run began reading (runs._rescored_since).
            models.Index(fields=("created_at",), name="magnetrun_created"),
            models.Index(fields=("started_at",), name="magnetrun_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(direction=RunDirection.REQUIREMENT)
                    & Q(requirement__isnull=False)
                    & Q(offer__isnull=True)
                )
                | (
                    Q(direction=RunDirection.OFFER)
                    & Q(offer__isnull=False)
                    & Q(requirement__isnull=True)
                ),
                name="magnetrun_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"magnet run {self.id} ({self.direction}, {self.status})"

    @property
    def owner_id(self) -> object:
        subject = self.requirement if self.direction == RunDirection.REQUIREMENT else self.offer
        return subject.owner_id if subject is not None else None


class MagnetMatch(BaseModel):
    """An offer that qualifies for a requirement, with its score and explanation. One row
    per (requirement, offer); a rerun from either side updates it in place and keeps its
    lifecycle ``status``: proposed -> interested (the buyer; its identity reaches the
    maker) -> accepted or declined (the maker); or dismissed by the buyer."""

    requirement = models.ForeignKey(
        MagnetRequirement, on_delete=models.CASCADE, related_name="matches", db_index=False
    )
    offer = models.ForeignKey(
        MagnetOffer, on_delete=models.CASCADE, related_name="matches", db_index=False
    )
    run = models.ForeignKey(
        MagnetRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score = models.FloatField()
    # The score the maker reads: the factors it may see with the default weights
    # (matching.magnets.scoring.public_weights). The whole score would let it find the
    # buyer's budget by moving its own price band and watching. Its leads are ranked
    # and filtered by it.
    public_score = models.FloatField(db_default=0.0)
    # [[value, weight, contribution], ...] in the order of factors_of(algorithm_version).
    factors = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    # scoring.ScoringResult.digests of what the score and explanation were computed from:
    # a rerun rewrites only the pairs whose digest changed. Null: unknown (rewritten).
    digest = models.BigIntegerField(null=True, blank=True, editable=False)
    qualifies = models.BooleanField(default=True)
    algorithm_version = models.CharField(max_length=40)
    scored_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=MatchStatus.choices, default=MatchStatus.PROPOSED
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    contact_shared_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=4, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ("-score", "offer_id")
        constraints = [
            models.UniqueConstraint(
                fields=("requirement", "offer"), name="magnetmatch_requirement_offer"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="magnetmatch_score_range"
            ),
            models.CheckConstraint(
                condition=Q(public_score__gte=0) & Q(public_score__lte=100),
                name="magnetmatch_public_range",
            ),
        ]
        indexes = [
            models.Index(fields=("requirement", "-score", "offer"), name="magnetmatch_req_score"),
            # An offer's leads, best first as the maker reads them.
            models.Index(
                fields=("offer", "-public_score", "requirement"), name="magnetmatch_offer_public"
            ),
        ]
        verbose_name_plural = "magnet matches"

    def __str__(self) -> str:
        return f"{self.requirement_id} ~ {self.offer_id}: {self.score:.1f}"

    def explained_factors(self) -> list[dict[str, object]]:
        from matching.magnets.scoring import factors_of

        names = factors_of(self.algorithm_version, len(self.factors))
        return [
            {"name": name, "value": value, "weight": weight, "contribution": contribution}
            for name, (value, weight, contribution) in zip(names, self.factors, strict=True)
        ]

    def maker_factors(self) -> list[dict[str, object]]:
        """What the maker may read (:func:`matching.magnets.scoring.maker_factors`)."""
        from matching.magnets.scoring import maker_factors

        return maker_factors(self.algorithm_version, self.factors)

    def maker_reasons(self) -> list[str]:
        from matching.magnets.scoring import reason_is_private

        return [reason for reason in self.reasons if not reason_is_private(reason)]


class MagnetNearMiss(models.Model):
    """An offer excluded from a requirement by exactly one hard constraint."""

    requirement = models.ForeignKey(
        MagnetRequirement, on_delete=models.CASCADE, related_name="near_misses", db_index=False
    )
    offer = models.ForeignKey(
        MagnetOffer, on_delete=models.CASCADE, related_name="near_misses", db_index=False
    )
    constraint = models.CharField(max_length=80)
    reason = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("requirement", "offer"), name="magnetnearmiss_requirement_offer"
            ),
        ]
        indexes = [models.Index(fields=("offer", "constraint"), name="magnetnearmiss_offer")]
        verbose_name_plural = "magnet near misses"

    def __str__(self) -> str:
        return f"{self.offer_id} misses {self.requirement_id}: {self.constraint}"
