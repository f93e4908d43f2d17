"""Procurement requests, match runs, matches and their lifecycle."""

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from matching.choices import MatchStatus, Outcome, Party, RequestStatus, RunStatus, RunTrigger
from matching.scoring import FACTORS
from remag.accounts.models import Organization
from remag.db import BaseModel, PlainJSONField
from remag.jobs import Job
from suppliers.choices import Layer, QuantityUnit
from suppliers.models import Capability, Certification, MaterialGrade, Supplier
from suppliers.states import STATE_CHOICES

# A request's weights override the default weight of some factors: at most this each.
MAX_WEIGHT = 1000
# A request's materials: at most this many, each at most this long.
MAX_MATERIALS, MAX_MATERIAL_LENGTH = 20, 100


def weights_problems(value: Any) -> str | dict[str, str] | None:
    """Why ``value`` cannot be a request's weights (an object of factor names to finite
    numbers from 0 to ``MAX_WEIGHT``): a message about the whole, or one per factor;
    None when it can. The API's field and the admin's form both ask."""
    if not isinstance(value, dict):
        return "Give an object of factor name to weight."
    unknown = sorted(set(value) - set(FACTORS))
    if unknown:
        return (
            f"Unknown factor(s) {', '.join(map(str, unknown))}; "
            f"the factors are {', '.join(FACTORS)}."
        )
    problems = {}
    for name, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            problems[name] = "A number."
        elif not math.isfinite(weight) or weight < 0:
            problems[name] = "A finite number, 0 or more."
        elif weight > MAX_WEIGHT:
            problems[name] = f"At most {MAX_WEIGHT}."
    return problems or None


def validate_weights(value: Any) -> None:
    problems = weights_problems(value)
    if isinstance(problems, dict):
        problems = "; ".join(f"{name}: {message}" for name, message in problems.items())
    if problems:
        raise ValidationError(problems)


