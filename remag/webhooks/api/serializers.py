"""Events and webhook endpoints on the API. Every event type's payload has its own
schema component (``<Type>Payload``), so portals can generate clients from the schema."""

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from remag.webhooks import ssrf
from remag.webhooks.choices import EventType
from remag.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint

# ------------------------------------------------------------------ payloads (schema)


class _SupplierRef(serializers.Serializer):
    id = serializers.UUIDField()
    legal_name = serializers.CharField()
    udyam_number = serializers.CharField()
    state = serializers.CharField()
    status = serializers.CharField()


class _RequestRef(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    layer = serializers.CharField()
    status = serializers.CharField()
    needed_by = serializers.DateField(allow_null=True)


class _RunRef(serializers.Serializer):
    id = serializers.UUIDField()
    request = serializers.UUIDField()
    status = serializers.CharField()
    candidate_count = serializers.IntegerField()
    matched_count = serializers.IntegerField()
    error = serializers.CharField()


class _MatchRef(serializers.Serializer):
    id = serializers.UUIDField()
    request = serializers.UUIDField()
    supplier = serializers.UUIDField()
    status = serializers.CharField()
    score = serializers.FloatField()


class _ImportRef(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    rows_total = serializers.IntegerField()
    created_count = serializers.IntegerField()
    updated_count = serializers.IntegerField()
    unchanged_count = serializers.IntegerField()
    failed_count = serializers.IntegerField()


class _EndpointRef(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()


def _payload(name: str, **fields: serializers.Field) -> type[serializers.Serializer]:
    return type(name, (serializers.Serializer,), dict(fields))


PAYLOADS: dict[str, type[serializers.Serializer]] = {
    EventType.SUPPLIER_CREATED: _payload("SupplierCreatedPayload", supplier=_SupplierRef()),
    EventType.SUPPLIER_VERIFIED: _payload("SupplierVerifiedPayload", supplier=_SupplierRef()),
    EventType.SUPPLIER_SUSPENDED: _payload(
        "SupplierSuspendedPayload", supplier=_SupplierRef(), reason=serializers.CharField()
    ),
    EventType.REQUEST_PUBLISHED: _payload("RequestPublishedPayload", request=_RequestRef()),
    EventType.REQUEST_CLOSED: _payload("RequestClosedPayload", request=_RequestRef()),
    EventType.MATCH_RUN_SUCCEEDED: _payload("MatchRunSucceededPayload", run=_RunRef()),
    EventType.MATCH_RUN_FAILED: _payload("MatchRunFailedPayload", run=_RunRef()),
    EventType.MATCH_SHORTLISTED: _payload("MatchShortlistedPayload", match=_MatchRef()),
    EventType.MATCH_INVITED: _payload("MatchInvitedPayload", match=_MatchRef()),
    EventType.MATCH_RESPONDED: _payload(
        "MatchRespondedPayload",
        match=_MatchRef(),
        answer=serializers.ChoiceField(choices=["interested", "declined"]),
    ),
    EventType.MATCH_AWARDED: _payload("MatchAwardedPayload", match=_MatchRef()),
    EventType.IMPORT_FINISHED: _payload("ImportFinishedPayload", **{"import": _ImportRef()}),
    EventType.WEBHOOK_DISABLED: _payload(
        "WebhookDisabledPayload", endpoint=_EndpointRef(), reason=serializers.CharField()
    ),
    EventType.WEBHOOK_PING: _payload("WebhookPingPayload", endpoint=_EndpointRef()),
}

EVENT_PAYLOAD = PolymorphicProxySerializer(
    component_name="EventPayload",
    serializers=list(PAYLOADS.values()),
    resource_type_field_name=None,
)


class EventSerializer(serializers.ModelSerializer):
    """An event as listed by the API and as POSTed to webhooks (``data`` there)."""

    payload = serializers.SerializerMethodField(
        help_text="The shape depends on `type`: see the <Type>Payload schemas."
    )

    class Meta:
        model = Event
        fields = ("id", "type", "occurred_at", "payload")
        read_only_fields = fields

    @extend_schema_field(EVENT_PAYLOAD)
    def get_payload(self, obj: Event) -> dict[str, Any]:
        return obj.payload


# ------------------------------------------------------------------ endpoints


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = serializers.URLField(
        max_length=500,
        help_text="https (http only where the deployment allows it); must not resolve to a "
        "private, loopback, link-local or multicast address.",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(
            choices=[t for t in EventType.choices if t[0] != "webhook.ping"]
        ),
        min_length=1,
        max_length=len(EventType.choices),
        help_text="The event types to receive.",
    )
    organization = serializers.UUIDField(
        source="organization_id",
        required=False,
        help_text="The owning organisation; defaults to the caller's only organisation.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = (
            "id",
            "organization",
            "url",
            "event_types",
            "description",
            "is_active",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        )

    def validate_url(self, value: str) -> str:
        try:
            ssrf.check_url(value)
        except ssrf.UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("An event type is listed twice.")
        return value


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret. Shown only in the answer to create and rotate.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ("at", "status_code", "duration_ms", "response_excerpt", "error")
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="webhook-delivery-detail", lookup_field="id"
    )
    endpoint = serializers.UUIDField(source="endpoint_id", read_only=True)
    event = EventSerializer(read_only=True)
    attempt_count = serializers.IntegerField(
        source="attempts", read_only=True, help_text="Attempts made in the current round."
    )
    next_attempt_at = serializers.DateTimeField(
        source="enqueued_at", read_only=True, help_text="When the next attempt is due."
    )
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_error = serializers.CharField(source="error", read_only=True)
    attempts = DeliveryAttemptSerializer(source="attempt_records", many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = (
            "id",
            "url",
            "endpoint",
            "event",
            "status",
            "attempt_count",
            "next_attempt_at",
            "delivered_at",
            "last_error",
            "attempts",
            "created_at",
        )
        read_only_fields = fields
