from uuid import UUID

import django_filters
from django.db.models import Q, QuerySet

from matching.collaboration.choices import CallKind, CallStatus, InterestStatus
from matching.collaboration.models import CollaborationCall, ExpressionOfInterest
from remag.accounts.caller import caller_for
from remag.filtersets import FilterSet
from suppliers.access import supplier_managed_q
from suppliers.models import Supplier


class CallFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=CallStatus.choices)
    kind = django_filters.ChoiceFilter(choices=CallKind.choices)
    owner = django_filters.UUIDFilter(field_name="owner_id")
    capability = django_filters.CharFilter(
        field_name="required_capabilities__code", distinct=True, label="A required capability code"
    )
    matched_supplier = django_filters.UUIDFilter(
        method="matched",
        label="Calls this supplier (one you manage) was matched to: its opportunities",
    )
    q = django_filters.CharFilter(method="search", label="Words in the topic or summary")

    class Meta:
        model = CollaborationCall
        fields = ("status", "kind", "owner", "capability", "matched_supplier", "q")

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(topic__icontains=value) | Q(summary__icontains=value))

    def matched(self, queryset: QuerySet, name: str, value: UUID) -> QuerySet:
        managed = Supplier.objects.filter(supplier_managed_q(caller_for(self.request)), id=value)
        return queryset.filter(matches__supplier__in=managed).distinct()


class InterestFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=InterestStatus.choices)
    call = django_filters.UUIDFilter(field_name="call_id")
    supplier = django_filters.UUIDFilter(field_name="supplier_id")
    organization = django_filters.UUIDFilter(field_name="organization_id")

    class Meta:
        model = ExpressionOfInterest
        fields = ("status", "call", "supplier", "organization")
