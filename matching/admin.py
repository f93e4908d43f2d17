"""Operators' views of requests, runs and matches. Writes that have rules (publishing,
transitions) go through the API; the admin is for looking and for requeueing runs."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from matching import runs
from matching.choices import RunTrigger
from matching.models import Match, MatchRun, MatchTransition, NearMiss, ProcurementRequest


@admin.register(ProcurementRequest)
class ProcurementRequestAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "layer", "status", "needed_by", "published_at")
    list_filter = ("status", "layer")
    search_fields = ("title", "description", "owner__name")
    raw_id_fields = ("owner", "created_by")
    filter_horizontal = (
        "required_capabilities",
        "required_certifications",
        "preferred_certifications",
        "grades",
    )
    readonly_fields = ("status", "published_at", "closed_at", "created_at", "updated_at")
    actions = ("queue_match_run",)

    @admin.action(description="Queue a match run for the selected draft or open requests")
    def queue_match_run(self, request: HttpRequest, queryset: QuerySet) -> None:
        queued = 0
        for item in queryset:
            if item.is_editable:
                runs.match_run_create(
                    request=item, trigger=RunTrigger.OPERATOR, triggered_by=request.user
                )
                queued += 1
        self.message_user(request, f"{queued} run(s) queued.", messages.SUCCESS)


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "request",
        "status",
        "trigger",
        "attempts",
        "candidate_count",
        "matched_count",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "trigger")
    raw_id_fields = ("request", "triggered_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MatchTransitionInline(admin.TabularInline):
    model = MatchTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "party", "by_user", "by_organization", "at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ("request", "supplier", "score", "status", "qualifies", "scored_at")
    list_filter = ("status", "qualifies")
    search_fields = ("supplier__legal_name", "request__title")
    raw_id_fields = ("request", "supplier", "run")
    inlines = (MatchTransitionInline,)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NearMiss)
class NearMissAdmin(admin.ModelAdmin):
    list_display = ("request", "supplier", "constraint", "reason")
    list_filter = ("constraint",)
    raw_id_fields = ("request", "supplier")
