from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticatedOrReadOnly
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts.caller import caller_for
from remag.accounts.permissions import IsOperator
from remag.api.idempotency import IdempotentCreateMixin
from remag.api.ordering import StrictOrderingFilter
from remag.api.viewsets import RemagAPIView, RemagGenericViewSet
from suppliers import selectors, services
from suppliers.access import supplier_can_change
from suppliers.api.serializers import (
    CapabilitySerializer,
    CertificationSerializer,
    LayerSerializer,
    MaterialGradeSerializer,
    SupplierPageSerializer,
    SupplierSerializer,
    SupplierStatusChangeSerializer,
)
from suppliers.choices import Layer
from suppliers.filtersets import SupplierFilterSet
from suppliers.inputs import supplier_input
from suppliers.models import Supplier

# ------------------------------------------------------------------ taxonomy (public)


class LayerListView(RemagAPIView):
    """The five value-chain layers."""

    permission_classes = [AllowAny]

    @extend_schema(responses=LayerSerializer(many=True), tags=["taxonomy"])
    def get(self, request: Request) -> Response:
        return Response([{"code": code, "name": name} for code, name in Layer.choices])


class _TaxonomyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RemagGenericViewSet):
    permission_classes = [AllowAny]
    lookup_field = "code"
    lookup_value_regex = r"[-a-z0-9]+"
    ordering = ("code",)


@extend_schema(tags=["taxonomy"])
class CapabilityViewSet(_TaxonomyViewSet):
    """Capabilities, by layer. Filter with `layer`."""

    serializer_class = CapabilitySerializer
    filterset_fields = ("layer",)

    def get_queryset(self) -> QuerySet:
        return selectors.capability_list()


@extend_schema(tags=["taxonomy"])
class CertificationViewSet(_TaxonomyViewSet):
    """Certifications, accreditations, self-declarations and licences (`kind`). The list
    holds active codes; a retired one (`nabl`, now `iso-iec-17025`) is still found by its
    code, with `is_active` false."""

    serializer_class = CertificationSerializer
    filterset_fields = ("category", "kind")

    def get_queryset(self) -> QuerySet:
        return selectors.certification_list(include_inactive=self.action == "retrieve")


@extend_schema(tags=["taxonomy"])
class MaterialGradeViewSet(_TaxonomyViewSet):
    serializer_class = MaterialGradeSerializer
    filterset_fields = ("family", "temperature_class")

    def get_queryset(self) -> QuerySet:
        return selectors.grade_list()


# ------------------------------------------------------------------ suppliers


class CanChangeSupplier(BasePermission):
    message = (
        "Only the owning SME, the portal that onboarded it (until claimed) or an operator "
        "may change this supplier."
    )

    def has_object_permission(self, request: Request, view: Any, obj: Supplier) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return supplier_can_change(caller=caller_for(request), supplier=obj)


