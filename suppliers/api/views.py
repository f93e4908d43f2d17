from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticatedOrReadOnly
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts.caller import Caller, caller_for
from remag.accounts.permissions import IsOperator
from remag.api.idempotency import IdempotentCreateMixin
from remag.api.ordering import StrictOrderingFilter
from remag.api.pagination import position_kind
from remag.api.viewsets import RemagAPIView, RemagGenericViewSet
from remag.db import NoSql, SqlTemplate, StandIns, TemplateCache
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
from suppliers.filtersets import CodeList, SupplierFilterSet
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
        cursor's field are read, as text.

        The page's SQL is compiled once per shape (:meth:`_list_rows`); a query this
        cannot compile so takes the queryset's way."""
        caller = caller_for(request)
        url_prefix = request.build_absolute_uri(reverse("supplier-list"))
        self.paginator.position_key = "position_text"
        filterset = DjangoFilterBackend().get_filterset(request, Supplier.objects.all(), self)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        page = self._list_rows(request, caller, url_prefix, filterset)
        if page is None:  # the queryset's way
            queryset = filterset.filter_queryset(self.get_queryset())
            ordering = self.paginator.get_ordering(request, queryset, self)
            page = (
                self.paginate_queryset(_page_columns(queryset, caller, url_prefix, ordering)) or []
            )
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

    def _list_rows(
        self, request: Request, caller: Caller, url_prefix: str, filterset: Any
    ) -> list[dict[str, Any]] | None:
        """The page's rows through its SQL compiled once per shape
        (:class:`remag.db.SqlTemplate`), None when the query's shape cannot be compiled
        so. The shape: the caller's kind and numbers of organisations, which filters
        and how many distinct values each, boolean filters' values, the ordering, the
        cursor's offset, direction and kind, the page size, the day and the stored
        representations' version. Building and compiling the page's query took a
        quarter of its time. Full-text search and capacity filters are not compiled
        (their values reach the SQL transformed) and take the queryset's way."""
        cleaned = filterset.form.cleaned_data
        paginator = self.paginator
        if not paginator.start(Supplier.objects.all(), request, self):
            return None
        filters: list[tuple[str, Any]] = []
        values: dict[str, Any] = {}
        for name in sorted(cleaned):
            value = cleaned[name]
            if value in (None, "", []):
                continue
            if name in _BOOLEAN_FILTERS:
                filters.append((name, bool(value)))
            elif name in _TEXT_FILTERS:
                filters.append((name, "text"))
                values[name] = value
            elif name in _LIST_FILTERS:
                distinct = list(dict.fromkeys(getattr(value, "ids", value)))
                filters.append((name, len(distinct)))
                values.update({f"{name}_{i}": item for i, item in enumerate(distinct)})
            else:
                return None
        organizations = [] if caller.is_operator else sorted(caller.organization_ids)
        delegating = [] if caller.is_operator else sorted(caller.delegating_organization_ids)
        cursor = paginator.cursor
        position = None if cursor is None else cursor.position
        kind = position_kind(position)
        today = timezone.localdate()
        shape = (
            caller.is_operator,
            len(organizations),
            len(delegating),
            tuple(filters),
            paginator.ordering,
            None if cursor is None else (cursor.offset, cursor.reverse, kind),
            paginator.page_size,
            today,
            selectors.representation_version(),
        )
        template = _list_templates.get(shape, _MISSING)
        if template is _MISSING:
            template = self._list_template(
                filterset, cleaned, caller, len(organizations), len(delegating), kind, today
            )
            if timezone.localdate() != today:
                return None  # built across midnight: its dates may be either day's
            _list_templates.put(shape, template)
        if template is None:
            return None
        if template is _NO_ROWS:
            return paginator.page_from([])
        for i, organization in enumerate(organizations):
            values[f"organization_{i}"] = organization
        for i, organization in enumerate(delegating):
            values[f"delegating_{i}"] = organization
        if organizations or delegating:
            values["organizations"] = organizations
            values["delegating"] = delegating
        values["prefix"] = selectors.url_prefix_param(url_prefix)
        if kind == "value":
            field = paginator._ordering_field
            values["position"] = (
                position
                if field is None
                else field.get_db_prep_value(position, connection, prepared=False)
            )
        return paginator.page_from(template.rows(values))

    def _list_template(
        self,
        filterset: Any,
        cleaned: dict[str, Any],
        caller: Caller,
        organizations: int,
        delegating: int,
        kind: str | None,
        today: Any,
    ) -> SqlTemplate | object | None:
        """The page's SQL for this shape, built with stand-ins for its inputs (``_NO_ROWS``
        for a page no row can be on)."""
        stand_ins = StandIns()
        an_id, a_text = stand_ins.uuid, stand_ins.text
        owners = frozenset(an_id(f"organization_{i}") for i in range(organizations))
        delegates = frozenset(an_id(f"delegating_{i}") for i in range(delegating))
        if owners or delegates:
            # As suppliers.access.supplier_private_sql passes them.
            stand_ins["organizations"] = list(owners)
            stand_ins["delegating"] = list(delegates)
        stood_caller = replace(caller, organization_ids=owners, delegations_read=delegates)
        stood = dict(cleaned)
        for name, value in cleaned.items():
            if value in (None, "", []) or name in _BOOLEAN_FILTERS:
                continue
            if name in _TEXT_FILTERS:
                stood[name] = a_text(name)
            elif isinstance(value, CodeList):
                count = len(dict.fromkeys(value.ids))
                ids = [an_id(f"{name}_{i}") for i in range(count)]
                stood[name] = CodeList([f"stand-in-{i}" for i in range(count)], ids=ids)
            else:
                stood[name] = [a_text(f"{name}_{i}") for i in range(len(dict.fromkeys(value)))]
        stand_in_url = "http://remag.stand-in.invalid/suppliers/"
        stand_ins["prefix"] = selectors.url_prefix_param(stand_in_url)
        position_as = None
        if kind == "value":
            field = self.paginator._ordering_field
            position_as = _position_stand_in(field)
            # As the filter's lookup prepares it (an integer as psycopg's Int4, say).
            stand_ins["position"] = (
                position_as
                if field is None
                else field.get_db_prep_value(position_as, connection, prepared=False)
            )
        filterset.form.cleaned_data = stood
        try:
            queryset = filterset.filter_queryset(selectors.supplier_list(caller=stood_caller))
        finally:
            filterset.form.cleaned_data = cleaned
        paginator = self.paginator
        queryset = _page_columns(queryset, stood_caller, stand_in_url, paginator.ordering, today)
        sliced = paginator.page_queryset(queryset, self.request, self, position_as=position_as)
        try:
            return SqlTemplate(
                sliced,
                stand_ins,
                repeats={name for name in stand_ins if name.startswith("organization")},
                # Not prepared: a generic plan cannot tell a rare filter value from a
                # common one (a rare certification, a small state).
                prepared=False,
            )
        except NoSql:
            if sliced.query.is_empty():
                return _NO_ROWS  # past the last row: Django reads nothing for it either
            return None
        except ValueError:
            return None

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


