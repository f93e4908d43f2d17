import django_filters

from matching.collaboration.choices import CallKind, CallStatus, InterestStatus
from matching.collaboration.models import CollaborationCall, ExpressionOfInterest


class CallFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CallStatus.choices)
    kind = django_filters.ChoiceFilter(choices=CallKind.choices)
    owner = django_filters.UUIDFilter(field_name="owner_id")
    capability = django_filters.CharFilter(
        field_name="required_capabilities__code", distinct=True, label="A required capability code"
    )
    q = django_filters.CharFilter(method="search", label="Words in the topic or summary")

    class Meta:
        model = CollaborationCall
        fields = ("status", "kind", "owner", "capability", "q")

    def search(self, queryset, name, value):  # type: ignore[no-untyped-def]
        from django.db.models import Q

        return queryset.filter(Q(topic__icontains=value) | Q(summary__icontains=value))


class InterestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InterestStatus.choices)
    call = django_filters.UUIDFilter(field_name="call_id")
    supplier = django_filters.UUIDFilter(field_name="supplier_id")

    class Meta:
        model = ExpressionOfInterest
        fields = ("status", "call", "supplier")
