"""One FilterSet for the supplier list. Multi-valued parameters take comma-separated
values (``state=MH,TN``), parsed and checked by django-filter's CSV filters (an unknown
code is a field error). Every filter is documented in the OpenAPI schema."""

from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_filters.fields import BaseCSVField
from rest_framework.exceptions import ValidationError

from remag.filtersets import BooleanFilter, FilterSet
from suppliers import selectors
from suppliers.choices import (
    CAPACITY_TO_BASE,
    CERTIFICATION_ALIASES,
    CapacityUnit,
    EnterpriseSize,
    Layer,
    SupplierStatus,
)
from suppliers.models import (
    CERTIFICATE_VALID_SQL,
    Capability,
    Certification,
    Supplier,
    SupplierCapability,
)
from suppliers.selectors import certificate_valid_exists
from suppliers.states import STATES_BY_CODE

MAX_LIST_VALUES = 50
MAX_QUERY_LENGTH = 200


class CodeListField(BaseCSVField):
    """Comma-separated codes (``state=MH,TN``): at most ``MAX_LIST_VALUES``, each known.

    ``normalise`` maps each value before the check (``str.upper`` for state codes);
    ``known`` gives which of the values exist (a set, or a callable over the values).
    """

    def __init__(
        self,
        *args: Any,
        known: Collection[str] | Callable[[list[str]], Collection[str] | Mapping[str, Any]],
        normalise: Callable[[str], str] = str,
        **kwargs: Any,
    ) -> None:
        self.known = known
        self.normalise = normalise
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> list[str] | None:
        items = super().clean(value)
        if items is None:
            return None
        codes = [self.normalise(item) for item in items if item]
        if len(codes) > MAX_LIST_VALUES:
            raise forms.ValidationError(f"At most {MAX_LIST_VALUES} values.")
        known = self.known(codes) if callable(self.known) else self.known
        unknown = [code for code in codes if code not in known]
        if unknown:
            # The values go in as params: django-filter %-formats the message.
            raise forms.ValidationError(
                "Unknown value(s): %(values)s.",
                code="invalid",
                params={"values": ", ".join(unknown)},
            )
        if isinstance(known, Mapping):  # the codes' database ids, for the filter
            return CodeList(codes, ids=[known[code] for code in codes])
        return codes


class CodeList(list[str]):
    """Codes checked against the taxonomy, with the database id of each (``ids``): a
    filter on ids lets PostgreSQL use its statistics of the referencing column, where a
    join on the code leaves it guessing (a rare capability then scanned the registry)."""

    def __init__(self, codes: list[str], *, ids: list[Any]) -> None:
        super().__init__(codes)
        self.ids = ids


class CodeInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """A comma-separated list of known codes, django-filter's ``BaseInFilter`` way."""

    base_field_class = CodeListField


def _capabilities(codes: list[str]) -> dict[str, Any]:
    return selectors.taxonomy_ids(Capability, codes)


def _certification_code(code: str) -> str:
    """A retired code as the code it was retired into (``nabl``: ``iso-iec-17025``)."""
    return CERTIFICATION_ALIASES.get(code, (code, ""))[0]


def _certifications(codes: list[str]) -> dict[str, Any]:
    return selectors.taxonomy_ids(Certification, codes)


