from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from remag.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("type", "occurred_at", "id")
    list_filter = ("type",)
    date_hierarchy = "occurred_at"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "organization", "is_active", "consecutive_failures", "disabled_at")
    list_filter = ("is_active",)
    search_fields = ("url", "organization__name")
    raw_id_fields = ("organization",)
    exclude = ("secret", "previous_secret")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("at", "status_code", "duration_ms", "response_excerpt", "error")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "endpoint", "status", "attempts", "failures", "enqueued_at")
    list_filter = ("status",)
    raw_id_fields = ("event", "endpoint")
    inlines = (DeliveryAttemptInline,)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
