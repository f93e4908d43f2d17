from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts.caller import caller_for
from remag.accounts.selectors import organization_acting
from remag.api.idempotency import idempotent_response
from remag.api.ordering import StrictOrderingFilter
from remag.api.viewsets import RemagGenericViewSet
from remag.webhooks import services
from remag.webhooks.api.serializers import (
    EVENT,
    DeliverySerializer,
    EventSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)
from remag.webhooks.filtersets import EventFilterSet
from remag.webhooks.models import Delivery, Event, EventAudience, WebhookEndpoint


@extend_schema_view(
    list=extend_schema(
        responses=PolymorphicProxySerializer(
            component_name="Event",
            serializers=EVENT.serializers,
            resource_type_field_name="type",
            many=True,
        )
    ),
    retrieve=extend_schema(responses=EVENT),
)
@extend_schema(tags=["events"])
class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RemagGenericViewSet):
    """The events of the caller's organisations, newest first (`ordering=occurred_at`
    for oldest first). A portal that was down catches up with `after=<last event id>` or
    `since=<time>`; see docs/webhooks.md."""

    serializer_class = EventSerializer
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = EventFilterSet
    ordering_fields = ("occurred_at",)
    ordering = ("-occurred_at",)
    lookup_field = "id"

    def get_queryset(self) -> QuerySet[Event]:
        organizations = caller_for(self.request).organization_ids
        return Event.objects.filter(
            Exists(
                EventAudience.objects.filter(
                    event=OuterRef("pk"), organization_id__in=organizations
                )
            )
        )


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RemagGenericViewSet,
):
    """Webhook endpoints of the caller's organisations.

    The signing secret is made by the server and shown once, in the answer to create
    (and to `rotate-secret/`). Deliveries are signed (`Remag-Signature`), retried with
    backoff, and an endpoint failing every attempt for several events in a row is
    disabled (set `is_active` to re-enable it). See docs/webhooks.md.
    """

    serializer_class = WebhookEndpointSerializer
    lookup_field = "id"
    ordering = ("-created_at",)
    idempotent_actions = ("create", "ping")
    conflict_actions = ("ping",)

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.filter(
            organization_id__in=caller_for(self.request).organization_ids
        )

    @extend_schema(responses={201: WebhookEndpointWithSecretSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent_response(request, lambda: self._create(request), redact=("secret",))

    def _create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = services.endpoint_create(
            organization=organization_acting(
                caller=caller_for(request),
                requested=data.get("organization_id"),
                purpose="owns the endpoint",
                field="organization",
                required=True,
                operators_act_for_any=False,
            ),
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description", ""),
        )
        body = WebhookEndpointWithSecretSerializer(
            endpoint, context=self.get_serializer_context()
        ).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: WebhookEndpointSerializer) -> None:
        data = dict(serializer.validated_data)
        if data.pop("organization_id", serializer.instance.organization_id) != (
            serializer.instance.organization_id
        ):
            raise exceptions.ValidationError({"organization": ["It cannot be changed."]})
        serializer.instance = services.endpoint_update(endpoint=serializer.instance, data=data)

    @extend_schema(request=None, responses=WebhookEndpointWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new signing secret, shown once. The previous one stays valid for the grace
        period (`previous_secret_expires_at`); deliveries carry both signatures meanwhile."""
        endpoint = services.endpoint_rotate_secret(endpoint=self.get_object())
        return Response(
            WebhookEndpointWithSecretSerializer(
                endpoint, context=self.get_serializer_context()
            ).data
        )

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send a `webhook.ping` event to this endpoint only; answers with its delivery."""
        endpoint = self.get_object()

        def perform() -> Response:
            delivery = services.endpoint_ping(endpoint=endpoint)
            data = DeliverySerializer(delivery, context=self.get_serializer_context()).data
            return Response(
                data, status=status.HTTP_202_ACCEPTED, headers={"Location": str(data["url"])}
            )

        return idempotent_response(request, perform)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], ordering=("-created_at",))
    def deliveries(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The endpoint's deliveries, newest first, each with its event and attempts."""
        endpoint = self.get_object()
        queryset = Delivery.objects.filter(endpoint=endpoint).select_related("event")
        page = self.paginate_queryset(queryset.prefetch_related("attempt_records"))
        data = DeliverySerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


@extend_schema(tags=["webhooks"])
class DeliveryViewSet(mixins.RetrieveModelMixin, RemagGenericViewSet):
    """One delivery of an event to an endpoint, with every attempt."""

    serializer_class = DeliverySerializer
    lookup_field = "id"
    ordering = ("-created_at",)
    idempotent_actions = ("redeliver",)

    def get_queryset(self) -> QuerySet[Delivery]:
        return (
            Delivery.objects.filter(
                endpoint__organization_id__in=caller_for(self.request).organization_ids
            )
            .select_related("event")
            .prefetch_related("attempt_records")
        )

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send the event to the endpoint again (a new round of attempts)."""
        original = self.get_object()

        def perform() -> Response:
            delivery = services.delivery_redeliver(delivery=original)
            delivery = self.get_queryset().get(id=delivery.id)
            data = DeliverySerializer(delivery, context=self.get_serializer_context()).data
            return Response(
                data, status=status.HTTP_202_ACCEPTED, headers={"Location": str(data["url"])}
            )

        return idempotent_response(request, perform)