# The filters _list_rows compiles: their cleaned values reach the SQL as they are (one
# parameter per distinct value, in order), or (booleans) only as the SQL's own text.
_BOOLEAN_FILTERS = frozenset({"women_owned", "sc_st_owned"})
_TEXT_FILTERS = frozenset({"layer", "pin_code"})
_LIST_FILTERS = frozenset(
    {"capability", "capability_all", "certification", "state", "enterprise_size", "status"}
)
_MISSING = object()
_NO_ROWS = object()
_list_templates = TemplateCache(256)


def _page_columns(
    queryset: QuerySet[Supplier],
    caller: Caller,
    url_prefix: str,
    ordering: Any,
    today: Any = None,
) -> QuerySet[Supplier]:
    """What a list page reads of ``queryset``: each supplier's stored representation,
    its id and the ordering field's value (the cursor's position) read as PostgreSQL
    writes them: psycopg would build a UUID and, for a date-time, parse it in Python,
    for every row."""
    return selectors.supplier_list_stored(
        queryset, caller=caller, url_prefix=url_prefix, today=today
    ).values(
        "representation",
        id_text=Cast("id", TextField()),
        position_text=Cast(ordering[0].lstrip("-"), TextField()),
    )


def _position_stand_in(field: Any) -> Any:
    """A cursor position no row's value could equal, of ``field``'s type."""
    if isinstance(field, models.DateTimeField):
        return datetime(1, 1, 1, 0, 0, 0, 987_653, tzinfo=UTC)
    if isinstance(field, models.IntegerField):
        # Within the column's range: Django drops a comparison with a value beyond it.
        return connection.ops.integer_field_range(field.get_internal_type())[1] - 7
    return "\x00remag-stand-in-position\x00"
