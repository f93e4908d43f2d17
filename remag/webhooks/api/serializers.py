"""Events and webhook endpoints on the API. Every event type's payload has its own
schema component (``<Type>Payload``), and an ``Event`` is a union discriminated by
``type`` (``<Type>Event``: ``type`` is that one value, ``payload`` that payload), so a
generated client parses each event as its own type."""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from remag.webhooks import events, ssrf
from remag.webhooks.choices import EventType
from remag.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint

# ------------------------------------------------------------------ payloads (schema)
# Built from remag.webhooks.events.PAYLOAD_SHAPES, the one statement of the payloads.

_FIELDS: dict[str, type[serializers.Field]] = {
    "uuid": serializers.UUIDField,
    "string": serializers.CharField,
    "integer": serializers.IntegerField,
    "number": serializers.FloatField,
    "date": serializers.DateField,
    "datetime": serializers.DateTimeField,
    "boolean": serializers.BooleanField,
    "url": serializers.URLField,
}


def _field(member: events.Member) -> serializers.Field:
    if member.choices:
        return serializers.ChoiceField(choices=list(member.choices), allow_null=member.nullable)
    if member.kind == "string":  # a payload's text may be empty (a run's `error`)
        return serializers.CharField(allow_null=member.nullable, allow_blank=True)
    return _FIELDS[member.kind](allow_null=member.nullable)


def _object(name: str, shape: events.Shape) -> type[serializers.Serializer]:
    members = {key: _field(member) for key, member in shape.items()}
    return type(name, (serializers.Serializer,), members)


_OBJECTS = {
    id(shape): _object(name, shape)
    for name, shape in (
        ("SupplierRef", events.SUPPLIER),
        ("RequestRef", events.REQUEST),
        ("RunRef", events.RUN),
        ("MatchRef", events.MATCH),
        ("ImportRef", events.IMPORT),
        ("EndpointRef", events.ENDPOINT),
        ("OrganizationRef", events.ORGANIZATION),
        ("QuotationRequestRef", events.QUOTATION_REQUEST),
        ("QuotationRef", events.QUOTATION),
        ("OrderRef", events.ORDER),
        ("DeliveryRef", events.DELIVERY),
        ("PaymentRef", events.PAYMENT),
        ("CallRef", events.CALL),
        ("CallRunRef", events.CALL_RUN),
        ("CallMatchRef", events.CALL_MATCH),
        ("InterestRef", events.INTEREST),
        ("NdaAcknowledgementRef", events.NDA),
        ("MagnetOfferRef", events.MAGNET_OFFER),
        ("MagnetRequirementRef", events.MAGNET_REQUIREMENT),
        ("MagnetRunRef", events.MAGNET_RUN),
        ("MagnetMatchRef", events.MAGNET_MATCH),
        ("MagnetPoolRef", events.MAGNET_POOL),
    )
}


def _payload(event_type: str) -> type[serializers.Serializer]:
    name = "".join(part.capitalize() for part in event_type.replace("_", ".").split("."))
    members = {
        key: _OBJECTS[id(value)]() if isinstance(value, dict) else _field(value)
        for key, value in events.PAYLOAD_SHAPES[event_type].items()
    }
    return type(f"{name}Payload", (serializers.Serializer,), members)


PAYLOADS: dict[str, type[serializers.Serializer]] = {
    event_type: _payload(event_type) for event_type in events.PAYLOAD_SHAPES
}


def _typed_event(event_type: str, payload: type[serializers.Serializer]) -> type:
    """The schema of an event of one type: ``type`` is that value, ``payload`` its shape."""
    name = payload.__name__.removesuffix("Payload") + "Event"
    members = {
        "id": serializers.UUIDField(),
        "type": serializers.ChoiceField(choices=[str(event_type)]),
        "occurred_at": serializers.DateTimeField(),
        "payload": payload(),
    }
    return type(name, (serializers.Serializer,), members)


# The schema of an event: one component per type, discriminated by `type`.
EVENT = PolymorphicProxySerializer(
    component_name="Event",
    serializers={
        str(event_type): _typed_event(event_type, payload)
        for event_type, payload in PAYLOADS.items()
    },
    resource_type_field_name="type",
)


@extend_schema_field(EVENT)
class EventSerializer(serializers.ModelSerializer):
    """An event as listed by the API and as POSTed to webhooks (``data`` there). Its
    schema is ``EVENT``: the payload's shape depends on ``type``."""

    payload = serializers.JSONField(read_only=True)

    class Meta:
        model = Event
        fields = ("id", "type", "occurred_at", "payload")
        read_only_fields = fields


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
        allow_null=True,
        help_text="The signing secret. Shown only in the answer to create and rotate; a "
        "replay of either (the same Idempotency-Key) gives null.",
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
