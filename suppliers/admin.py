from typing import Any

from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from remag.accounts.models import ProfileClaim
from remag.errors import DomainError
from suppliers import claims, services
from suppliers.models import (
    Capability,
    Certification,
    ImportJob,
    ImportRowError,
    MaterialGrade,
    Supplier,
    SupplierCapability,
    SupplierCertificate,
    SupplierGstin,
    SupplierPlant,
)
from suppliers.signals import send_supplier_changed


@admin.register(Capability)
class CapabilityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "layer", "is_active")
    list_filter = ("layer", "is_active")
    search_fields = ("code", "name", "description")


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "edition", "scoped", "category", "is_active")
    list_filter = ("kind", "scoped", "category", "is_active")
    search_fields = ("code", "name", "edition")


@admin.register(MaterialGrade)
class MaterialGradeAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "family",
        "energy_class",
        "temperature_class",
        "max_operating_temp_c",
        "is_active",
    )
    list_filter = ("family", "temperature_class", "is_active")
    search_fields = ("code", "name")


class SupplierCapabilityInline(admin.TabularInline):
    model = SupplierCapability
    extra = 0
    autocomplete_fields = ("capability",)
    fields = (
        "capability",
        "capacity_per_month",
        "capacity_unit",
        "minimum_order",
        "lead_time_days",
    )


class SupplierCertificateInline(admin.TabularInline):
    model = SupplierCertificate
    extra = 0
    autocomplete_fields = ("scope",)
    fields = (
        "certification",
        "certificate_number",
        "issuing_body",
        "valid_from",
        "valid_until",
        "scope",
    )


class SupplierGstinInline(admin.TabularInline):
    """Shown, not edited: the API's services keep every GSTIN on the supplier's PAN and
    unique in the registry, and ``Supplier.gstin`` the first (so it is read-only here)."""

    model = SupplierGstin
    extra = 0
    can_delete = False
    fields = readonly_fields = ("position", "gstin", "state", "label")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SupplierPlantInline(admin.TabularInline):
    """Shown, not edited: the services check a plant offers only the supplier's
    capabilities."""

    model = SupplierPlant
    extra = 0
    can_delete = False
    fields = readonly_fields = ("name", "city", "state", "pin_code", "latitude", "longitude")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = (
        "legal_name",
        "udyam_number",
        "state",
        "enterprise_size",
        "status",
        "is_active",
        "possible_duplicate_of",
        "created_at",
    )
    list_filter = ("status", "is_active", "enterprise_size", "state", "women_owned", "sc_st_owned")
    search_fields = (
        "legal_name",
        "trade_name",
        "udyam_number",
        "pan",
        "gstin",
        "gstins__gstin",
        "pin_code",
    )
    readonly_fields = (
        "gstin",
        "verified_at",
        "verified_by",
        "claimed_at",
        "onboarded_by",
        "possible_duplicate_of",
    )
    raw_id_fields = ("owner",)
    inlines = (
        SupplierCapabilityInline,
        SupplierCertificateInline,
        SupplierGstinInline,
        SupplierPlantInline,
    )
    actions = ("verify", "suspend")
    list_select_related = ("possible_duplicate_of",)
    # Django 6.0's default, chosen now: a website typed without a scheme is https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.action(description="Verify the selected suppliers")
    def verify(self, request: HttpRequest, queryset: QuerySet[Supplier]) -> None:
        for supplier in queryset:
            services.supplier_verify(supplier=supplier, by=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"{queryset.count()} verified.", messages.SUCCESS)

    @admin.action(description="Suspend the selected suppliers")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Supplier]) -> None:
        for supplier in queryset:
            services.supplier_suspend(
                supplier=supplier,
                by=request.user,  # type: ignore[arg-type]
                reason="Suspended by an operator in the admin.",
            )
        self.message_user(request, f"{queryset.count()} suspended.", messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: Supplier) -> None:
        """Deleting a profile changes what its owner's magnet offers are checked against
        (the organisation then has no profile): the change is sent before the row goes,
        naming the owner, as every other path sends it."""
        with transaction.atomic():
            send_supplier_changed(obj.id, "deleted", previous_owner_id=obj.owner_id)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Supplier]) -> None:
        """The changelist's bulk delete: as :meth:`delete_model`, for each profile."""
        with transaction.atomic():
            for supplier_id, owner_id in queryset.values_list("id", "owner_id"):
                send_supplier_changed(supplier_id, "deleted", previous_owner_id=owner_id)
            super().delete_queryset(request, queryset)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """After the profile and its inlines are saved: its search text, and the registry
        change every other path sends (stored list representation, opportunities, the
        owner's magnet offers), naming the previous owner when the form moved it."""
        super().save_related(request, form, formsets, change)
        services.supplier_search_refresh(supplier_ids=[form.instance.id])
        moved = change and "owner" in form.changed_data
        send_supplier_changed(
            form.instance.id,
            "updated" if change else "created",
            previous_owner_id=form.initial.get("owner") if moved else None,
        )


class ImportRowErrorInline(admin.TabularInline):
    model = ImportRowError
    extra = 0
    can_delete = False
    readonly_fields = ("row_number", "field", "message", "value")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "filename",
        "status",
        "created_count",
        "updated_count",
        "failed_count",
        "created_at",
    )
    list_filter = ("status",)
    readonly_fields = tuple(
        f.name for f in ImportJob._meta.fields if f.name not in ("id", "content")
    )
    exclude = ("content",)
    inlines = (ImportRowErrorInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# ------------------------------------------------------------------ claims (issue 13)
# Registered here rather than in remag.accounts, which knows no app: deciding a claim
# hands a supplier profile over (suppliers.claims).


@admin.register(ProfileClaim)
class ProfileClaimAdmin(admin.ModelAdmin):
    list_display = ("profile_id", "organization", "method", "status", "created_at")
    list_filter = ("status", "method")
    search_fields = ("organization__name", "profile_id")
    readonly_fields = tuple(
        f.name for f in ProfileClaim._meta.fields if f.name not in ("id", "code_hash")
    )
    exclude = ("code_hash",)
    actions = ("approve", "reject")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[ProfileClaim], approve: bool
    ) -> None:
        done = 0
        for claim in queryset:
            try:
                claims.claim_decide(claim=claim, approve=approve, decided_by=request.user)  # type: ignore[arg-type]
            except DomainError as exc:
                self.message_user(request, f"{claim}: {exc.detail}", messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"{done} claim(s) {'approved' if approve else 'rejected'}.")

    @admin.action(description="Approve: the claiming SME gets the profile")
    def approve(self, request: HttpRequest, queryset: QuerySet[ProfileClaim]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected claims")
    def reject(self, request: HttpRequest, queryset: QuerySet[ProfileClaim]) -> None:
        self._decide(request, queryset, approve=False)
