from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from rest_framework_api_key.models import APIKey

from remag.accounts.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    User,
    UserToken,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    # Operators may verify an address by hand (a person whose mail never arrives).
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Onboarding", {"fields": ("email_verified_at",)}),
    )
    list_display = (*DjangoUserAdmin.list_display, "email_verified_at")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    inlines = (MembershipInline,)


class _HashedKeyAdmin(admin.ModelAdmin):
    """Keys are created through the API (which shows the key once); here they are
    listed, inspected and revoked."""

    readonly_fields = ("prefix", "public_id", "created", "last_used_at")
    search_fields = ("name", "prefix")
    actions = ("revoke",)

    def has_add_permission(self, request: object) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: object, queryset: object) -> None:
        queryset.update(revoked=True)  # type: ignore[attr-defined]


@admin.register(OrganizationAPIKey)
class OrganizationAPIKeyAdmin(_HashedKeyAdmin):
    list_display = ("name", "prefix", "organization", "scopes", "revoked", "expiry_date")
    list_filter = ("revoked",)
    fields = (
        "name",
        "organization",
        "scopes",
        "expiry_date",
        "revoked",
        *_HashedKeyAdmin.readonly_fields,
    )
    readonly_fields = (*_HashedKeyAdmin.readonly_fields, "organization", "scopes")


@admin.register(UserToken)
class UserTokenAdmin(_HashedKeyAdmin):
    list_display = ("name", "prefix", "user", "revoked", "expiry_date")
    list_filter = ("revoked",)
    fields = ("name", "user", "expiry_date", "revoked", *_HashedKeyAdmin.readonly_fields)
    readonly_fields = (*_HashedKeyAdmin.readonly_fields, "user")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are sent through the API (the token is emailed, stored hashed); here
    operators follow them and withdraw one."""

    list_display = ("email", "organization", "role", "status", "expires_at", "created_at")
    list_filter = ("role",)
    search_fields = ("email", "organization__name")
    readonly_fields = (
        "organization",
        "email",
        "role",
        "invited_by",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )
    exclude = ("token_hash",)

    def has_add_permission(self, request: object) -> bool:
        return False


# The library's own concrete APIKey belongs to no organisation; remag never uses it.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)
