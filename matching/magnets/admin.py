"""Operators' views of the magnet market. Offers and requirements are read-only here: their
lifecycles have rules, runs and events, and go through the API. Operators may form pools
and expire offers (actions that call the same services)."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from matching.magnets import pools, runs
from matching.magnets.models import (
    MagnetMatch,
    MagnetNearMiss,
    MagnetOffer,
    MagnetPool,
    MagnetRequirement,
    MagnetRun,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MagnetOffer)
class MagnetOfferAdmin(ReadOnlyAdmin):
    list_display = ("title", "owner", "material", "status", "capacity_per_month",
                    "capacity_unit", "valid_until", "plant_state", "created_at")  # fmt: skip
    list_filter = ("status", "material", "plant_state")
    search_fields = ("title", "owner__name")
    actions = ("expire_ended",)

    @admin.action(description="Expire published offers whose validity has ended")
    def expire_ended(self, request: HttpRequest, queryset: QuerySet[MagnetOffer]) -> None:
        expired = runs.offers_expire()
        self.message_user(request, f"{len(expired)} offers expired.", messages.SUCCESS)


@admin.register(MagnetRequirement)
class MagnetRequirementAdmin(ReadOnlyAdmin):
    list_display = ("title", "owner", "application", "grade", "shape", "quantity_kg_per_month",
                    "duration_months", "delivery_state", "status", "pool")  # fmt: skip
    list_filter = ("status", "material", "application", "shape", "temperature_class",
                   "delivery_state", "pool_opt_in")  # fmt: skip
    search_fields = ("title", "owner__name", "grade")


@admin.register(MagnetPool)
class MagnetPoolAdmin(ReadOnlyAdmin):
    list_display = ("id", "grade", "shape", "coating", "delivery_state",
                    "quantity_kg_per_month", "status", "answered_offer", "created_at")  # fmt: skip
    list_filter = ("status", "material", "shape", "delivery_state")
    actions = ("form_pools",)

    @admin.action(description="Form pools from the requirements eligible now")
    def form_pools(self, request: HttpRequest, queryset: QuerySet[MagnetPool]) -> None:
        formed = pools.pools_form()
        self.message_user(request, f"{len(formed)} pools formed or grown.", messages.SUCCESS)


@admin.register(MagnetRun)
class MagnetRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "direction", "status", "trigger", "candidate_count", "matched_count",
                    "attempts", "created_at", "finished_at")  # fmt: skip
    list_filter = ("status", "direction", "trigger")
    raw_id_fields = ("requirement", "offer", "triggered_by")


@admin.register(MagnetMatch)
class MagnetMatchAdmin(ReadOnlyAdmin):
    list_display = ("requirement", "offer", "score", "status", "qualifies", "outcome",
                    "algorithm_version", "scored_at")  # fmt: skip
    list_filter = ("status", "qualifies", "algorithm_version")
    raw_id_fields = ("requirement", "offer", "run")


@admin.register(MagnetNearMiss)
class MagnetNearMissAdmin(ReadOnlyAdmin):
    list_display = ("requirement", "offer", "constraint", "reason")
    list_filter = ("constraint",)
    raw_id_fields = ("requirement", "offer")
