"""One FilterSet for the supplier list. Multi-valued parameters take comma-separated
values (``state=MH,TN``). Every filter is documented in the OpenAPI schema."""

from decimal import Decimal, InvalidOperation
from typing import Any

import django_filters
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from suppliers.choices import CAPACITY_TO_BASE, CapacityUnit, EnterpriseSize, Layer, SupplierStatus
from suppliers.models import Capability, Certification, Supplier, SupplierCapability
from suppliers.selectors import certificate_valid_exists
from suppliers.states import STATES_BY_CODE

MAX_LIST_VALUES = 50
MAX_QUERY_LENGTH = 200


def _split(value: str, *, name: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) > MAX_LIST_VALUES:
        raise ValidationError({name: [f"At most {MAX_LIST_VALUES} values."]})
    return items


def _known(items: list[str], *, allowed: set[str] | frozenset[str], name: str) -> list[str]:
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise ValidationError({name: [f"Unknown value(s): {', '.join(unknown)}."]})
    return items


class SupplierFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        help_text="Full-text search over names, capability names and descriptions.",
    )
    layer = django_filters.ChoiceFilter(
        choices=Layer.choices, method="filter_layer", help_text="Offers a capability in this layer."
    )
    capability = django_filters.CharFilter(
        method="filter_capability_any",
        help_text="Comma-separated capability codes: offers at least one of them.",
    )
    capability_all = django_filters.CharFilter(
        method="filter_capability_all",
        help_text="Comma-separated capability codes: offers every one of them.",
    )
    certification = django_filters.CharFilter(
        method="filter_certification",
        help_text="Comma-separated certification codes: holds each, valid today.",
    )
    state = django_filters.CharFilter(
        method="filter_state", help_text="Comma-separated state codes."
    )
    enterprise_size = django_filters.CharFilter(
        method="filter_enterprise_size", help_text="Comma-separated: micro, small, medium."
    )
    status = django_filters.CharFilter(
        method="filter_status", help_text="Comma-separated: pending, active, suspended."
    )
    women_owned = django_filters.BooleanFilter()
    sc_st_owned = django_filters.BooleanFilter()
    pin_code = django_filters.CharFilter()
    min_capacity = django_filters.NumberFilter(
        method="filter_min_capacity",
        help_text=(
            "With `capacity_for`: at least this monthly capacity for that capability, in "
            "`capacity_unit` (kg and tonnes convert; without a unit, in the supplier's own)."
        ),
    )
    capacity_for = django_filters.CharFilter(
        method="filter_noop", help_text="Capability code that `min_capacity` applies to."
    )
    capacity_unit = django_filters.ChoiceFilter(
        choices=CapacityUnit.choices, method="filter_noop", help_text="Unit of `min_capacity`."
    )

    class Meta:
        model = Supplier
        fields = ("women_owned", "sc_st_owned", "pin_code")

    # -------------------------------------------------------------- helpers

    def _capability_codes(self, value: str, name: str) -> list[str]:
        codes = _split(value, name=name)
        known = set(Capability.objects.filter(code__in=codes).values_list("code", flat=True))
        return _known(codes, allowed=known, name=name)

    def _offers(self, **conditions: Any) -> Exists:
        return Exists(SupplierCapability.objects.filter(supplier=OuterRef("pk"), **conditions))

    # -------------------------------------------------------------- filters

    def filter_noop(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        text = value.strip()
        if not text:
            return queryset
        if len(text) > MAX_QUERY_LENGTH:
            raise ValidationError({"q": [f"At most {MAX_QUERY_LENGTH} characters."]})
        if connection.vendor == "postgresql":
            query = SearchQuery(text, config="english", search_type="websearch")
            return queryset.filter(search_vector=query)
        condition = Q()
        for word in text.split():
            condition &= Q(search_text__icontains=word)
        return queryset.filter(condition)

    def filter_layer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(self._offers(capability__layer=value))

    def filter_capability_any(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        codes = self._capability_codes(value, name)
        return queryset.filter(self._offers(capability__code__in=codes)) if codes else queryset

    def filter_capability_all(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for code in self._capability_codes(value, name):
            queryset = queryset.filter(self._offers(capability__code=code))
        return queryset

    def filter_certification(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        codes = _split(value, name=name)
        known = set(Certification.objects.filter(code__in=codes).values_list("code", flat=True))
        today = timezone.localdate()
        for code in _known(codes, allowed=known, name=name):
            queryset = queryset.filter(certificate_valid_exists(certification_code=code, day=today))
        return queryset

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        codes = [v.upper() for v in _split(value, name=name)]
        return queryset.filter(state__in=_known(codes, allowed=set(STATES_BY_CODE), name=name))

    def filter_enterprise_size(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        sizes = _known(_split(value, name=name), allowed=set(EnterpriseSize.values), name=name)
        return queryset.filter(enterprise_size__in=sizes)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        statuses = _known(_split(value, name=name), allowed=set(SupplierStatus.values), name=name)
        return queryset.filter(status__in=statuses)

    def filter_min_capacity(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        code = (self.data.get("capacity_for") or "").strip()
        if not code:
            raise ValidationError({"capacity_for": ["Required with min_capacity."]})
        self._capability_codes(code, "capacity_for")
        try:
            amount = Decimal(value)
        except InvalidOperation as exc:
            raise ValidationError({name: ["Not a number."]}) from exc
        unit = self.data.get("capacity_unit") or ""
        if not unit:
            return queryset.filter(
                self._offers(capability__code=code, capacity_per_month__gte=amount)
            )
        dimension, factor = CAPACITY_TO_BASE[unit]
        condition = Q()
        for other_unit, (other_dimension, other_factor) in CAPACITY_TO_BASE.items():
            if other_dimension == dimension:
                condition |= Q(
                    capacity_unit=other_unit,
                    capacity_per_month__gte=amount * factor / other_factor,
                )
        matching = SupplierCapability.objects.filter(condition, capability__code=code)
        return queryset.filter(Exists(matching.filter(supplier=OuterRef("pk"))))
