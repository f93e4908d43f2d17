"""Events, webhook endpoints, deliveries and their attempts."""

from django.db import models

from remag.accounts.models import Organization
from remag.db import BaseModel
from remag.jobs import Job
from remag.webhooks.choices import DeliveryStatus, EventType


class Event(BaseModel):
    """Something that happened, written in the same transaction as the change (an
    outbox). ``audience`` are the organisations allowed to see it: only they list it and
    only their endpoints receive it."""

    type = models.CharField(max_length=40, choices=EventType.choices, db_index=True)
    occurred_at = models.DateTimeField()
    payload = models.JSONField()
    audience = models.ManyToManyField(Organization, through="EventAudience", related_name="+")

    class Meta:
        ordering = ("occurred_at", "id")
        indexes = [models.Index(fields=("occurred_at", "id"), name="event_occurred")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class EventAudience(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Copied from the event so "this organisation's events, in order" is one index range.
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("event", "organization"), name="eventaudience_unique")
        ]
        indexes = [
            models.Index(
                fields=("organization", "occurred_at", "event"), name="eventaudience_org_time"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} for {self.organization_id}"


class WebhookEndpoint(BaseModel):
    """Where an organisation wants its events POSTed, signed with a server-made secret.

    After a rotation the previous secret stays valid until ``previous_secret_expires_at``
    and deliveries carry both signatures meanwhile.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Events in a row that failed every attempt."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("organization", "is_active"), name="webhook_org_active")]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in self.event_types


class Delivery(Job):
    """One event to one endpoint: a job (``remag.jobs``) whose attempts are HTTP POSTs.

    ``pending`` while queued and while a worker sends it (``heartbeat_at`` set then),
    ``delivered`` after a 2xx answer, ``failed`` after the last retry. ``enqueued_at`` is
    when the next attempt is due. ``attempts`` and ``failures`` count the current round
    (a redelivery starts a new round; every attempt ever made stays recorded)."""

    QUEUED = RUNNING = DeliveryStatus.PENDING
    SUCCEEDED = DeliveryStatus.DELIVERED
    FAILED = DeliveryStatus.FAILED

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("endpoint", "event"), name="delivery_endpoint_event")
        ]
        indexes = [
            models.Index(fields=("status", "enqueued_at"), name="delivery_due"),
            models.Index(fields=("endpoint", "-created_at"), name="delivery_endpoint"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.status})"

    @property
    def delivered_at(self) -> object:
        return self.finished_at if self.status == DeliveryStatus.DELIVERED else None


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_records")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("at", "id")
        indexes = [models.Index(fields=("delivery", "at"), name="deliveryattempt_delivery")]

    def __str__(self) -> str:
        return f"{self.status_code or self.error}"