def validate_materials(value: Any) -> None:
    """The shape the API gives a request's materials: a list of at most
    ``MAX_MATERIALS`` strings of at most ``MAX_MATERIAL_LENGTH`` characters (the API
    also trims them and refuses blank ones)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Give a list of materials, each a string.")
    if len(value) > MAX_MATERIALS:
        raise ValidationError(f"At most {MAX_MATERIALS} materials.")
    if any(len(item) > MAX_MATERIAL_LENGTH for item in value):
        raise ValidationError(f"A material has at most {MAX_MATERIAL_LENGTH} characters.")


class ProcurementRequest(BaseModel):
    """What a magnet manufacturer wants to buy, owned by an organisation of kind
    ``manufacturer``. Editable while ``draft`` or ``open``; publishing opens it and starts a
    match run. ``PUBLIC_FIELDS`` are what other organisations see of a published request;
    the rest (delivery PIN and coordinates, radius, weights, policy preferences) stays
    with the owner's members and operators."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="requests")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    layer = models.CharField(max_length=20, choices=Layer.choices)
    required_capabilities = models.ManyToManyField(Capability, related_name="+")
    required_certifications = models.ManyToManyField(Certification, related_name="+", blank=True)
    preferred_certifications = models.ManyToManyField(Certification, related_name="+", blank=True)
    grades = models.ManyToManyField(MaterialGrade, related_name="+", blank=True)
    grades_required = models.BooleanField(
        default=False,
        help_text="True: a supplier must offer, for each grade, one that meets it (a hard "
        "constraint); false: meeting them raises the score (docs/matching.md).",
    )
    materials = models.JSONField(default=list, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    quantity_unit = models.CharField(max_length=10, choices=QuantityUnit.choices, blank=True)
    needed_by = models.DateField(null=True, blank=True)
    delivery_state = models.CharField(max_length=2, choices=STATE_CHOICES)
    delivery_pin_code = models.CharField(max_length=6, blank=True)
    delivery_latitude = models.FloatField(null=True, blank=True)
    delivery_longitude = models.FloatField(null=True, blank=True)
    max_distance_km = models.PositiveIntegerField(null=True, blank=True)
    prefer_micro_small = models.BooleanField(default=False)
    prefer_women_owned = models.BooleanField(default=False)
    prefer_sc_st_owned = models.BooleanField(default=False)
    weights = models.JSONField(
        default=dict, blank=True, help_text="Overrides of the default factor weights."
    )
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("status", "layer"), name="request_status_layer"),
            models.Index(fields=("owner", "-created_at"), name="request_owner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="request_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0),
                name="request_quantity_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        """Weights and materials of the shape the API gives them, whatever edits the row
        (the admin's form takes any JSON; weights of another shape would break the
        request's runs). Here rather than as the fields' validators, which Django skips
        for empty values such as ``[]`` or ``""``."""
        super().clean()
        errors = {}
        for name, validate in (("weights", validate_weights), ("materials", validate_materials)):
            try:
                validate(getattr(self, name))
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)

    @property
    def is_editable(self) -> bool:
        return self.status in (RequestStatus.DRAFT, RequestStatus.OPEN)


PUBLIC_REQUEST_FIELDS = (
    "id",
    "owner",
    "title",
    "description",
    "layer",
    "required_capabilities",
    "required_certifications",
    "preferred_certifications",
    "grades",
    "grades_required",
    "materials",
    "quantity",
    "quantity_unit",
    "needed_by",
    "delivery_state",
    "status",
    "published_at",
    "closed_at",
)


class MatchRun(Job):
    """One scoring of a request against the registry: a job (``remag.jobs``). The row is
    written before the task is sent; the task may run more than once (a lost message, a
    dead worker) and each run leaves the same matches."""

    request = models.ForeignKey(ProcurementRequest, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    algorithm_version = models.CharField(max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    candidate_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    near_miss_count = models.PositiveIntegerField(default=0)
    load_seconds = models.FloatField(null=True, blank=True)
    score_seconds = models.FloatField(null=True, blank=True)
    write_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("status", "enqueued_at"), name="matchrun_status_enqueued"),
            models.Index(fields=("status", "heartbeat_at"), name="matchrun_status_heartbeat"),
            models.Index(fields=("request", "-created_at"), name="matchrun_request"),
        ]

    def __str__(self) -> str:
        return f"run {self.id} ({self.status})"


class Match(BaseModel):
    """A supplier that qualifies for a request, with its score and explanation.

    One row per (request, supplier): a rerun updates the score in place and keeps the
    lifecycle ``status``. A supplier that stops qualifying loses its row while still
    ``proposed``; once the buyer has acted on it the row is kept with ``qualifies`` false.
    """

    # No index of their own for the request and the supplier, nor for created_at: the
    # composite indexes below start with them, and every index costs a run's writes.
    # Their foreign keys stay in the database, though PostgreSQL checks each new match's
    # at commit (0.45 to 0.58 s of a first run of 34,970 matches): without them an
    # operator deleting a request or a supplier while a run writes its matches leaves
    # rows naming neither (docs/benchmarks.md, sixteenth pass).
    created_at = models.DateTimeField(auto_now_add=True)
    request = models.ForeignKey(
        ProcurementRequest, on_delete=models.CASCADE, related_name="matches", db_index=False
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="matches", db_index=False
    )
    # The run that last wrote the match: informational (no reader joins it), so no
    # foreign-key constraint in the database, whose check per row at commit cost a first
    # run about 6 us a match, and no index: every match a run writes added an entry to
    # it (70 ms of storing 34,970 matches, a seventh). Runs are deleted only through the
    # ORM (with their request, or by an operator in the admin), which sets this to NULL
    # itself (SET_NULL), finding the matches by a scan: rare, and an operator's.
    run = models.ForeignKey(
        MatchRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    score = models.FloatField()
    # The score the matched supplier reads, from the factors it may see with the default
    # weights (matching.scoring.public_weights): the whole score would let it find the
    # buyer's delivery point by moving its own plant and watching the score. Its
    # opportunities are ranked and filtered by it. 0 (the database's default, for a worker
    # of the release before it) is never a real one: coverage is always counted and above
    # 0 for a match, so a run writes such a row again whatever its digest (runs.py).
    public_score = models.FloatField(db_default=0.0)
    # [[value, weight, contribution], ...] in the order of the factors of the match's
    # algorithm_version (matching.scoring.FACTORS_BY_VERSION): compact, since a run may
    # write tens of thousands; see explained_factors(). Both kept as PostgreSQL's json
    # (the text as written, checked), not jsonb: written in bulk, read whole.
    factors = PlainJSONField(default=list)
    reasons = PlainJSONField(default=list)
    # matching.scoring.row_digests of what the score and explanation were computed from:
    # a rerun rewrites only the rows whose digest changed. Null: unknown (rewritten).
    digest = models.BigIntegerField(null=True, blank=True, editable=False)
    qualifies = models.BooleanField(default=True)
    algorithm_version = models.CharField(max_length=40)
    scored_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=MatchStatus.choices, default=MatchStatus.PROPOSED
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    contact_shared_at = models.DateTimeField(
        null=True, blank=True, help_text="When the SME answered interested."
    )
    outcome = models.CharField(max_length=4, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ("-score", "supplier_id")
        constraints = [
            models.UniqueConstraint(fields=("request", "supplier"), name="match_request_supplier"),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="match_score_range"
            ),
            models.CheckConstraint(
                condition=Q(public_score__gte=0) & Q(public_score__lte=100),
                name="match_public_score_range",
            ),
        ]
        indexes = [
            models.Index(fields=("request", "-score", "supplier"), name="match_request_score"),
            # A supplier's opportunities, best first as the supplier reads them.
            models.Index(fields=("supplier", "-public_score"), name="match_supplier_public"),
            models.Index(
                fields=("supplier",),
                condition=Q(status=MatchStatus.AWARDED),
                name="match_awarded_supplier",
            ),
        ]
        verbose_name_plural = "matches"

    def __str__(self) -> str:
        return f"{self.request_id} ~ {self.supplier_id}: {self.score:.1f}"

    def explained_factors(self) -> list[dict[str, object]]:
        """Each factor's name, value, weight and contribution (what the API shows), named
        by the match's own algorithm version, whatever the current version's factors are."""
        from matching.scoring import factors_of

        names = factors_of(self.algorithm_version, len(self.factors))
        return [
            {"name": name, "value": value, "weight": weight, "contribution": contribution}
            for name, (value, weight, contribution) in zip(names, self.factors, strict=True)
        ]

    def supplier_factors(self) -> list[dict[str, object]]:
        """The factors as the matched supplier may see them: values of the factors that
        depend on what the buyer published, no weights (see ``scoring.PRIVATE_FACTORS``)."""
        from matching.scoring import supplier_factors

        return supplier_factors(self.algorithm_version, self.factors)

    def supplier_reasons(self) -> list[str]:
        """The reasons as the matched supplier may read them."""
        from matching.scoring import supplier_reasons

        return supplier_reasons(self.reasons)


class MatchTransition(models.Model):
    """One change of a match's status: who (person or API key, for which party) and when."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=MatchStatus.choices)
    to_status = models.CharField(max_length=12, choices=MatchStatus.choices)
    party = models.CharField(max_length=8, choices=Party.choices)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_api_key = models.UUIDField(null=True, blank=True, help_text="Public id of the API key.")
    by_organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ("at", "id")
        indexes = [models.Index(fields=("match", "at"), name="matchtransition_match")]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class NearMiss(models.Model):
    """A supplier excluded from a request by exactly one hard constraint (for gaps)."""

    # Indexed by the unique (request, supplier) and by (supplier, constraint) only.
    request = models.ForeignKey(
        ProcurementRequest, on_delete=models.CASCADE, related_name="near_misses", db_index=False
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="near_misses", db_index=False
    )
    constraint = models.CharField(max_length=80)
    reason = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("request", "supplier"), name="nearmiss_request_supplier"
            ),
        ]
        indexes = [models.Index(fields=("supplier", "constraint"), name="nearmiss_supplier")]
        verbose_name_plural = "near misses"

    def __str__(self) -> str:
        return f"{self.supplier_id} misses {self.request_id}: {self.constraint}"
