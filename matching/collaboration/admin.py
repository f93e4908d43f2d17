"""Operators' views of calls for collaboration. Calls can be corrected (topic, texts; never
their status, which moves only through the API's lifecycle and its events); runs,
matches, acknowledgements and interests are read-only: they are the parties' decisions
and the worker's results."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from matching.collaboration.models import (
    CallMatch,
    CallNearMiss,
    CallRun,
    CollaborationCall,
    ExpressionOfInterest,
    NdaAcknowledgement,
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


class CallMatchInline(ReadOnlyInline):
    model = CallMatch
    fields = ("rank", "supplier", "score", "algorithm_version")
    readonly_fields = fields
    raw_id_fields = ("supplier",)


class InterestInline(ReadOnlyInline):
    model = ExpressionOfInterest
    fields = ("supplier", "organization", "status", "submitted_at", "contact_shared_at")
    readonly_fields = fields


@admin.register(CollaborationCall)
class CollaborationCallAdmin(admin.ModelAdmin):
    list_display = ("topic", "kind", "owner", "status", "requires_nda", "created_at")
    list_filter = ("status", "kind", "requires_nda")
    search_fields = ("topic", "summary", "owner__name")
    raw_id_fields = ("owner", "created_by")
    filter_horizontal = ("required_capabilities", "required_facilities", "preferred_facilities")
    # The status moves only through the API's lifecycle (open, close, cancel, select),
    # which emits its events and queues its runs: never edited here.
    readonly_fields = ("status", "opened_at", "closed_at", "created_at", "updated_at")
    inlines = (CallMatchInline, InterestInline)


@admin.register(CallRun)
class CallRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "call", "status", "trigger", "matched_count", "created_at")
    list_filter = ("status",)


@admin.register(CallNearMiss)
class CallNearMissAdmin(ReadOnlyAdmin):
    list_display = ("call", "supplier", "constraint", "reason")


@admin.register(NdaAcknowledgement)
class NdaAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ("call", "organization", "by_user", "acknowledged_at")


@admin.register(ExpressionOfInterest)
class ExpressionOfInterestAdmin(ReadOnlyAdmin):
    list_display = (
        "call",
        "supplier",
        "organization",
        "status",
        "submitted_at",
        "contact_shared_at",
    )
    list_filter = ("status",)
