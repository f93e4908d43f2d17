"""Operators' views of quotations and orders. Read-only: quoting, awarding, deliveries
and payments have rules and go through the API (the parties' decisions, not staff's)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from matching.procurement.models import (
    Delivery,
    Order,
    Payment,
    Quotation,
    QuotationAttachment,
    QuotationRequest,
    QuotationRevision,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class QuotationInline(ReadOnlyInline):
    model = Quotation
    fields = ("supplier", "status", "revision", "unit_price", "quantity", "unit",
              "lead_time_days", "payment_terms_days", "valid_until", "submitted_at")  # fmt: skip
    readonly_fields = fields


@admin.register(QuotationRequest)
class QuotationRequestAdmin(ReadOnlyAdmin):
    list_display = ("request", "status", "deadline", "opened_at", "awarded_at", "created_at")
    list_filter = ("status",)
    search_fields = ("request__title", "request__owner__name")
    raw_id_fields = ("request", "created_by")
    filter_horizontal = ("invited",)
    inlines = (QuotationInline,)


class RevisionInline(ReadOnlyInline):
    model = QuotationRevision
    fields = ("number", "unit_price", "quantity", "unit", "lead_time_days",
              "payment_terms_days", "valid_until", "submitted_at", "by_user")  # fmt: skip
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = QuotationAttachment
    fields = ("filename", "content_type", "size_bytes", "sha256", "created_at")
    readonly_fields = fields


@admin.register(Quotation)
class QuotationAdmin(ReadOnlyAdmin):
    list_display = ("id", "supplier", "quotation_request", "status", "revision", "unit_price",
                    "unit", "submitted_at")  # fmt: skip
    list_filter = ("status", "unit")
    search_fields = ("supplier__legal_name", "quotation_request__request__title")
    raw_id_fields = ("quotation_request", "match", "supplier")
    inlines = (RevisionInline, AttachmentInline)


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ("delivered_on", "quantity_delivered", "quantity_accepted", "quantity_rejected",
              "on_time", "quality_note")  # fmt: skip
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("received_on", "amount", "reference", "created_at")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("id", "buyer", "supplier", "status", "quantity", "unit", "unit_price",
                    "delivery_date", "payment_terms_days", "payment_terms_flag")  # fmt: skip
    list_filter = ("status", "payment_terms_flag", "supplier_micro_small")
    search_fields = ("supplier__legal_name", "buyer__name", "request__title")
    raw_id_fields = ("quotation", "match", "request", "buyer", "supplier")
    inlines = (DeliveryInline, PaymentInline)