class SupplierFilterSet(FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        help_text="Full-text search over names, capability names and descriptions.",
    )
    layer = django_filters.ChoiceFilter(
        choices=Layer.choices, method="filter_layer", help_text="Offers a capability in this layer."
    )
    capability = CodeInFilter(
        method="filter_capability_any",
        known=_capabilities,
        help_text="Comma-separated capability codes: offers at least one of them.",
    )
    capability_all = CodeInFilter(
        method="filter_capability_all",
        known=_capabilities,
        help_text="Comma-separated capability codes: offers every one of them.",
    )
    certification = CodeInFilter(
        method="filter_certification",
        known=_certifications,
        normalise=_certification_code,
        help_text="Comma-separated certification codes: holds each, valid today (`nabl` "
        "means `iso-iec-17025`).",
    )
    state = CodeInFilter(
        field_name="state",
        known=frozenset(STATES_BY_CODE),
        normalise=str.upper,
        help_text="Comma-separated state codes.",
    )
    enterprise_size = CodeInFilter(
        field_name="enterprise_size",
        known=frozenset(EnterpriseSize.values),
        help_text="Comma-separated: micro, small, medium.",
    )
    status = CodeInFilter(
        field_name="status",
        known=frozenset(SupplierStatus.values),
        help_text="Comma-separated: pending, active, suspended.",
    )
    women_owned = BooleanFilter()
    sc_st_owned = BooleanFilter()
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

    def _offers(self, **conditions: Any) -> Exists:
        return Exists(SupplierCapability.objects.filter(supplier=OuterRef("pk"), **conditions))

    # -------------------------------------------------------------- filters

    def filter_noop(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
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

    # On PostgreSQL the layer and certification filters write their subqueries as SQL:
    # Django spent longer building and compiling them (1.9 ms a call) than PostgreSQL
    # running the page (docs/benchmarks.md, sixth pass). The supplier list is the only
    # queryset they filter, never nested as a subquery (where its table would be
    # renamed under the SQL's feet).
    def filter_layer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if connection.vendor != "postgresql":
            return queryset.filter(self._offers(capability__layer=value))
        return queryset.filter(
            RawSQL(  # noqa: S611 (fixed SQL, the layer as a parameter)
                "EXISTS (SELECT 1 FROM suppliers_suppliercapability o"
                " JOIN suppliers_capability c ON c.id = o.capability_id"
                ' WHERE o.supplier_id = "suppliers_supplier"."id" AND c.layer = %s)',
                [value],
                output_field=BooleanField(),
            )
        )

    def filter_capability_any(self, queryset: QuerySet, name: str, value: CodeList) -> QuerySet:
        return queryset.filter(self._offers(capability_id__in=value.ids))

    def filter_capability_all(self, queryset: QuerySet, name: str, value: CodeList) -> QuerySet:
        for capability_id in dict.fromkeys(value.ids):
            queryset = queryset.filter(self._offers(capability_id=capability_id))
        return queryset

    def filter_certification(self, queryset: QuerySet, name: str, value: CodeList) -> QuerySet:
        today = timezone.localdate()
        for certification_id in dict.fromkeys(value.ids):
            if connection.vendor != "postgresql":
                condition: Any = certificate_valid_exists(
                    certification_id=certification_id, day=today
                )
            else:
                condition = RawSQL(  # noqa: S611 (fixed SQL, the values as parameters)
                    "EXISTS (SELECT 1 FROM suppliers_suppliercertificate k"  # noqa: S608 (constants)
                    ' WHERE k.supplier_id = "suppliers_supplier"."id"'
                    f" AND k.certification_id = %s AND {CERTIFICATE_VALID_SQL})",
                    [certification_id, today, today],
                    output_field=BooleanField(),
                )
            queryset = queryset.filter(condition)
        return queryset

    def filter_min_capacity(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        code = (self.data.get("capacity_for") or "").strip()
        if not code:
            raise ValidationError({"capacity_for": ["Required with min_capacity."]})
        capability_id = _capabilities([code]).get(code)
        if capability_id is None:
            raise ValidationError({"capacity_for": [f"Unknown value(s): {code}."]})
        try:
            amount = Decimal(value)
        except InvalidOperation as exc:
            raise ValidationError({name: ["Not a number."]}) from exc
        unit = self.data.get("capacity_unit") or ""
        if not unit:
            return self._offered_by(
                queryset,
                SupplierCapability.objects.filter(
                    capability_id=capability_id, capacity_per_month__gte=amount
                ),
            )
        dimension, factor = CAPACITY_TO_BASE[unit]
        condition = Q()
        for other_unit, (other_dimension, other_factor) in CAPACITY_TO_BASE.items():
            if other_dimension == dimension:
                condition |= Q(
                    capacity_unit=other_unit,
                    capacity_per_month__gte=amount * factor / other_factor,
                )
        matching = SupplierCapability.objects.filter(condition, capability_id=capability_id)
        return self._offered_by(queryset, matching)

    def _offered_by(self, queryset: QuerySet, offers: QuerySet) -> QuerySet:
        """The suppliers of ``offers`` (offers of one capability). On PostgreSQL their
        ids first, then the suppliers by primary key: a capability's offers above a
        capacity are a small share of the registry, and as a semi join PostgreSQL walked
        the registry newest first probing each supplier's offers (2,000 probes for a page
        of a rare capability, in parallel workers)."""
        if connection.vendor != "postgresql":
            return queryset.filter(Exists(offers.filter(supplier=OuterRef("pk"))))
        sql, params = offers.order_by().values("supplier_id").query.sql_with_params()
        return queryset.filter(
            RawSQL(  # noqa: S611 (Django's own compiled SQL and its parameters)
                f'"suppliers_supplier"."id" = ANY(ARRAY({sql}))',
                params,
                output_field=BooleanField(),
            )
        )
