import django_filters

from matching.procurement.choices import OrderStatus, QuotationRequestStatus, QuotationStatus
from matching.procurement.models import Order, Quotation, QuotationRequest
from remag.filtersets import FilterSet


class QuotationRequestFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=QuotationRequestStatus.choices)
    request = django_filters.UUIDFilter(field_name="request_id")

    class Meta:
        model = QuotationRequest
        fields = ("status", "request")


class QuotationFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=QuotationStatus.choices)
    quotation_request = django_filters.UUIDFilter(field_name="quotation_request_id")
    supplier = django_filters.UUIDFilter(field_name="supplier_id")

    class Meta:
        model = Quotation
        fields = ("status", "quotation_request", "supplier")


class OrderFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    request = django_filters.UUIDFilter(field_name="request_id")
    supplier = django_filters.UUIDFilter(field_name="supplier_id")

    class Meta:
        model = Order
        fields = ("status", "request", "supplier")
