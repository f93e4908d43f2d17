import django_filters
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from remag.webhooks.choices import EventType
from remag.webhooks.models import Event


class EventFilterSet(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(
        choices=EventType.choices,
        distinct=False,
        help_text="Only these types (repeat the parameter).",
    )
    since = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="Occurred at or after (ISO 8601)."
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="Occurred before (ISO 8601)."
    )
    after = django_filters.UUIDFilter(
        method="filter_after",
        help_text="Only events after this event (by time, then id): the catch-up point.",
    )

    class Meta:
        model = Event
        fields = ("type", "since", "until", "after")

    def filter_after(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        anchor = queryset.filter(id=value).values_list("occurred_at", "id").first()
        if anchor is None:
            raise ValidationError({"after": ["No such event among yours."]})
        occurred_at, event_id = anchor
        return queryset.filter(
            Q(occurred_at__gt=occurred_at) | Q(occurred_at=occurred_at, id__gt=event_id)
        )