@extend_schema(tags=["suppliers"])
class SupplierViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RemagGenericViewSet,
):
    """The SME registry.

    Anyone may read public profiles. SMEs register their own; portals and operators
    register on an SME's behalf (a new SME organisation then owns the profile until the
    SME claims it). `DELETE` deactivates: the profile leaves the public registry but is kept.
    """

    serializer_class = SupplierSerializer
    permission_classes = [IsAuthenticatedOrReadOnly, CanChangeSupplier]
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = SupplierFilterSet
    ordering_fields = ("created_at", "legal_name", "year_established", "employees", "updated_at")
    ordering = ("-created_at",)
    lookup_field = "id"
    # An identifier already registered (the schema declares 409 on these).
    conflict_actions = ("create", "update", "partial_update")

    def get_queryset(self) -> QuerySet:
        return selectors.supplier_list(caller=caller_for(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "caller": caller_for(self.request)}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response | HttpResponse:
        json_wanted = isinstance(request.accepted_renderer, JSONRenderer)
        if connection.vendor == "postgresql" and json_wanted:
            return self._list_json(request)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        # The page's nested lists in a few queries of plain rows, for all its suppliers.
        context = {
            **self.get_serializer_context(),
            "details": selectors.supplier_details([supplier.id for supplier in page]),
        }
        data = SupplierPageSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    def _list_json(self, request: Request) -> HttpResponse:
        """A list page of representations read as text: stored ones
        (``suppliers.representations``) where they are current, the others built by
        PostgreSQL in one more query (``selectors.supplier_list_json``). The same output
        as :class:`SupplierSerializer`'s, many times faster. Only the id and the
        cursor's field are read as Python values."""
        caller = caller_for(request)
        url_prefix = request.build_absolute_uri(reverse("supplier-list"))
        queryset = self.filter_queryset(self.get_queryset())
        ordering = self.paginator.get_ordering(request, queryset, self)
        # The id and the ordering field's value are read as PostgreSQL writes them: the
        # value is only the cursor's position (any text its field parses), and psycopg
        # would build a UUID and, for a date-time, parse it in Python, for every row.
        queryset = selectors.supplier_list_stored(
            queryset, caller=caller, url_prefix=url_prefix
        ).values(
            "representation",
            id_text=Cast("id", TextField()),
            position_text=Cast(ordering[0].lstrip("-"), TextField()),
        )
        self.paginator.position_key = "position_text"
        page = self.paginate_queryset(queryset) or []
        missing = [row["id_text"] for row in page if row["representation"] is None]
        if missing:
            built = {
                str(supplier_id): representation
                for supplier_id, representation in selectors.supplier_representations(
                    missing, caller=caller, url_prefix=url_prefix
                ).items()
            }
            # A supplier deleted since the page was read is left out, not a 500.
            page = [row for row in page if row["representation"] or row["id_text"] in built]
            for row in page:
                if row["representation"] is None:
                    row["representation"] = built[row["id_text"]]
        return self.paginator.get_json_page_response(row["representation"] for row in page)

    @transaction.atomic
    def perform_create(self, serializer: SupplierSerializer) -> None:
        caller = caller_for(self.request)
        validated = serializer.validated_data
        owner, onboarded_by = services.supplier_owners_for_registration(
            caller=caller, requested=validated.get("owner_id"), legal_name=validated["legal_name"]
        )
        serializer.instance = services.supplier_register(
            owner=owner, onboarded_by=onboarded_by, data=supplier_input(validated)
        )

    def perform_update(self, serializer: SupplierSerializer) -> None:
        new_owner = serializer.validated_data.get("owner_id", serializer.instance.owner_id)
        if new_owner != serializer.instance.owner_id:
            raise exceptions.ValidationError({"owner": ["The owner cannot be changed here."]})
        serializer.instance = services.supplier_update(
            supplier=serializer.instance, data=supplier_input(serializer.validated_data)
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().update(request, *args, **kwargs)
        # Re-read with the list's prefetching so nested lists are current.
        instance = get_object_or_404(self.get_queryset(), id=kwargs["id"])
        return Response(self.get_serializer(instance).data)

    def perform_destroy(self, instance: Supplier) -> None:
        services.supplier_deactivate(supplier=instance)

    @extend_schema(request=None, responses=SupplierSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsOperator])
    def verify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Operators: mark the supplier verified and active (records who and when)."""
        supplier = services.supplier_verify(supplier=self.get_object(), by=_person(request))
        return Response(self.get_serializer(supplier).data)

    @extend_schema(request=SupplierStatusChangeSerializer, responses=SupplierSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsOperator])
    def suspend(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Operators: suspend the supplier; it leaves the public registry and matching."""
        body = SupplierStatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        supplier = services.supplier_suspend(
            supplier=self.get_object(),
            by=_person(request),
            reason=body.validated_data.get("reason", ""),
        )
        return Response(self.get_serializer(supplier).data, status=status.HTTP_200_OK)


def _person(request: Request) -> Any:
    user = request.user
    return user if getattr(user, "pk", None) else None
