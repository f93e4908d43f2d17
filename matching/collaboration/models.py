"""Calls for collaboration: technology transfer and research partnerships.

A manufacturer, an R&D institution or an SME posts a :class:`CollaborationCall` (a kind,
a topic, the R&D capabilities and facilities it needs, a timeframe and, when it is
confidential, an NDA to acknowledge before its details are shown). Opening the call
queues a :class:`CallRun` (a job) that scores the registry's suppliers into
:class:`CallMatch` rows and :class:`CallNearMiss` rows. Organisations answer with an
:class:`ExpressionOfInterest`; the poster shortlists and selects. Contact details are
shared both ways on mutual consent: the respondent's expression of interest and the
poster's shortlist (or selection). See docs/collaboration.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from matching.collaboration.choices import CallKind, CallRunStatus, CallStatus, InterestStatus
from remag.accounts.models import Organization
from remag.db import BaseModel
from remag.jobs import Job
from suppliers.models import Capability, Supplier


class CollaborationCall(BaseModel):
    """A call for collaboration. ``description`` holds the confidential details: when
    ``requires_nda`` is set, only the poster, operators and organisations that
    acknowledged ``nda_text`` read it."""

    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="collaboration_calls"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=CallKind.choices)
    topic = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="Public: shown to every signed-in caller.")
    description = models.TextField(
        blank=True, help_text="The details; confidential when the call requires an NDA."
    )
    required_capabilities = models.ManyToManyField(Capability, related_name="+")
    required_facilities = models.ManyToManyField(Capability, blank=True, related_name="+")
    preferred_facilities = models.ManyToManyField(Capability, blank=True, related_name="+")
    timeframe_start = models.DateField(null=True, blank=True)
    timeframe_end = models.DateField(null=True, blank=True)
    response_deadline = models.DateField(null=True, blank=True)
    requires_nda = models.BooleanField(default=False)
    nda_text = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=CallStatus.choices, default=CallStatus.DRAFT)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CallStatus.values), name="collab_call_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CallKind.values), name="collab_call_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(timeframe_start__isnull=True)
                | Q(timeframe_end__isnull=True)
                | Q(timeframe_end__gte=models.F("timeframe_start")),
                name="collab_call_timeframe_ordered",
            ),
            models.CheckConstraint(
                condition=Q(requires_nda=False) | ~Q(nda_text=""),
                name="collab_call_nda_has_text",
            ),
        ]
        indexes = [models.Index(fields=("status", "-created_at"), name="collab_call_status")]

    def __str__(self) -> str:
        return f"{self.topic} ({self.kind}, {self.status})"


class CallRun(Job):
    """One scoring of a call against the registry: a job (``remag.jobs``)."""

    call = models.ForeignKey(CollaborationCall, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(
        max_length=10, choices=CallRunStatus.choices, default=CallRunStatus.QUEUED
    )
    trigger = models.CharField(max_length=10)  # "open", "update", "manual"
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    algorithm_version = models.CharField(max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    candidate_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    near_miss_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("status", "enqueued_at"), name="callrun_status_enqueued"),
            models.Index(fields=("status", "heartbeat_at"), name="callrun_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"call run {self.id} ({self.status})"


class CallMatch(BaseModel):
    """A supplier that qualifies for a call, with its score and explanation (``factors``:
    ``[{"name", "value", "weight", "contribution"}, ...]``, contributions summing to the
    score). A rerun updates it in place; one that stops qualifying is removed."""

    call = models.ForeignKey(CollaborationCall, on_delete=models.CASCADE, related_name="matches")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="call_matches")
    run = models.ForeignKey(CallRun, on_delete=models.SET_NULL, null=True, related_name="+")
    rank = models.PositiveIntegerField()
    score = models.FloatField()
    factors = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    algorithm_version = models.CharField(max_length=40)

    class Meta:
        ordering = ("rank", "supplier_id")
        constraints = [
            models.UniqueConstraint(fields=("call", "supplier"), name="collab_match_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id} for call {self.call_id}: {self.score}"

    @property
    def public_score(self) -> float:
        """The score the respondent reads: without the distance to the poster's location
        (:func:`matching.collaboration.scoring.public_score`)."""
        from matching.collaboration.scoring import public_score

        return public_score(self.factors)


class CallNearMiss(models.Model):
    """A supplier excluded by exactly one hard constraint, and which."""

    call = models.ForeignKey(
        CollaborationCall, on_delete=models.CASCADE, related_name="near_misses"
    )
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    constraint = models.CharField(max_length=80)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ("supplier_id",)
        constraints = [
            models.UniqueConstraint(fields=("call", "supplier"), name="collab_nearmiss_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id} near {self.call_id}: {self.constraint}"


class NdaAcknowledgement(BaseModel):
    """An organisation's acknowledgement of a call's NDA: who, when, and the digest of the
    text they saw (a later change of the text asks again)."""

    call = models.ForeignKey(
        CollaborationCall, on_delete=models.CASCADE, related_name="nda_acknowledgements"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_api_key = models.UUIDField(null=True, blank=True)
    acknowledged_at = models.DateTimeField()
    text_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ("-acknowledged_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("call", "organization", "text_sha256"), name="collab_nda_unique"
            ),
        ]


class ExpressionOfInterest(BaseModel):
    """An answer to a call (matched or not), and the poster's decision on it. It comes
    from a supplier profile (``supplier``; ``organization`` is then its owner) or from an
    R&D institution without one (``organization`` of kind ``research``, ``supplier``
    null, its contact in ``contact_*``)."""

    call = models.ForeignKey(CollaborationCall, on_delete=models.CASCADE, related_name="interests")
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="collaboration_interests",
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The responding organisation (the supplier's owner when a supplier answers).",
    )
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    match = models.ForeignKey(CallMatch, on_delete=models.SET_NULL, null=True, blank=True)
    message = models.TextField()
    proposed_approach = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=InterestStatus.choices, default=InterestStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    contact_shared_at = models.DateTimeField(
        null=True, blank=True, help_text="When both sides had consented (the poster's shortlist)."
    )
    decision_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-submitted_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("call", "supplier"), name="collab_interest_unique"),
            models.UniqueConstraint(
                fields=("call", "organization"),
                condition=Q(supplier__isnull=True),
                name="collab_interest_org_unique",
            ),
            models.CheckConstraint(
                condition=Q(supplier__isnull=False) | ~Q(contact_email=""),
                name="collab_interest_has_contact",
            ),
            models.CheckConstraint(
                condition=Q(status__in=InterestStatus.values), name="collab_interest_status_valid"
            ),
        ]

    def __str__(self) -> str:
        who = self.supplier_id or self.organization_id
        return f"interest of {who} in {self.call_id} ({self.status})"
